// Plain TypeScript reference of shaders/heatmapOverlay.wgsl (also the WASM path's blend).
import type { DrawOptions } from '../types';
import type { PixelImage, RenderOptions } from './types';

/**
 * Renders photo + heatmap at `size`: the photo's `photoRect` (default whole) and the G×G map are both
 * bilinearly resampled to `size`, the map coloured and blended over the photo with `opacity`. Output is opaque.
 */
export function renderHeatmapCpu(
  _values: Float32Array,
  _gridSize: number,
  _photo: PixelImage,
  _size: { width: number; height: number },
  _options: RenderOptions,
): PixelImage {
  throw new Error('renderHeatmapCpu: not implemented yet');
}

/** Blends the coloured, upsampled map over `pixels` (a photo already at output size), in place. */
export function blendHeatmapOnto(_pixels: PixelImage, _values: Float32Array, _gridSize: number, _options: DrawOptions): void {
  throw new Error('blendHeatmapOnto: not implemented yet');
}
