// Types shared by the CPU and GPU heatmap renderers.
import type { DrawOptions } from '../types';

/** RGBA8, row-major, unpremultiplied: ImageData-compatible. */
export interface PixelImage {
  width: number;
  height: number;
  data: Uint8ClampedArray<ArrayBuffer>;
}

/** A rectangle of the photo, in photo pixels. */
export interface SourceRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface RenderOptions extends DrawOptions {
  /** The part of the photo the G×G map covers (the region the model saw); default the whole photo. */
  photoRect?: SourceRect;
}
