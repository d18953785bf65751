// The WebGPU heatmap renderer (shaders/heatmapOverlay.wgsl).
import type { PixelImage, RenderOptions } from './types';

/**
 * Owns the overlay pipeline, colour-map tables and the last photo's texture for one device.
 * `draw` configures the canvas's 'webgpu' context (rgba8unorm, storage) and writes it directly.
 */
export class GpuHeatmapRenderer {
  constructor(readonly device: GPUDevice) {}

  /** Draws photo + heatmap into `canvas` at its current size; resolves with the time until the GPU finished, in ms. */
  draw(
    _canvas: HTMLCanvasElement | OffscreenCanvas,
    _values: Float32Array,
    _gridSize: number,
    _photo: ImageBitmap | PixelImage,
    _options: RenderOptions,
  ): Promise<number> {
    return Promise.reject(new Error('GpuHeatmapRenderer.draw: not implemented yet'));
  }

  /** Renders into `target` (rgba8unorm, STORAGE_BINDING usage), for tests and offscreen use. */
  renderToTexture(
    _target: GPUTexture,
    _values: Float32Array,
    _gridSize: number,
    _photo: ImageBitmap | PixelImage,
    _options: RenderOptions,
  ): void {
    throw new Error('GpuHeatmapRenderer.renderToTexture: not implemented yet');
  }

  destroy(): void {}
}
