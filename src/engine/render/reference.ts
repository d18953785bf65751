// Plain TypeScript reference of shaders/heatmapOverlay.wgsl, also the WASM path's blend (canvas2d.ts).
// Definitions (both sides):
// - output pixel (x, y) of W×H samples at its centre: source coordinate s = (x + 0.5)·size/W − 0.5, clamped to
//   the edge, bilinear between the 4 nearest samples (map cells, or photo texels inside photoRect);
// - the map value (clamped to [0, 1]) indexes the 256-entry colour table, interpolating between entries;
// - photo pixels with alpha are composited over white; out = photo·(1 − opacity) + colour·opacity, opaque.
import type { DrawOptions } from '../types';
import { COLOR_MAPS, colorMapLut, LUT_ENTRIES } from './colorMaps';
import type { PixelImage, RenderOptions, SourceRect } from './types';

/** Throws a RangeError naming the bad argument. */
export function validateRenderInputs(values: Float32Array, gridSize: number, options: DrawOptions): void {
  if (!Number.isInteger(gridSize) || gridSize < 1) throw new RangeError(`heatmap: gridSize must be a positive integer, got ${gridSize}`);
  if (values.length !== gridSize * gridSize) {
    throw new RangeError(`heatmap: the map has ${values.length} values, expected gridSize² = ${gridSize * gridSize}`);
  }
  if (!COLOR_MAPS.includes(options.colorMap)) {
    throw new RangeError(`heatmap: unknown colour map "${String(options.colorMap)}" (expected one of ${COLOR_MAPS.join(', ')})`);
  }
  if (!Number.isFinite(options.opacity) || options.opacity < 0 || options.opacity > 1) {
    throw new RangeError(`heatmap: opacity must be in [0, 1], got ${options.opacity}`);
  }
}

function validateSize(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`heatmap: output size must be positive integers, got ${width}×${height}`);
  }
}

/** Bilinear source position of output index `x` of `outSize` over `[start, start + extent)` of a `count`-sample axis. */
function axis(x: number, outSize: number, start: number, extent: number, count: number): [number, number, number] {
  const s = Math.min(Math.max(start + ((x + 0.5) * extent) / outSize - 0.5, 0), count - 1);
  const i0 = Math.floor(s);
  return [i0, Math.min(i0 + 1, count - 1), s - i0];
}

/** `axis` for every output index, precomputed once per call (lower index, upper index, upper weight). */
interface Axis { lower: Int32Array; upper: Int32Array; weight: Float64Array }
function axisTable(outSize: number, start: number, extent: number, count: number): Axis {
  const table: Axis = { lower: new Int32Array(outSize), upper: new Int32Array(outSize), weight: new Float64Array(outSize) };
  for (let x = 0; x < outSize; x++) [table.lower[x], table.upper[x], table.weight[x]] = axis(x, outSize, start, extent, count);
  return table;
}

const mix = (a: number, b: number, t: number) => a * (1 - t) + b * t;

/**
 * Colours (0..1 RGB, into `out`, 3 per pixel) of output row `y`: the map bilinearly upsampled (clamped to
 * [0, 1]) and looked up in the 256-entry table with interpolation between entries.
 */
function heatRow(values: Float32Array, gridSize: number, lut: Uint8Array, columns: Axis, rows: Axis, y: number, out: Float64Array): void {
  const top = rows.lower[y]! * gridSize;
  const bottom = rows.upper[y]! * gridSize;
  const fy = rows.weight[y]!;
  for (let x = 0; x < columns.lower.length; x++) {
    const x0 = columns.lower[x]!;
    const x1 = columns.upper[x]!;
    const fx = columns.weight[x]!;
    const upper = mix(values[top + x0]!, values[top + x1]!, fx);
    const lower = mix(values[bottom + x0]!, values[bottom + x1]!, fx);
    const value = Math.min(Math.max(mix(upper, lower, fy), 0), 1);
    const p = value * (LUT_ENTRIES - 1);
    const i0 = Math.floor(p);
    const i1 = Math.min(i0 + 1, LUT_ENTRIES - 1);
    const f = p - i0;
    for (let c = 0; c < 3; c++) out[x * 3 + c] = mix(lut[i0 * 4 + c]!, lut[i1 * 4 + c]!, f) / 255;
  }
}

/** Writes one opaque output pixel: photo (0..1 RGBA, composited over white) blended with the heat colour. */
function blendPixel(out: Uint8ClampedArray, at: number, r: number, g: number, b: number, alpha: number, heat: Float64Array, h: number, opacity: number): void {
  const white = 1 - alpha;
  out[at] = Math.round(255 * mix(r * alpha + white, heat[h]!, opacity));
  out[at + 1] = Math.round(255 * mix(g * alpha + white, heat[h + 1]!, opacity));
  out[at + 2] = Math.round(255 * mix(b * alpha + white, heat[h + 2]!, opacity));
  out[at + 3] = 255;
}

/**
 * Renders photo + heatmap at `size`: the photo's `photoRect` (default whole) and the G×G map are both
 * bilinearly resampled to `size`, the map coloured and blended over the photo with `opacity`. Output is opaque.
 */
export function renderHeatmapCpu(
  values: Float32Array,
  gridSize: number,
  photo: PixelImage,
  size: { width: number; height: number },
  options: RenderOptions,
): PixelImage {
  validateRenderInputs(values, gridSize, options);
  const { width, height } = size;
  validateSize(width, height);
  const rect = resolvePhotoRect(photo, options.photoRect);
  const lut = colorMapLut(options.colorMap);
  const out = new Uint8ClampedArray(width * height * 4);
  const src = photo.data;
  const mapColumns = axisTable(width, 0, gridSize, gridSize);
  const mapRows = axisTable(height, 0, gridSize, gridSize);
  const photoColumns = axisTable(width, rect.x, rect.width, photo.width);
  const photoRows = axisTable(height, rect.y, rect.height, photo.height);
  const heat = new Float64Array(width * 3);
  const texel = [0, 0, 0, 0];
  for (let y = 0; y < height; y++) {
    heatRow(values, gridSize, lut, mapColumns, mapRows, y, heat);
    const row0 = photoRows.lower[y]! * photo.width;
    const row1 = photoRows.upper[y]! * photo.width;
    const fy = photoRows.weight[y]!;
    for (let x = 0; x < width; x++) {
      const a00 = (row0 + photoColumns.lower[x]!) * 4;
      const a01 = (row0 + photoColumns.upper[x]!) * 4;
      const a10 = (row1 + photoColumns.lower[x]!) * 4;
      const a11 = (row1 + photoColumns.upper[x]!) * 4;
      const fx = photoColumns.weight[x]!;
      for (let c = 0; c < 4; c++) {
        texel[c] = mix(mix(src[a00 + c]! / 255, src[a01 + c]! / 255, fx), mix(src[a10 + c]! / 255, src[a11 + c]! / 255, fx), fy);
      }
      blendPixel(out, (y * width + x) * 4, texel[0]!, texel[1]!, texel[2]!, texel[3]!, heat, x * 3, options.opacity);
    }
  }
  return { width, height, data: out };
}

/** Blends the coloured, upsampled map over `pixels` (a photo already at output size), in place. */
export function blendHeatmapOnto(pixels: PixelImage, values: Float32Array, gridSize: number, options: DrawOptions): void {
  validateRenderInputs(values, gridSize, options);
  const { width, height, data } = pixels;
  validateSize(width, height);
  const lut = colorMapLut(options.colorMap);
  const mapColumns = axisTable(width, 0, gridSize, gridSize);
  const mapRows = axisTable(height, 0, gridSize, gridSize);
  const heat = new Float64Array(width * 3);
  for (let y = 0; y < height; y++) {
    heatRow(values, gridSize, lut, mapColumns, mapRows, y, heat);
    for (let x = 0; x < width; x++) {
      const at = (y * width + x) * 4;
      blendPixel(data, at, data[at]! / 255, data[at + 1]! / 255, data[at + 2]! / 255, data[at + 3]! / 255, heat, x * 3, options.opacity);
    }
  }
}

/** The photo region the map covers: `rect` checked against the photo, or the whole photo. */
export function resolvePhotoRect(photo: { width: number; height: number }, rect: SourceRect | undefined): SourceRect {
  if (!rect) return { x: 0, y: 0, width: photo.width, height: photo.height };
  const { x, y, width, height } = rect;
  if (![x, y, width, height].every(Number.isFinite) || width <= 0 || height <= 0 || x < 0 || y < 0
    || x + width > photo.width || y + height > photo.height) {
    throw new RangeError(`heatmap: photoRect ${JSON.stringify(rect)} is not inside the ${photo.width}×${photo.height} photo`);
  }
  return rect;
}
