// The WGSL kernels as public API: the explanation kernels and the overlay renderer on one GPUDevice, beside their CPU
// references, for benchmarks and checks that run them outside a diagnosis (Dawn in Node, a second device beside a
// WASM engine, the engine's own device through engineStages). index.ts re-exports all of it; the Dawn bench imports
// this file alone because its Node bundle (tools/device) carries no onnxruntime.
//
//   const kernels = await GpuKernels.open(dims);                   // or GpuKernels.on(device, dims)
//   const result = await kernels.explain(kernels.upload(tensors), withExplainDefaults({ method: 'rollout' }, dims, top));
//   explainOnCpu(tensors, dims, options)                           // the reference the kernel must match
//   kernels.destroy();
import { GpuExplainer } from './explain/gpuExplainer';
import type { ExplainTensors } from './explain/methods';
import type { ExplainDims } from './explain/options';
import type { ExplainResult } from './explain/result';
import { createEngineDevice, probeAdapter, type AdapterProbe } from './gpu/device';
import { GpuHeatmapRenderer } from './render/gpuHeatmapRenderer';
import type { PixelImage, RenderOptions } from './render/types';
import type { ExplainOptions } from './types';

export type { ExplainDims } from './explain/options';
export type { ExplainResult } from './explain/result';
export type { ExplainTensorName, ExplainTensors } from './explain/methods';
export type { PixelImage, RenderOptions } from './render/types';
export { withExplainDefaults, tensorLength as explainTensorLength } from './explain/options';
export { explainOnCpu } from './explain/reference';
export { explainOnCpuFast } from './explain/cpuFast';
export { renderHeatmapCpu } from './render/reference';

/** A WebGPU adapter as the benchmarks report it. */
export interface WebGpuAdapterInfo {
  vendor: string;
  architecture: string;
  /** Vendor, architecture, device and description in one line. */
  description: string;
  /** A software adapter (SwiftShader, llvmpipe, lavapipe): fine for correctness, not for timings. */
  software: boolean;
  features: string[];
}

export function describeWebGpuAdapter(adapter: GPUAdapter, description?: string): WebGpuAdapterInfo {
  const info = adapter.info;
  const line = description ?? ([info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') || 'unknown adapter');
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    description: line,
    software: Boolean(info.isFallbackAdapter) || /swiftshader|llvmpipe|lavapipe/i.test(`${line} ${info.architecture} ${info.description}`),
    features: [...adapter.features].map(String).sort(),
  };
}

export function adapterInfoOf(probe: AdapterProbe): WebGpuAdapterInfo {
  return describeWebGpuAdapter(probe.adapter, probe.description);
}

/** The adapter the engine would use for WebGPU, or null where there is none. */
export async function probeWebGpuAdapter(): Promise<WebGpuAdapterInfo | null> {
  const probe = await probeAdapter();
  return probe ? adapterInfoOf(probe) : null;
}

/** The explanation kernels and the overlay renderer on one device. Runs are serialised by the kernels themselves. */
export class GpuKernels {
  private readonly uploaded = new Map<string, GPUBuffer>();
  private destroyed = false;

  private constructor(
    readonly device: GPUDevice,
    readonly dims: ExplainDims,
    /** Set when the kernels were opened on their own device (open()); null for the engine's or a caller's device. */
    readonly adapter: WebGpuAdapterInfo | null,
    private readonly explainer: GpuExplainer,
    private readonly renderer: GpuHeatmapRenderer,
    /** What destroy() releases besides the uploaded buffers. */
    private readonly owns: 'nothing' | 'kernels' | 'kernels+device',
  ) {}

  /** Kernels on a device the caller holds (destroy() leaves the device alone). */
  static on(device: GPUDevice, dims: ExplainDims): GpuKernels {
    return new GpuKernels(device, dims, null, new GpuExplainer(device, dims), new GpuHeatmapRenderer(device), 'kernels');
  }

  /** Kernels on a device of their own, made as the engine makes its device (same limits and optional features) on the
   * adapter the engine would use. Throws when there is no WebGPU adapter. */
  static async open(dims: ExplainDims): Promise<GpuKernels> {
    const probe = await probeAdapter();
    if (!probe) throw new Error('WebGPU: no adapter (Chromium needs --enable-unsafe-webgpu)');
    const { device } = await createEngineDevice(probe, false);
    try {
      return new GpuKernels(device, dims, adapterInfoOf(probe), new GpuExplainer(device, dims), new GpuHeatmapRenderer(device), 'kernels+device');
    } catch (error) {
      device.destroy();
      throw error;
    }
  }

  /** The engine's own kernels (engineStages): destroy() releases only what was uploaded. */
  static borrowed(parts: { device: GPUDevice; explainer: GpuExplainer; renderer: GpuHeatmapRenderer }, dims: ExplainDims): GpuKernels {
    return new GpuKernels(parts.device, dims, null, parts.explainer, parts.renderer, 'nothing');
  }

  /** Copies CPU tensors into STORAGE buffers of this device; each name's buffer is made once and rewritten later. */
  upload(tensors: ExplainTensors<Float32Array>): ExplainTensors<GPUBuffer> {
    const out = {} as ExplainTensors<GPUBuffer>;
    for (const [name, data] of Object.entries(tensors) as [keyof ExplainTensors<Float32Array>, Float32Array | undefined][]) {
      if (!data) continue;
      let buffer = this.uploaded.get(name);
      if (buffer && buffer.size !== data.byteLength) { buffer.destroy(); buffer = undefined; }
      if (!buffer) {
        buffer = this.device.createBuffer({ label: `GpuKernels.uploaded.${name}`, size: data.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
        this.uploaded.set(name, buffer);
      }
      this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
      out[name] = buffer;
    }
    return out;
  }

  /** One explanation by the WGSL kernels; `gpuMs` is set where the device has timestamp queries. */
  explain(tensors: ExplainTensors<GPUBuffer>, options: Required<ExplainOptions>): Promise<ExplainResult> {
    return this.explainer.run(tensors, options);
  }

  /** Draws photo + map into `canvas` (WebGPU context); resolves with the time until the GPU finished, in ms. */
  drawOverlay(canvas: HTMLCanvasElement | OffscreenCanvas, values: Float32Array, photo: ImageBitmap | PixelImage, options: RenderOptions): Promise<number> {
    return this.renderer.draw(canvas, values, this.dims.gridSize, photo, options);
  }

  /** Renders photo + map into an rgba8unorm STORAGE texture; submits, does not wait. */
  renderOverlayToTexture(target: GPUTexture, values: Float32Array, photo: ImageBitmap | PixelImage, options: RenderOptions): void {
    this.renderer.renderToTexture(target, values, this.dims.gridSize, photo, options);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const buffer of this.uploaded.values()) buffer.destroy();
    this.uploaded.clear();
    if (this.owns === 'nothing') return;
    this.explainer.destroy();
    this.renderer.destroy();
    if (this.owns === 'kernels+device') this.device.destroy();
  }
}
