// The WASM path's overlay blend: the same definition as `blendHeatmapOnto` (reference.ts, the oracle), written
// for speed. The map is interpolated along x once per map row (G × width values), so a pixel costs one vertical
// lerp, one colour-table lerp and the blend; colours are pre-scaled by the opacity (+ 0.5 for rounding); a pixel
// is read and written as one 32-bit word; opaque photo pixels (the usual case) skip the composite over white.
// Within 1 of 255 per channel of the reference, rounding as it does (test/engine/render/blendFast.test.ts).
import type { DrawOptions } from '../types';
import { colorMapLut, LUT_ENTRIES } from './colorMaps';
import { validateRenderInputs } from './reference';
import type { PixelImage } from './types';

// The small tables are plain arrays filled in order (packed numbers on V8's heap, no buffers to allocate per
// draw): the 448² blend took 2.15 ms with them against 2.9 ms with typed arrays in headless Chromium.

/** Bilinear source index and weight for each output index (output pixel centres, clamped to the edges). */
function axis(outSize: number, count: number): { lower: number[]; upper: number[]; weight: number[] } {
  const lower: number[] = [];
  const upper: number[] = [];
  const weight: number[] = [];
  for (let x = 0; x < outSize; x++) {
    const s = Math.min(Math.max(((x + 0.5) * count) / outSize - 0.5, 0), count - 1);
    const i0 = Math.floor(s);
    lower.push(i0);
    upper.push(Math.min(i0 + 1, count - 1));
    weight.push(s - i0);
  }
  return { lower, upper, weight };
}

/** Per entry and channel: colour × opacity + 0.5 (so truncation rounds) and the slope to the next entry, interleaved. */
function scaledTable(lut: Uint8Array, opacity: number): number[] {
  const table: number[] = [];
  for (let i = 0; i < LUT_ENTRIES; i++) {
    const next = Math.min(i + 1, LUT_ENTRIES - 1);
    for (let c = 0; c < 3; c++) table.push(lut[i * 4 + c]! * opacity + 0.5, (lut[next * 4 + c]! - lut[i * 4 + c]!) * opacity);
  }
  return table;
}

/** Bit offsets of R, G, B, A inside a pixel read as one 32-bit word on this machine. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const [R, G, B, A] = LITTLE_ENDIAN ? [0, 8, 16, 24] : [24, 16, 8, 0];

/** 32-bit words over RGBA bytes, or over an aligned copy (an ImageData is aligned; a view into another buffer may not be). */
function wordsOf(bytes: Uint8ClampedArray, count: number): { words: Uint32Array; aligned: Uint8ClampedArray } {
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : new Uint8ClampedArray(bytes);
  return { words: new Uint32Array(aligned.buffer, aligned.byteOffset, count), aligned };
}

/**
 * Blends the coloured, upsampled map over a photo already at output size, into `pixels`. The photo is `pixels`
 * itself (in place), or `photo` (RGBA, same size, left unchanged): a kept scaled photo is then blended straight
 * into the output, without first copying it there.
 */
export function blendHeatmapOntoFast(pixels: PixelImage, values: Float32Array, gridSize: number, options: DrawOptions, photo?: Uint8ClampedArray): void {
  validateRenderInputs(values, gridSize, options);
  const { width, height, data } = pixels;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`heatmap: output size must be positive integers, got ${width}×${height}`);
  }
  if (data.length !== width * height * 4) throw new RangeError(`heatmap: ${data.length} bytes for a ${width}×${height} RGBA image`);
  if (photo && photo.length !== data.length) throw new RangeError(`heatmap: a ${photo.length}-byte photo for a ${width}×${height} RGBA image`);
  const { words, aligned } = wordsOf(data, width * height);
  const source = photo ? wordsOf(photo, width * height).words : words;
  const table = scaledTable(colorMapLut(options.colorMap), options.opacity);
  const keep = 1 - options.opacity;
  const rows = axis(height, gridSize);
  // The map interpolated along x, for every map row: alongX[g · width + x].
  const columns = axis(width, gridSize);
  const alongX: number[] = [];
  for (let g = 0; g < gridSize; g++) {
    const row = g * gridSize;
    for (let x = 0; x < width; x++) {
      const fx = columns.weight[x]!;
      alongX.push(values[row + columns.lower[x]!]! * (1 - fx) + values[row + columns.upper[x]!]! * fx);
    }
  }
  const top = LUT_ENTRIES - 1;
  const opaque = 255 << A;
  for (let y = 0; y < height; y++) {
    const upper = rows.lower[y]! * width;
    const lower = rows.upper[y]! * width;
    const fy = rows.weight[y]!;
    const gy = 1 - fy;
    let at = y * width;
    for (let x = 0; x < width; x++, at++) {
      let v = alongX[upper + x]! * gy + alongX[lower + x]! * fy;
      v = v < 0 ? 0 : v > 1 ? 1 : v;
      const p = v * top;
      const i0 = p | 0;
      const f = p - i0;
      const k = i0 * 6;
      const word = source[at]!;
      let r = (word >>> R) & 255;
      let g = (word >>> G) & 255;
      let b = (word >>> B) & 255;
      const alpha = (word >>> A) & 255;
      if (alpha !== 255) {
        // Composite over white first: photo·a + 255·(1 − a).
        const a = alpha / 255;
        const white = 255 * (1 - a);
        r = r * a + white;
        g = g * a + white;
        b = b * a + white;
      }
      // Each sum is in [0.5, 255.5]: truncation is Math.round (a Uint8ClampedArray store would round ties to even).
      words[at] = ((r * keep + table[k]! + f * table[k + 1]!) << R) | ((g * keep + table[k + 2]! + f * table[k + 3]!) << G)
        | ((b * keep + table[k + 4]! + f * table[k + 5]!) << B) | opaque;
    }
  }
  if (aligned !== data) data.set(aligned);
}
