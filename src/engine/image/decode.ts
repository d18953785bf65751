// Photo → upright ImageBitmap for display (≤ maxDisplaySide), refusing what cannot be a leaf photo.
import { EngineError, describeError } from '../errors';
import { DECODABLE_FORMATS, SNIFF_BYTES, readHeaderSize, sniffImageFormat, type SniffedFormat } from './sniff';

export interface DecodeOptions {
  /** Longest side of the kept bitmap; larger photos are scaled down while decoding. */
  maxDisplaySide?: number;
  /** Shortest side accepted. */
  minSide?: number;
  /** Larger photos are refused before decoding (memory). 250 MP covers every phone camera. */
  maxPixels?: number;
}

export interface DecodedPhoto {
  bitmap: ImageBitmap;
  format: SniffedFormat;
  /** Upright size of the original photo, before any downscale. */
  originalWidth: number;
  originalHeight: number;
}

export const DEFAULT_MAX_DISPLAY_SIDE = 1600;
export const DEFAULT_MIN_SIDE = 32;
export const DEFAULT_MAX_PIXELS = 250e6;

function refuseFormat(format: SniffedFormat): EngineError | undefined {
  switch (format) {
    case 'heif':
      return new EngineError('image-unsupported-format', 'HEIF/HEIC photo (ftyp heic/mif1); browsers do not decode it', 'heif');
    case 'svg':
      return new EngineError('image-unsupported-format', 'SVG drawing, not a photo', 'svg');
    case 'pdf':
      return new EngineError('image-unsupported-format', 'PDF document', 'pdf');
    case 'text':
      return new EngineError('image-unsupported-format', 'text file, not an image', 'text');
    default:
      return undefined;
  }
}

export async function decodePhoto(source: Blob, options: DecodeOptions = {}): Promise<DecodedPhoto> {
  const maxSide = options.maxDisplaySide ?? DEFAULT_MAX_DISPLAY_SIDE;
  const minSide = options.minSide ?? DEFAULT_MIN_SIDE;
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (source.size === 0) throw new EngineError('image-empty', 'file has 0 bytes');

  let head: Uint8Array;
  try {
    head = new Uint8Array(await source.slice(0, SNIFF_BYTES).arrayBuffer());
  } catch (error) {
    throw new EngineError('image-undecodable', `reading the file failed: ${describeError(error)}`, undefined, { cause: error });
  }
  const format = sniffImageFormat(head);
  const refused = refuseFormat(format);
  if (refused) throw refused;

  const header = DECODABLE_FORMATS.includes(format) ? readHeaderSize(head, format) : undefined;
  if (header) {
    if (header.width === 0 || header.height === 0) throw new EngineError('image-undecodable', `${format} header says ${header.width}×${header.height}`);
    if (Math.min(header.width, header.height) < minSide) {
      throw new EngineError('image-too-small', `${format} ${header.width}×${header.height} < ${minSide} px`);
    }
    if (header.width * header.height > maxPixels) {
      throw new EngineError('image-too-large', `${format} ${header.width}×${header.height} = ${(header.width * header.height / 1e6).toFixed(0)} MP > ${maxPixels / 1e6} MP`);
    }
  }

  // Decoding straight to the display size keeps a 10000×10000 photo from ever existing at full size as a bitmap.
  const scale = header ? Math.min(1, maxSide / Math.max(header.width, header.height)) : 1;
  const bitmapOptions: ImageBitmapOptions = { imageOrientation: 'from-image', premultiplyAlpha: 'default', colorSpaceConversion: 'default' };
  if (scale < 1 && header) {
    // Only the width is given, so the aspect ratio is preserved whichever way EXIF rotates the photo.
    bitmapOptions.resizeWidth = Math.max(1, Math.round(header.width * scale));
    bitmapOptions.resizeQuality = 'high';
  }

  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmapCompat(source, bitmapOptions);
  } catch (error) {
    const detail = `createImageBitmap failed for ${format} (${source.type || 'no MIME type'}, ${source.size} bytes): ${describeError(error)}`;
    if (format === 'unknown') {
      throw new EngineError('image-unsupported-format', detail, undefined, { cause: error });
    }
    throw new EngineError('image-undecodable', detail, undefined, { cause: error });
  }

  // The scale actually applied (1 where the browser ignored resizeWidth); the longest side is rotation-proof.
  const applied = header ? Math.max(bitmap.width, bitmap.height) / Math.max(header.width, header.height) : 1;
  const originalWidth = Math.round(bitmap.width / applied);
  const originalHeight = Math.round(bitmap.height / applied);
  if (Math.min(originalWidth, originalHeight) < minSide) {
    bitmap.close();
    throw new EngineError('image-too-small', `decoded ${originalWidth}×${originalHeight} < ${minSide} px`);
  }
  // Formats without a cheap header size (AVIF) are scaled after decoding.
  if (Math.max(bitmap.width, bitmap.height) > maxSide) {
    const s = maxSide / Math.max(bitmap.width, bitmap.height);
    const full = bitmap;
    try {
      bitmap = await scaleBitmap(full, Math.round(full.width * s), Math.round(full.height * s));
    } finally {
      full.close();
    }
  }
  return { bitmap, format, originalWidth, originalHeight };
}

/** Browsers that do not know an option (older Safari: resizeWidth, imageOrientation 'from-image') throw a TypeError;
 * they then decode with defaults (which apply EXIF orientation in current engines) and are scaled afterwards. */
async function createImageBitmapCompat(source: Blob, options: ImageBitmapOptions): Promise<ImageBitmap> {
  try {
    return await createImageBitmap(source, options);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    return createImageBitmap(source);
  }
}

async function scaleBitmap(bitmap: ImageBitmap, width: number, height: number): Promise<ImageBitmap> {
  try {
    return await createImageBitmap(bitmap, { resizeWidth: width, resizeHeight: height, resizeQuality: 'high' });
  } catch (error) {
    if (!(error instanceof TypeError) || typeof OffscreenCanvas === 'undefined') throw error;
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d');
    if (!ctx) throw error;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(bitmap, 0, 0, width, height);
    return canvas.transferToImageBitmap();
  }
}
