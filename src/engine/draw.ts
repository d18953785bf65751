// Drawing a diagnosis's heatmap: the WebGPU renderer when the current backend has a real device, canvas 2D otherwise.
import { describeError, toEngineError } from './errors';
import type { ExplainResult } from './explain';
import type { CropRect } from './image/preprocess';
import { drawHeatmap2d, ScaledPhotoCache, type DrawableImage, type RenderOptions } from './render';
import type { EngineRuntime } from './runtime';
import type { DrawOptions, Heatmap, StageTimings } from './types';

/** The photo a heatmap is drawn over, and where the model's square crop sits in it. */
export interface HeatmapPhoto {
  bitmap: ImageBitmap;
  crop?: CropRect;
  /** The photo's scaled pixels from an earlier 2D draw (shared by every diagnosis of the photo). */
  scaled?: ScaledPhotoCache;
}

/** The canvas size of the engine's last 2D draw (0 before any): the next photo is scaled for it while the model runs. */
export interface LastDraw2d {
  width: number;
  height: number;
}

/** A Heatmap that draws with whatever backend is current, so it survives a device loss. drawMs records the last draw. */
export function makeHeatmap(runtime: EngineRuntime, result: ExplainResult, gridSize: number, photo: HeatmapPhoto, timings: StageTimings, lastDraw2d?: LastDraw2d): Heatmap {
  return {
    gridSize,
    values: result.values,
    min: result.min,
    max: result.max,
    draw: async (canvas, drawOptions) => {
      const ms = await drawMap(runtime, canvas, result.values, gridSize, photo, drawOptions, lastDraw2d);
      timings.drawMs = ms;
      return ms;
    },
  };
}

export async function drawMap(runtime: EngineRuntime, canvas: HTMLCanvasElement | OffscreenCanvas, values: Float32Array, gridSize: number, photo: HeatmapPhoto, options: DrawOptions, lastDraw2d?: LastDraw2d): Promise<number> {
  if (runtime.recovering) await runtime.recovering;
  const renderOptions: RenderOptions = { ...options, photoRect: photo.crop };
  const backend = runtime.current;
  // Headless Chromium's software adapter (SwiftShader) loses the device when a WebGPU canvas is presented
  // ("A valid external Instance reference no longer exists"), so a fallback adapter draws with canvas 2D.
  const gpu = backend.backend === 'webgpu' && !backend.closed && !backend.gpu?.probe.isFallbackAdapter ? backend.gpu : undefined;
  if (gpu) {
    try {
      return await gpu.renderer.draw(canvas, values, gridSize, photo.bitmap, renderOptions);
    } catch (error) {
      // A canvas that already has a 2D context cannot take a WebGPU one: draw it the 2D way.
      console.warn(`[leaf-lens] WebGPU draw failed, drawing with canvas 2D: ${describeError(error)}`);
    }
  }
  try {
    const ms = await drawHeatmap2d(canvas, values, gridSize, photo.bitmap, renderOptions, photo.scaled);
    if (lastDraw2d) { lastDraw2d.width = canvas.width; lastDraw2d.height = canvas.height; }
    return ms;
  } catch (error) {
    throw toEngineError(error, 'internal', 'heatmap draw');
  }
}

/** A heatmap kept without the engine (a history entry's G×G values). */
export interface HeatmapValues {
  gridSize: number;
  values: ArrayLike<number>;
  min: number;
  max: number;
}

/** A saved heatmap over an image (a history entry's thumbnail, the square the model saw), drawn by the same
 * renderer and colour tables as a live one, so a reopened entry looks like it did when it was made. */
export function heatmapFromValues(data: HeatmapValues, image: DrawableImage): Heatmap {
  const values = Float32Array.from(data.values);
  const scaled = new ScaledPhotoCache();
  return {
    gridSize: data.gridSize,
    values,
    min: data.min,
    max: data.max,
    draw: async (canvas, options) => {
      try {
        return await drawHeatmap2d(canvas, values, data.gridSize, image, options, scaled);
      } catch (error) {
        throw toEngineError(error, 'internal', 'stored heatmap draw');
      }
    },
  };
}
