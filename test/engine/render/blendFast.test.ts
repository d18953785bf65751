// The WASM path's fast overlay blend against the reference blend (reference.ts stays the oracle).
// Tolerance: every channel within 1 of 255, alpha always 255, and at most 2 % of channels off by 1. The off-by-ones
// are values that land on a rounding tie (x.5) in exact arithmetic, which each side's float order rounds its own
// way: most at opacity 0.5, where half of every odd photo byte is such a tie (~1.2 %; ~0.1–0.5 % at other opacities).
import { describe, expect, test } from 'vitest';
import { blendHeatmapOnto, COLOR_MAPS, type PixelImage } from '../../../src/engine/render';
import { blendHeatmapOntoFast } from '../../../src/engine/render/blendFast';
import { seededRandom } from '../explain/randomTensors';

function randomPhoto(width: number, height: number, seed: number, opaque: boolean): PixelImage {
  const random = seededRandom(seed);
  const data = new Uint8ClampedArray(width * height * 4).map((_, i) => (opaque && i % 4 === 3 ? 255 : Math.floor(random() * 256)));
  return { width, height, data };
}

function randomMap(gridSize: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  // Some values outside [0, 1] too: both sides clamp after upsampling.
  return Float32Array.from({ length: gridSize * gridSize }, () => random() * 1.2 - 0.1);
}

function compare(width: number, height: number, gridSize: number, opaque: boolean, colorMap: (typeof COLOR_MAPS)[number], opacity: number, seed: number) {
  const photo = randomPhoto(width, height, seed, opaque);
  const values = randomMap(gridSize, seed + 1);
  const ref = { ...photo, data: new Uint8ClampedArray(photo.data) };
  const fast = { ...photo, data: new Uint8ClampedArray(photo.data) };
  blendHeatmapOnto(ref, values, gridSize, { colorMap, opacity });
  blendHeatmapOntoFast(fast, values, gridSize, { colorMap, opacity });
  let maxDiff = 0;
  let off = 0;
  let notOpaque = 0;
  for (let i = 0; i < ref.data.length; i++) {
    const d = Math.abs(ref.data[i]! - fast.data[i]!);
    maxDiff = Math.max(maxDiff, d);
    if (d > 0) off++;
    if (i % 4 === 3 && fast.data[i] !== 255) notOpaque++;
  }
  return { maxDiff, offShare: off / ref.data.length, notOpaque };
}

describe('blendHeatmapOntoFast matches blendHeatmapOnto', () => {
  const cases: [number, number, number, boolean][] = [
    [448, 448, 14, true], // the bench canvas and DeiT-tiny's map
    [301, 173, 14, true], // odd sizes, wider than tall
    [97, 211, 7, false], // photo with alpha: composited over white
    [5, 3, 14, true], // smaller than the map
    [1, 1, 1, true],
  ];
  for (const [width, height, grid, opaque] of cases) {
    for (const colorMap of COLOR_MAPS) {
      for (const opacity of [0, 0.35, 0.5, 1]) {
        test(`${width}×${height}, G ${grid}, ${opaque ? 'opaque' : 'with alpha'}, ${colorMap}, opacity ${opacity}`, () => {
          const { maxDiff, offShare, notOpaque } = compare(width, height, grid, opaque, colorMap, opacity, width * 7 + height);
          expect(maxDiff).toBeLessThanOrEqual(1);
          expect(offShare).toBeLessThanOrEqual(0.02);
          expect(notOpaque).toBe(0);
        });
      }
    }
  }
});

test('refuses what the reference refuses', () => {
  const photo = randomPhoto(4, 4, 1, true);
  expect(() => blendHeatmapOntoFast(photo, new Float32Array(3), 2, { colorMap: 'jet', opacity: 0.5 })).toThrow(/gridSize²/);
  expect(() => blendHeatmapOntoFast(photo, new Float32Array(4), 2, { colorMap: 'jet', opacity: 1.5 })).toThrow(/opacity/);
  expect(() => blendHeatmapOntoFast(photo, new Float32Array(4), 2, { colorMap: 'plasma' as 'jet', opacity: 0.5 })).toThrow(/colour map/);
});

/** How many bytes differ (a loop: vitest's deep equality takes seconds per 800 kB array). */
function bytesDiffering(a: Uint8ClampedArray, b: Uint8ClampedArray): number {
  if (a.length !== b.length) return Math.max(a.length, b.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

test('blending from a separate photo gives the in-place result and leaves the photo unchanged', () => {
  for (const [width, height, opaque] of [[448, 448, true], [97, 211, false]] as const) {
    const photo = randomPhoto(width, height, width + 3, opaque);
    const values = randomMap(14, 11);
    const options = { colorMap: 'turbo' as const, opacity: 0.5 };
    const inPlace = { ...photo, data: new Uint8ClampedArray(photo.data) };
    blendHeatmapOntoFast(inPlace, values, 14, options);
    const kept = new Uint8ClampedArray(photo.data);
    const out = { width, height, data: new Uint8ClampedArray(width * height * 4) };
    blendHeatmapOntoFast(out, values, 14, options, kept);
    expect(bytesDiffering(out.data, inPlace.data)).toBe(0);
    expect(bytesDiffering(kept, photo.data)).toBe(0);
    // Unaligned views of either side take the same path through an aligned copy.
    const shifted = new Uint8ClampedArray(kept.length + 1);
    shifted.set(kept, 1);
    const out2 = { width, height, data: new Uint8ClampedArray(width * height * 4) };
    blendHeatmapOntoFast(out2, values, 14, options, shifted.subarray(1));
    expect(bytesDiffering(out2.data, inPlace.data)).toBe(0);
  }
  const out = { width: 4, height: 4, data: new Uint8ClampedArray(64) };
  expect(() => blendHeatmapOntoFast(out, new Float32Array(4), 2, { colorMap: 'jet', opacity: 0.5 }, new Uint8ClampedArray(60))).toThrow(/60-byte photo/);
});
