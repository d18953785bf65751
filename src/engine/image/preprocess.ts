// Display bitmap → the model's `pixels` input: centre square crop, high-quality downscale to S×S,
// alpha flattened on white, RGB in [0,1], NCHW float32.

export interface CropRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The largest centred square: the region the model sees (and the heatmap covers). */
export function centreSquare(width: number, height: number): CropRect {
  const side = Math.min(width, height);
  return { x: Math.floor((width - side) / 2), y: Math.floor((height - side) / 2), width: side, height: side };
}

type AnyCanvas = OffscreenCanvas | HTMLCanvasElement;
type Any2d = OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D;

/** An OffscreenCanvas where the browser has one (Safari before 16.4 has none), else a detached <canvas>. */
export function makeCanvas(width: number, height: number): AnyCanvas {
  if (typeof OffscreenCanvas !== 'undefined') return new OffscreenCanvas(width, height);
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  return canvas;
}

function context2d(canvas: AnyCanvas): Any2d {
  const ctx = canvas.getContext('2d', { willReadFrequently: true, alpha: true }) as Any2d | null;
  if (!ctx) throw new Error('2D canvas context unavailable');
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  return ctx;
}

/** Halves in steps while the crop is over twice the target: each step averages 2×2, so a 7× shrink does not alias. */
function downscaleSquare(source: CanvasImageSource, crop: CropRect, size: number): AnyCanvas {
  let current: CanvasImageSource = source;
  let rect = crop;
  while (rect.width > 2 * size) {
    const half = Math.ceil(rect.width / 2);
    const step = makeCanvas(half, half);
    context2d(step).drawImage(current, rect.x, rect.y, rect.width, rect.height, 0, 0, half, half);
    current = step;
    rect = { x: 0, y: 0, width: half, height: half };
  }
  const out = makeCanvas(size, size);
  const ctx = context2d(out);
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, size, size);
  ctx.drawImage(current, rect.x, rect.y, rect.width, rect.height, 0, 0, size, size);
  return out;
}

/** RGBA8 (row-major, alpha already flattened) → [1,3,S,S] float32 in [0,1]. */
export function rgbaToPlanar(rgba: Uint8ClampedArray | Uint8Array, size: number): Float32Array {
  const plane = size * size;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    out[i] = rgba[4 * i]! / 255;
    out[plane + i] = rgba[4 * i + 1]! / 255;
    out[2 * plane + i] = rgba[4 * i + 2]! / 255;
  }
  return out;
}

export interface Preprocessed {
  pixels: Float32Array;
  crop: CropRect;
}

export function preprocessBitmap(bitmap: ImageBitmap, size: number): Preprocessed {
  const crop = centreSquare(bitmap.width, bitmap.height);
  // Partly transparent pixels are first flattened on white at full size, so halving never darkens edges.
  const flat = makeCanvas(bitmap.width, bitmap.height);
  const flatCtx = context2d(flat);
  flatCtx.fillStyle = '#ffffff';
  flatCtx.fillRect(0, 0, bitmap.width, bitmap.height);
  flatCtx.drawImage(bitmap, 0, 0);
  const canvas = downscaleSquare(flat, crop, size);
  const data = context2d(canvas).getImageData(0, 0, size, size, { colorSpace: 'srgb' }).data;
  return { pixels: rgbaToPlanar(data, size), crop };
}
