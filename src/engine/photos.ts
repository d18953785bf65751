// The engine's open photos: each decoded once (EXIF-upright, ≤ 1600 px) and preprocessed once, until closed.
import { EngineError, toEngineError } from './errors';
import { decodePhoto } from './image/decode';
import { preprocessBitmap, type CropRect } from './image/preprocess';
import { assessPhotoQuality } from './image/quality';
import { ScaledPhotoCache } from './render';
import type { PhotoHandle, PhotoQuality } from './types';

export interface PhotoState {
  handle: PhotoHandle;
  pixels?: Float32Array;
  crop?: CropRect;
  /** Measured once from `pixels` (what the model sees). */
  quality?: PhotoQuality;
  /** Decode time still to be reported (by the first diagnose of this photo). */
  unreportedDecodeMs: number;
  /** The photo as last drawn under a heatmap on a 2D canvas, for redraws (another method, opacity, colour map). */
  scaled: ScaledPhotoCache;
}

export class PhotoRegistry {
  private readonly photos = new Map<number, PhotoState>();
  private nextId = 1;

  /** `onClose` runs when the handle is closed (the engine drops the photo's cached runs). */
  async load(source: Blob, onClose: (id: number) => void): Promise<PhotoHandle> {
    const t0 = performance.now();
    const decoded = await decodePhoto(source).catch((error: unknown) => { throw toEngineError(error, 'image-undecodable', 'loadPhoto'); });
    const decodeMs = performance.now() - t0;
    const id = this.nextId++;
    const photos = this.photos;
    const handle: PhotoHandle = {
      id,
      width: decoded.bitmap.width,
      height: decoded.bitmap.height,
      bitmap: decoded.bitmap,
      decodeMs,
      close() {
        if (!photos.delete(id)) return;
        onClose(id);
        decoded.bitmap.close();
      },
    };
    photos.set(id, { handle, unreportedDecodeMs: decodeMs, scaled: new ScaledPhotoCache() });
    return handle;
  }

  /** In a task of its own (queued now, so it runs after the model run has been sent to its worker and while the
   * page waits for it): the photo scaled for a `width`×`height` canvas, so that its first 2D draw only blends. */
  prepareDraw(state: PhotoState, width: number, height: number): void {
    setTimeout(() => {
      if (this.photos.get(state.handle.id) === state) state.scaled.prepare(state.handle.bitmap, width, height, state.crop);
    }, 0);
  }

  get(photo: PhotoHandle): PhotoState {
    const state = this.photos.get(photo.id);
    if (!state || state.handle !== photo) throw new EngineError('internal', `photo ${photo.id} is closed or from another engine`, 'photo-closed');
    return state;
  }

  /** The photo's model input (and its quality), made once per photo (preprocessMs is 0 when it already existed). */
  pixelsOf(state: PhotoState, imageSize: number): { pixels: Float32Array; preprocessMs: number } {
    if (state.pixels) return { pixels: state.pixels, preprocessMs: 0 };
    const t0 = performance.now();
    const pre = preprocessBitmap(state.handle.bitmap, imageSize);
    state.pixels = pre.pixels;
    state.crop = pre.crop;
    state.quality = assessPhotoQuality(pre.pixels, imageSize);
    return { pixels: pre.pixels, preprocessMs: performance.now() - t0 };
  }

  /** The decode time not yet reported, once. */
  takeDecodeMs(state: PhotoState): number {
    const ms = state.unreportedDecodeMs;
    state.unreportedDecodeMs = 0;
    return ms;
  }

  closeAll(): void {
    for (const state of [...this.photos.values()]) state.handle.close();
  }
}
