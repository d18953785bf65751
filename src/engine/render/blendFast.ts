// The WASM path's overlay blend: the same definition as `blendHeatmapOnto` (reference.ts, the oracle), written
// for speed. Per output row the map is interpolated vertically once (G values), so a pixel costs one horizontal
// lerp, one colour-table lerp and the blend; colours are pre-scaled by the opacity; opaque photo pixels (the
// usual case) skip the composite over white. Within 1 of 255 per channel of the reference, rounding as it does
// (test/engine/render/blendFast.test.ts).
import type { DrawOptions } from '../types';
import { colorMapLut, LUT_ENTRIES } from './colorMaps';
import { validateRenderInputs } from './reference';
import type { PixelImage } from './types';

/** Bilinear source index and weight for each output index (output pixel centres, clamped to the edges). */
function axis(outSize: number, count: number): { lower: Int32Array; upper: Int32Array; weight: Float64Array } {
  const lower = new Int32Array(outSize);
  const upper = new Int32Array(outSize);
  const weight = new Float64Array(outSize);
  for (let x = 0; x < outSize; x++) {
    const s = Math.min(Math.max(((x + 0.5) * count) / outSize - 0.5, 0), count - 1);
    const i0 = Math.floor(s);
    lower[x] = i0;
    upper[x] = Math.min(i0 + 1, count - 1);
    weight[x] = s - i0;
  }
  return { lower, upper, weight };
}

/** Colour table × opacity, and its per-entry slope, per channel (so a lookup is base + f·slope). */
function scaledTable(lut: Uint8Array, opacity: number): { base: Float64Array; slope: Float64Array } {
  const base = new Float64Array(LUT_ENTRIES * 3);
  const slope = new Float64Array(LUT_ENTRIES * 3);
  for (let i = 0; i < LUT_ENTRIES; i++) {
    const next = Math.min(i + 1, LUT_ENTRIES - 1);
    for (let c = 0; c < 3; c++) {
      base[i * 3 + c] = lut[i * 4 + c]! * opacity;
      slope[i * 3 + c] = (lut[next * 4 + c]! - lut[i * 4 + c]!) * opacity;
    }
  }
  return { base, slope };
}

/** Blends the coloured, upsampled map over `pixels` (a photo already at output size), in place. */
export function blendHeatmapOntoFast(pixels: PixelImage, values: Float32Array, gridSize: number, options: DrawOptions): void {
  validateRenderInputs(values, gridSize, options);
  const { width, height, data } = pixels;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`heatmap: output size must be positive integers, got ${width}×${height}`);
  }
  const { base, slope } = scaledTable(colorMapLut(options.colorMap), options.opacity);
  const keep = 1 - options.opacity;
  const columns = axis(width, gridSize);
  const rows = axis(height, gridSize);
  const { lower: x0s, upper: x1s, weight: fxs } = columns;
  const line = new Float64Array(gridSize);
  const top = LUT_ENTRIES - 1;
  for (let y = 0; y < height; y++) {
    const r0 = rows.lower[y]! * gridSize;
    const r1 = rows.upper[y]! * gridSize;
    const fy = rows.weight[y]!;
    for (let g = 0; g < gridSize; g++) line[g] = values[r0 + g]! * (1 - fy) + values[r1 + g]! * fy;
    let at = y * width * 4;
    for (let x = 0; x < width; x++, at += 4) {
      const fx = fxs[x]!;
      let v = line[x0s[x]!]! * (1 - fx) + line[x1s[x]!]! * fx;
      v = v < 0 ? 0 : v > 1 ? 1 : v;
      const p = v * top;
      const i0 = p | 0;
      const f = p - i0;
      const k = i0 * 3;
      const alpha = data[at + 3]!;
      if (alpha === 255) {
        // (x + 0.5) | 0 is Math.round for x ≥ 0 (a bare Uint8ClampedArray store would round ties to even).
        data[at] = (data[at]! * keep + base[k]! + f * slope[k]! + 0.5) | 0;
        data[at + 1] = (data[at + 1]! * keep + base[k + 1]! + f * slope[k + 1]! + 0.5) | 0;
        data[at + 2] = (data[at + 2]! * keep + base[k + 2]! + f * slope[k + 2]! + 0.5) | 0;
      } else {
        // Composite over white first: photo·a + 255·(1 − a).
        const a = alpha / 255;
        const white = 255 * (1 - a);
        data[at] = ((data[at]! * a + white) * keep + base[k]! + f * slope[k]! + 0.5) | 0;
        data[at + 1] = ((data[at + 1]! * a + white) * keep + base[k + 1]! + f * slope[k + 1]! + 0.5) | 0;
        data[at + 2] = ((data[at + 2]! * a + white) * keep + base[k + 2]! + f * slope[k + 2]! + 0.5) | 0;
        data[at + 3] = 255;
      }
    }
  }
}
