// The WASM path's renderer: the browser scales the photo into a 2D canvas (good filtering, any photo size),
// then the fast blend (blendFast.ts, tested against the reference's) colours the map over those pixels.
import { makeCanvas } from '../image/preprocess';
import { blendHeatmapOntoFast } from './blendFast';
import { resolvePhotoRect, validateRenderInputs } from './reference';
import type { PixelImage, RenderOptions, SourceRect } from './types';

/** Anything a 2D canvas can draw that knows its size: the engine's ImageBitmaps, a history entry's <img>. */
export type DrawableImage = CanvasImageSource & { width: number; height: number };

function isPixelImage(photo: DrawableImage | PixelImage): photo is PixelImage {
  return 'data' in photo;
}

/**
 * The photo as last scaled to one canvas size, kept by whoever owns the photo (an open photo, a stored heatmap):
 * from the second draw at a size on (another method, opacity or colour map over the same photo), a draw blends
 * over a copy of these pixels instead of scaling the photo and reading the canvas back (about half of a draw).
 * A first draw keeps nothing, so that a diagnosis's own draw (what the bench times) costs no copy and no second
 * photo-sized allocation; the first redraw at a size keeps the photo. One size at a time.
 */
export class ScaledPhotoCache {
  /** How many times the photo was scaled and read back (tests check that a redraw does not). */
  reads = 0;
  private key = '';
  private photo: Uint8ClampedArray<ArrayBuffer> | null = null;

  /** The photo pixels (RGBA) scaled for `key`, or null when they are not kept. Read-only: copy before blending. */
  pixelsFor(key: string): Uint8ClampedArray<ArrayBuffer> | null {
    return key === this.key ? this.photo : null;
  }

  /** Called after each read of the photo for `key`: keeps a copy when that key was read before (a redraw). */
  read(key: string, pixels: Uint8ClampedArray<ArrayBuffer>): void {
    this.reads++;
    this.photo = key === this.key ? pixels.slice() : null;
    this.key = key;
  }

  /**
   * Scales the photo for a canvas of `width`×`height` ahead of its first draw and keeps it, so that draw only blends.
   * The engine calls it while the model runs in its worker (the page is idle then), for the canvas size of the last
   * heatmap drawn; the pixels are those a draw would read back (same scaling, tested).
   */
  prepare(photo: DrawableImage, width: number, height: number, photoRect?: SourceRect): void {
    const rect = resolvePhotoRect(photo, photoRect);
    const key = cacheKey(width, height, rect);
    if (key === this.key && this.photo) return;
    const context = makeCanvas(width, height).getContext('2d', { willReadFrequently: true }) as Context2d | null;
    if (!context) return;
    scalePhoto(context, photo, rect, width, height);
    this.reads++;
    this.photo = context.getImageData(0, 0, width, height).data;
    this.key = key;
  }
}

type Context2d = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;

/** The photo's `rect` scaled onto the whole context, with the browser's best filtering. */
function scalePhoto(context: Context2d, photo: CanvasImageSource, rect: SourceRect, width: number, height: number): void {
  context.clearRect(0, 0, width, height);
  context.imageSmoothingEnabled = true;
  context.imageSmoothingQuality = 'high';
  context.drawImage(photo, rect.x, rect.y, rect.width, rect.height, 0, 0, width, height);
}

function cacheKey(width: number, height: number, rect: SourceRect): string {
  return `${width}×${height} from ${rect.x},${rect.y} ${rect.width}×${rect.height}`;
}

/** Draws photo + heatmap into `canvas` (2D context) at its current size; returns the time taken in ms. */
export async function drawHeatmap2d(
  canvas: HTMLCanvasElement | OffscreenCanvas,
  values: Float32Array,
  gridSize: number,
  photo: DrawableImage | PixelImage,
  options: RenderOptions,
  cache?: ScaledPhotoCache,
): Promise<number> {
  const started = performance.now();
  validateRenderInputs(values, gridSize, options);
  const context = canvas.getContext('2d', { willReadFrequently: true }) as Context2d | null;
  if (!context) throw new Error('heatmap: this canvas has no 2D context (was it already used for WebGPU?)');
  const { width, height } = canvas;
  const rect = resolvePhotoRect(photo, options.photoRect);
  const key = cacheKey(width, height, rect);
  const known = cache?.pixelsFor(key);
  let pixels: ImageData;
  if (known) {
    // The kept photo is blended straight into a new image (it stays clean for the next redraw).
    pixels = context.createImageData(width, height);
  } else {
    const made = isPixelImage(photo)
      ? await createImageBitmap(new ImageData(new Uint8ClampedArray(photo.data), photo.width, photo.height))
      : undefined;
    try {
      scalePhoto(context, made ?? (photo as DrawableImage), rect, width, height);
    } finally {
      made?.close();
    }
    pixels = context.getImageData(0, 0, width, height);
    cache?.read(key, pixels.data);
  }
  blendHeatmapOntoFast(pixels, values, gridSize, options, known ?? undefined);
  context.putImageData(pixels, 0, 0);
  return performance.now() - started;
}
