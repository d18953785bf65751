// Degraded copies of a photo for the photo-quality evaluation (npm run eval:quality): exposure changed in
// linear light (as a camera would), a Gaussian blur, or the photo shrunk into a larger background. Pure
// functions on RGBA8 (row-major), so they are tested in Node and run unchanged in the bench page.
import { seededRandom } from '../../test/engine/explain/randomTensors';

export type DegradationKind = 'darkened' | 'overexposed' | 'blurred' | 'leaf-shrunk';

export interface Degradation {
  kind: DegradationKind;
  /** darkened / overexposed: exposure change in stops (EV); blurred: σ as a fraction of the short side;
   * leaf-shrunk: the photo's side as a fraction of the new frame's side. */
  level: number;
  /** leaf-shrunk only: what the leaf is placed on. */
  background?: BackgroundKind;
  /** Human label for the tables. */
  name: string;
}

export type BackgroundKind = 'soil' | 'concrete' | 'sky';

/** The degradations the evaluation applies to every val photo (two or three strengths each). */
export const DEGRADATIONS: Degradation[] = [
  { kind: 'darkened', level: -2, name: 'darkened 2 stops' },
  { kind: 'darkened', level: -3, name: 'darkened 3 stops' },
  { kind: 'overexposed', level: 1.5, name: 'over-exposed 1.5 stops' },
  { kind: 'overexposed', level: 2.5, name: 'over-exposed 2.5 stops' },
  { kind: 'blurred', level: 0.005, name: 'blurred σ = 0.5 % of side' },
  { kind: 'blurred', level: 0.01, name: 'blurred σ = 1 % of side' },
  { kind: 'leaf-shrunk', level: 0.5, background: 'soil', name: 'leaf at 1/2 size on soil' },
  { kind: 'leaf-shrunk', level: 0.35, background: 'soil', name: 'leaf at 0.35 size on soil' },
  { kind: 'leaf-shrunk', level: 0.35, background: 'concrete', name: 'leaf at 0.35 size on concrete' },
  { kind: 'leaf-shrunk', level: 0.35, background: 'sky', name: 'leaf at 0.35 size against sky' },
];

/** The issue each kind of degradation should raise. */
export const EXPECTED_ISSUE = {
  darkened: 'too-dark',
  overexposed: 'overexposed',
  blurred: 'blurred',
  'leaf-shrunk': 'leaf-too-small',
} as const;

export interface Rgba {
  data: Uint8ClampedArray;
  width: number;
  height: number;
}

function toLinear(v: number): number {
  const c = v / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

function toSrgb(linear: number): number {
  const c = Math.min(1, Math.max(0, linear));
  return 255 * (c <= 0.0031308 ? c * 12.92 : 1.055 * c ** (1 / 2.4) - 0.055);
}

/** Exposure changed by `stops` EV in linear light, clipped at white (what a sensor does). */
export function exposed(image: Rgba, stops: number): Rgba {
  const gain = 2 ** stops;
  const lut = new Uint8ClampedArray(256);
  for (let v = 0; v < 256; v++) lut[v] = Math.round(toSrgb(toLinear(v) * gain));
  const data = new Uint8ClampedArray(image.data.length);
  for (let i = 0; i < data.length; i++) data[i] = (i & 3) === 3 ? image.data[i]! : lut[image.data[i]!]!;
  return { data, width: image.width, height: image.height };
}

/** Separable Gaussian blur (σ in pixels; edges clamp), alpha kept. */
export function blurred(image: Rgba, sigma: number): Rgba {
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const kernel = new Float64Array(2 * radius + 1);
  let total = 0;
  for (let k = -radius; k <= radius; k++) total += kernel[k + radius] = Math.exp(-(k * k) / (2 * sigma * sigma));
  for (let k = 0; k < kernel.length; k++) kernel[k]! /= total;
  const { width, height } = image;
  const pass = (src: Float64Array, horizontal: boolean): Float64Array => {
    const out = new Float64Array(src.length);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        for (let c = 0; c < 3; c++) {
          let sum = 0;
          for (let k = -radius; k <= radius; k++) {
            const xx = horizontal ? Math.min(width - 1, Math.max(0, x + k)) : x;
            const yy = horizontal ? y : Math.min(height - 1, Math.max(0, y + k));
            sum += kernel[k + radius]! * src[4 * (yy * width + xx) + c]!;
          }
          out[4 * (y * width + x) + c] = sum;
        }
      }
    }
    return out;
  };
  const source = Float64Array.from(image.data);
  const result = pass(pass(source, true), false);
  const data = new Uint8ClampedArray(image.data.length);
  for (let i = 0; i < data.length; i++) data[i] = (i & 3) === 3 ? image.data[i]! : Math.round(result[i]!);
  return { data, width, height };
}

/** A deterministic background texture: brown soil with grain, grey concrete, or a pale sky gradient. */
export function background(kind: BackgroundKind, width: number, height: number, seed = 1): Rgba {
  const random = seededRandom(seed);
  const data = new Uint8ClampedArray(4 * width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = 4 * (y * width + x);
      const grain = (random() + random() + random() - 1.5) * 2; // roughly N(0, 1)
      let rgb: [number, number, number];
      if (kind === 'soil') rgb = [118 + 20 * grain, 92 + 17 * grain, 68 + 14 * grain];
      else if (kind === 'concrete') rgb = [138 + 14 * grain, 137 + 14 * grain, 133 + 14 * grain];
      else {
        const t = y / Math.max(1, height - 1);
        rgb = [150 + 60 * (1 - t) + 3 * grain, 180 + 50 * (1 - t) + 3 * grain, 225 + 25 * (1 - t) + 3 * grain];
      }
      data[o] = rgb[0];
      data[o + 1] = rgb[1];
      data[o + 2] = rgb[2];
      data[o + 3] = 255;
    }
  }
  return { data, width, height };
}

/** The photo's short side in pixels: blur σ is relative to it. */
export function blurSigma(image: { width: number; height: number }, level: number): number {
  return level * Math.min(image.width, image.height);
}

/** The photo scaled to `level` of its size (box filter) and centred on a background of the original size:
 * the same leaf, photographed from further away. */
export function shrunkInto(image: Rgba, level: number, kind: BackgroundKind, seed = 1): Rgba {
  const { width, height } = image;
  const out = background(kind, width, height, seed);
  const w = Math.max(1, Math.round(width * level));
  const h = Math.max(1, Math.round(height * level));
  const left = Math.floor((width - w) / 2);
  const top = Math.floor((height - h) / 2);
  for (let v = 0; v < h; v++) {
    const y0 = Math.floor((v * height) / h);
    const y1 = Math.max(y0 + 1, Math.floor(((v + 1) * height) / h));
    for (let u = 0; u < w; u++) {
      const x0 = Math.floor((u * width) / w);
      const x1 = Math.max(x0 + 1, Math.floor(((u + 1) * width) / w));
      const sum = [0, 0, 0];
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) for (let c = 0; c < 3; c++) sum[c]! += image.data[4 * (y * width + x) + c]!;
      const n = (y1 - y0) * (x1 - x0);
      const o = 4 * ((top + v) * width + left + u);
      for (let c = 0; c < 3; c++) out.data[o + c] = Math.round(sum[c]! / n);
    }
  }
  return out;
}

/** Applies one degradation. */
export function degrade(image: Rgba, d: Degradation, seed = 1): Rgba {
  switch (d.kind) {
    case 'darkened':
    case 'overexposed':
      return exposed(image, d.level);
    case 'blurred':
      return blurred(image, blurSigma(image, d.level));
    case 'leaf-shrunk':
      return shrunkInto(image, d.level, d.background ?? 'soil', seed);
  }
}
