// The WASM path's renderer: the browser scales the photo into a 2D canvas (good filtering, any photo size),
// then the fast blend (blendFast.ts, tested against the reference's) colours the map over those pixels.
import { blendHeatmapOntoFast } from './blendFast';
import { resolvePhotoRect, validateRenderInputs } from './reference';
import type { PixelImage, RenderOptions } from './types';

/** Anything a 2D canvas can draw that knows its size: the engine's ImageBitmaps, a history entry's <img>. */
export type DrawableImage = CanvasImageSource & { width: number; height: number };

function isPixelImage(photo: DrawableImage | PixelImage): photo is PixelImage {
  return 'data' in photo;
}

/** Draws photo + heatmap into `canvas` (2D context) at its current size; returns the time taken in ms. */
export async function drawHeatmap2d(
  canvas: HTMLCanvasElement | OffscreenCanvas,
  values: Float32Array,
  gridSize: number,
  photo: DrawableImage | PixelImage,
  options: RenderOptions,
): Promise<number> {
  const started = performance.now();
  validateRenderInputs(values, gridSize, options);
  const context = canvas.getContext('2d', { willReadFrequently: true }) as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D | null;
  if (!context) throw new Error('heatmap: this canvas has no 2D context (was it already used for WebGPU?)');
  const { width, height } = canvas;
  const rect = resolvePhotoRect(photo, options.photoRect);
  const made = isPixelImage(photo)
    ? await createImageBitmap(new ImageData(new Uint8ClampedArray(photo.data), photo.width, photo.height))
    : undefined;
  try {
    context.clearRect(0, 0, width, height);
    context.imageSmoothingEnabled = true;
    context.imageSmoothingQuality = 'high';
    context.drawImage(made ?? (photo as DrawableImage), rect.x, rect.y, rect.width, rect.height, 0, 0, width, height);
  } finally {
    made?.close();
  }
  const pixels = context.getImageData(0, 0, width, height);
  blendHeatmapOntoFast(pixels, values, gridSize, options);
  context.putImageData(pixels, 0, 0);
  return performance.now() - started;
}
