// The WebGPU heatmap renderer (shaders/heatmapOverlay.wgsl): writes photo + coloured map straight into a
// storage texture, which is the canvas's own texture when drawing to a canvas.
import overlaySource from '../../../shaders/heatmapOverlay.wgsl?raw';
import { COLOR_MAPS, colorMapLut, LUT_ENTRIES } from './colorMaps';
import { resolvePhotoRect, validateRenderInputs } from './reference';
import type { PixelImage, RenderOptions, SourceRect } from './types';

/** Output tile side of one workgroup (WORKGROUP_SIDE²  invocations). */
const WORKGROUP_SIDE = 8;
/** Photos shrunk by more than this factor are pre-scaled by the browser (see `downscaled`). */
const DOWNSCALE_LIMIT = 1.5;
/** OverlayParams in heatmapOverlay.wgsl: vec2u, 2 u32, vec4f, f32, u32, padded to 48 bytes. */
const PARAMS_BYTES = 48;
/** The format the overlay writes; canvases are configured with it. */
export const OVERLAY_FORMAT: GPUTextureFormat = 'rgba8unorm';

function isPixelImage(photo: ImageBitmap | PixelImage): photo is PixelImage {
  return 'data' in photo;
}

/**
 * Owns the overlay pipeline, colour-map tables and the last photo's texture for one device.
 * `draw` configures the canvas's 'webgpu' context (rgba8unorm, storage) and writes it directly.
 */
export class GpuHeatmapRenderer {
  private readonly pipeline: GPUComputePipeline;
  private readonly params: GPUBuffer;
  private readonly lut: GPUBuffer;
  private values: GPUBuffer | null = null;
  private photo: { source: ImageBitmap | PixelImage; texture: GPUTexture } | null = null;
  private scaled: { source: ImageBitmap; key: string; bitmap: ImageBitmap } | null = null;
  private readonly configured = new WeakMap<object, GPUCanvasContext>();
  private destroyed = false;

  /** Like the constructor, but rejects with the WebGPU validation message if the shader or pipeline is invalid. */
  static async create(device: GPUDevice): Promise<GpuHeatmapRenderer> {
    device.pushErrorScope('validation');
    let renderer: GpuHeatmapRenderer | undefined;
    try {
      renderer = new GpuHeatmapRenderer(device);
    } finally {
      const error = await device.popErrorScope();
      if (error) {
        renderer?.destroy();
        throw new Error(`GpuHeatmapRenderer: WebGPU refused the overlay kernel: ${error.message}`);
      }
    }
    return renderer;
  }

  constructor(readonly device: GPUDevice) {
    const module = device.createShaderModule({ label: 'GpuHeatmapRenderer.overlay.module', code: overlaySource });
    this.pipeline = device.createComputePipeline({
      label: 'GpuHeatmapRenderer.overlay.pipeline',
      layout: 'auto',
      compute: { module, entryPoint: 'main', constants: { WORKGROUP_SIDE } },
    });
    this.params = device.createBuffer({ label: 'GpuHeatmapRenderer.params', size: PARAMS_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    const tables = new Uint8Array(COLOR_MAPS.length * LUT_ENTRIES * 4);
    COLOR_MAPS.forEach((name, i) => tables.set(colorMapLut(name), i * LUT_ENTRIES * 4));
    this.lut = device.createBuffer({ label: 'GpuHeatmapRenderer.colorMaps', size: tables.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(this.lut, 0, tables);
  }

  /**
   * Draws photo + heatmap into `canvas` at its current size; resolves with the time until the GPU finished, in ms.
   * `onFrame` gets the canvas texture right after the draw is submitted, while it can still be copied
   * (it has COPY_SRC usage; it expires once the task ends): for tests and saving the image.
   */
  async draw(
    canvas: HTMLCanvasElement | OffscreenCanvas,
    values: Float32Array,
    gridSize: number,
    photo: ImageBitmap | PixelImage,
    options: RenderOptions,
    onFrame?: (frame: GPUTexture) => void,
  ): Promise<number> {
    const started = performance.now();
    validateRenderInputs(values, gridSize, options);
    let context = this.configured.get(canvas);
    if (!context) {
      const fresh = canvas.getContext('webgpu') as GPUCanvasContext | null;
      if (!fresh) throw new Error('heatmap: this canvas has no WebGPU context (was it already used for 2D?)');
      // COPY_SRC lets callers (tests, 'save image') copy the frame before it is presented.
      fresh.configure({ device: this.device, format: OVERLAY_FORMAT, usage: GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.COPY_SRC, alphaMode: 'opaque' });
      this.configured.set(canvas, fresh);
      context = fresh;
    }
    const { width, height } = canvas;
    const prepared = await this.downscaled(photo, resolvePhotoRect(photo, options.photoRect), width, height);
    const drawOptions: RenderOptions = prepared === photo ? options : { colorMap: options.colorMap, opacity: options.opacity };
    const frame = context.getCurrentTexture();
    this.renderToTexture(frame, values, gridSize, prepared, drawOptions);
    onFrame?.(frame);
    await this.device.queue.onSubmittedWorkDone();
    return performance.now() - started;
  }

  /** Renders into `target` (rgba8unorm, STORAGE_BINDING usage), for tests and offscreen use. Submits; does not wait. */
  renderToTexture(
    target: GPUTexture,
    values: Float32Array,
    gridSize: number,
    photo: ImageBitmap | PixelImage,
    options: RenderOptions,
  ): void {
    if (this.destroyed) throw new Error('GpuHeatmapRenderer: used after destroy()');
    validateRenderInputs(values, gridSize, options);
    if (target.format !== OVERLAY_FORMAT) throw new RangeError(`heatmap: target must be ${OVERLAY_FORMAT}, got ${target.format}`);
    const { device } = this;
    const rect = resolvePhotoRect(photo, options.photoRect);
    const photoTexture = this.photoTexture(photo);

    if (!this.values || this.values.size < values.byteLength) {
      this.values?.destroy();
      this.values = device.createBuffer({ label: 'GpuHeatmapRenderer.values', size: values.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    }
    device.queue.writeBuffer(this.values, 0, values.buffer, values.byteOffset, values.byteLength);
    const params = new ArrayBuffer(PARAMS_BYTES);
    new Uint32Array(params, 0, 4).set([target.width, target.height, gridSize, COLOR_MAPS.indexOf(options.colorMap) * LUT_ENTRIES]);
    new Float32Array(params, 16, 5).set([rect.x, rect.y, rect.width, rect.height, options.opacity]);
    new Uint32Array(params, 36, 1)[0] = LUT_ENTRIES;
    device.queue.writeBuffer(this.params, 0, params);

    const bindGroup = device.createBindGroup({
      label: 'GpuHeatmapRenderer.overlay.bindGroup',
      layout: this.pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: this.params } },
        { binding: 1, resource: { buffer: this.values, size: values.byteLength } },
        { binding: 2, resource: { buffer: this.lut } },
        { binding: 3, resource: photoTexture.createView({ label: 'GpuHeatmapRenderer.photo.view' }) },
        { binding: 4, resource: target.createView({ label: 'GpuHeatmapRenderer.target.view' }) },
      ],
    });
    const encoder = device.createCommandEncoder({ label: 'GpuHeatmapRenderer.draw' });
    const pass = encoder.beginComputePass({ label: 'GpuHeatmapRenderer.overlay.pass' });
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(Math.ceil(target.width / WORKGROUP_SIDE), Math.ceil(target.height / WORKGROUP_SIDE));
    pass.end();
    device.queue.submit([encoder.finish()]);
  }

  /**
   * The kernel samples the photo bilinearly (4 texels), which aliases when a big photo is shrunk a lot, so a
   * bitmap more than DOWNSCALE_LIMIT× larger than the canvas is first resized by the browser's high-quality
   * scaler (cached: redraws at the same size reuse it). Otherwise the photo itself.
   */
  private async downscaled(photo: ImageBitmap | PixelImage, rect: SourceRect, width: number, height: number): Promise<ImageBitmap | PixelImage> {
    if (isPixelImage(photo) || (rect.width <= DOWNSCALE_LIMIT * width && rect.height <= DOWNSCALE_LIMIT * height)) return photo;
    const key = `${rect.x},${rect.y},${rect.width},${rect.height}→${width}×${height}`;
    if (this.scaled?.source === photo && this.scaled.key === key) return this.scaled.bitmap;
    const bitmap = await createImageBitmap(photo, Math.round(rect.x), Math.round(rect.y), Math.round(rect.width), Math.round(rect.height),
      { resizeWidth: width, resizeHeight: height, resizeQuality: 'high' });
    this.scaled?.bitmap.close();
    this.scaled = { source: photo, key, bitmap };
    return bitmap;
  }

  /** The photo as an rgba8unorm texture; the last one is kept, so redraws (opacity, colour map) do not re-upload. */
  private photoTexture(photo: ImageBitmap | PixelImage): GPUTexture {
    if (this.photo?.source === photo) return this.photo.texture;
    this.photo?.texture.destroy();
    const texture = this.device.createTexture({
      label: 'GpuHeatmapRenderer.photo',
      size: [photo.width, photo.height],
      format: OVERLAY_FORMAT,
      usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST | GPUTextureUsage.RENDER_ATTACHMENT,
    });
    if (isPixelImage(photo)) {
      this.device.queue.writeTexture({ texture }, photo.data, { bytesPerRow: photo.width * 4 }, [photo.width, photo.height]);
    } else {
      this.device.queue.copyExternalImageToTexture({ source: photo }, { texture }, [photo.width, photo.height]);
    }
    this.photo = { source: photo, texture };
    return texture;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.params.destroy();
    this.lut.destroy();
    this.values?.destroy();
    this.photo?.texture.destroy();
    this.photo = null;
    this.scaled?.bitmap.close();
    this.scaled = null;
  }
}
