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

const mix = (a: number, b: number, t: number) => a * (1 - t) + b * t;

/** The colour (0..1 RGB) of the map upsampled at output pixel (x, y). */
function heatColour(values: Float32Array, gridSize: number, lut: Uint8Array, x: number, y: number, width: number, height: number): [number, number, number] {
  const [x0, x1, fx] = axis(x, width, 0, gridSize, gridSize);
  const [y0, y1, fy] = axis(y, height, 0, gridSize, gridSize);
  const top = mix(values[y0 * gridSize + x0]!, values[y0 * gridSize + x1]!, fx);
  const bottom = mix(values[y1 * gridSize + x0]!, values[y1 * gridSize + x1]!, fx);
  const value = Math.min(Math.max(mix(top, bottom, fy), 0), 1);
  const p = value * (LUT_ENTRIES - 1);
  const i0 = Math.floor(p);
  const i1 = Math.min(i0 + 1, LUT_ENTRIES - 1);
  const f = p - i0;
  return [0, 1, 2].map((c) => mix(lut[i0 * 4 + c]!, lut[i1 * 4 + c]!, f) / 255) as [number, number, number];
}

function blendPixel(out: Uint8ClampedArray, at: number, rgba: [number, number, number, number], colour: [number, number, number], opacity: number): void {
  const alpha = rgba[3];
  for (let c = 0; c < 3; c++) {
    const photo = rgba[c]! * alpha + (1 - alpha); // over white
    out[at + c] = Math.round(255 * mix(photo, colour[c]!, opacity));
  }
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
  const rgba: [number, number, number, number] = [0, 0, 0, 0];
  for (let y = 0; y < height; y++) {
    const [py0, py1, fy] = axis(y, height, rect.y, rect.height, photo.height);
    for (let x = 0; x < width; x++) {
      const [px0, px1, fx] = axis(x, width, rect.x, rect.width, photo.width);
      for (let c = 0; c < 4; c++) {
        const texel = (px: number, py: number) => src[(py * photo.width + px) * 4 + c]! / 255;
        rgba[c] = mix(mix(texel(px0, py0), texel(px1, py0), fx), mix(texel(px0, py1), texel(px1, py1), fx), fy);
      }
      blendPixel(out, (y * width + x) * 4, rgba, heatColour(values, gridSize, lut, x, y, width, height), options.opacity);
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
  const rgba: [number, number, number, number] = [0, 0, 0, 0];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = (y * width + x) * 4;
      for (let c = 0; c < 4; c++) rgba[c] = data[at + c]! / 255;
      blendPixel(data, at, rgba, heatColour(values, gridSize, lut, x, y, width, height), options.opacity);
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
