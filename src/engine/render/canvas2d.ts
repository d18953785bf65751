// The WASM path's renderer: the browser scales the photo into a 2D canvas, the TS reference blends the map.
import type { PixelImage, RenderOptions } from './types';

/** Draws photo + heatmap into `canvas` (2D context) at its current size; returns the time taken in ms. */
export async function drawHeatmap2d(
  _canvas: HTMLCanvasElement | OffscreenCanvas,
  _values: Float32Array,
  _gridSize: number,
  _photo: ImageBitmap | PixelImage,
  _options: RenderOptions,
): Promise<number> {
  throw new Error('drawHeatmap2d: not implemented yet');
}
