// Is this photo good enough to judge? Measured on the model's own input (the centre square, S×S, RGB in
// [0,1], planar): what the model cannot see does not matter, and it costs no extra decode or resize.
// Each measure is one number; each issue is that number past a threshold, set from the 1,037 *training* photos
// (their percentiles: docs/bench/eval-quality.json): brightness 0.40 (train minimum 0.46), clipped 12 % (train
// 99.5th percentile 7 %), sharpness 0.03 (train 0.5th percentile 0.10), leaf share 10 % (train 1st percentile:
// about 1 % of the training photos really are leaves small in a wide field shot). `npm run eval:quality`
// reports false alarms on the val photos and detection on degraded copies of them.
import type { PhotoQuality, PhotoQualityIssue } from '../types';

export interface QualityThresholds {
  /** too-dark when the 95th percentile of luma is below this: even the brightest parts are dim. */
  minBrightLuma: number;
  /** overexposed when more than this share of pixels has a channel at (or next to) full scale. */
  maxClippedShare: number;
  /** blurred when var(Laplacian of luma) / var(luma) is below this (contrast-free, so dark photos are not "blurred"). */
  minSharpness: number;
  /** leaf-too-small when less than this share of the pixels is leaf-green. */
  minLeafShare: number;
}

export const QUALITY_THRESHOLDS: QualityThresholds = {
  minBrightLuma: 0.4,
  maxClippedShare: 0.12,
  minSharpness: 0.03,
  minLeafShare: 0.1,
};

/** A channel at or above this counts as clipped (JPEG ringing keeps blown highlights just under 1). */
const CLIP_LEVEL = 0.98;
/** Leaf green in HSV: yellow-green to blue-green, not grey, not black. Brown soil (hue ≈ 20–40°) is not leaf. */
const LEAF_HUE_MIN = 55;
const LEAF_HUE_MAX = 160;
const LEAF_MIN_SATURATION = 0.2;
const LEAF_MIN_VALUE = 0.12;
/** Below this luma variance (std under one 8-bit level) a photo has no detail at all; it floors the sharpness denominator. */
const MIN_LUMA_VARIANCE = 1e-5;

/** Rec. 601 luma of an sRGB pixel. */
function luma(r: number, g: number, b: number): number {
  return 0.299 * r + 0.587 * g + 0.114 * b;
}

export function isLeafGreen(r: number, g: number, b: number): boolean {
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const delta = max - min;
  if (max < LEAF_MIN_VALUE || delta <= 0 || delta / max < LEAF_MIN_SATURATION) return false;
  let hue: number;
  if (max === r) hue = ((((g - b) / delta) % 6) + 6) % 6;
  else if (max === g) hue = (b - r) / delta + 2;
  else hue = (r - g) / delta + 4;
  hue *= 60;
  return hue >= LEAF_HUE_MIN && hue <= LEAF_HUE_MAX;
}

/** The four measures of an S×S planar RGB image in [0,1] (the engine's `pixels`, without the batch axis). */
export function measurePhotoQuality(pixels: Float32Array, size: number): Omit<PhotoQuality, 'issues'> {
  const plane = size * size;
  if (size < 3 || pixels.length < 3 * plane) throw new RangeError(`quality: need 3×${size}×${size} pixels, got ${pixels.length}`);
  const y = new Float32Array(plane);
  const histogram = new Uint32Array(256);
  let clipped = 0;
  let leaf = 0;
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < plane; i++) {
    const r = pixels[i]!;
    const g = pixels[plane + i]!;
    const b = pixels[2 * plane + i]!;
    const v = luma(r, g, b);
    y[i] = v;
    sum += v;
    sumSq += v * v;
    histogram[Math.min(255, Math.max(0, Math.round(v * 255)))]! += 1;
    if (Math.max(r, g, b) >= CLIP_LEVEL) clipped++;
    if (isLeafGreen(r, g, b)) leaf++;
  }
  // 95th percentile of luma from the histogram (1/255 resolution is plenty for a threshold of 0.4).
  const rank = Math.ceil(0.95 * plane);
  let seen = 0;
  let brightLuma = 1;
  for (let level = 0; level < 256; level++) {
    seen += histogram[level]!;
    if (seen >= rank) { brightLuma = level / 255; break; }
  }
  // 4-neighbour Laplacian over the interior.
  let lapSum = 0;
  let lapSq = 0;
  let count = 0;
  for (let row = 1; row < size - 1; row++) {
    for (let col = 1; col < size - 1; col++) {
      const i = row * size + col;
      const lap = 4 * y[i]! - y[i - 1]! - y[i + 1]! - y[i - size]! - y[i + size]!;
      lapSum += lap;
      lapSq += lap * lap;
      count++;
    }
  }
  const lapVariance = lapSq / count - (lapSum / count) ** 2;
  const mean = sum / plane;
  const lumaVariance = Math.max(MIN_LUMA_VARIANCE, sumSq / plane - mean * mean);
  return {
    brightLuma,
    clippedShare: clipped / plane,
    sharpness: Math.max(0, lapVariance) / lumaVariance,
    leafShare: leaf / plane,
  };
}

/** The issues the measures show, in the order a retake should fix them (light first, then framing, then focus). */
export function qualityIssues(measures: Omit<PhotoQuality, 'issues'>, thresholds: QualityThresholds = QUALITY_THRESHOLDS): PhotoQualityIssue[] {
  const issues: PhotoQualityIssue[] = [];
  if (measures.brightLuma < thresholds.minBrightLuma) issues.push('too-dark');
  if (measures.clippedShare > thresholds.maxClippedShare) issues.push('overexposed');
  if (measures.leafShare < thresholds.minLeafShare) issues.push('leaf-too-small');
  if (measures.sharpness < thresholds.minSharpness) issues.push('blurred');
  return issues;
}

export function assessPhotoQuality(pixels: Float32Array, size: number, thresholds: QualityThresholds = QUALITY_THRESHOLDS): PhotoQuality {
  const measures = measurePhotoQuality(pixels, size);
  return { issues: qualityIssues(measures, thresholds), ...measures };
}
