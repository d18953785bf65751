// The stages of a diagnosis one at a time, on an engine's own backend, for benchmarks and evaluations: the photo's
// model input, one graph run with the active head (timed until its outputs are ready), the explanation paths on its
// outputs, and the overlay. diagnose() is the app's way through the same stages; this measures each of them.
//
//   const stages = engineStages(engine);                           // engine from createEngine
//   const photo = await engine.loadPhoto(blob);                    // decode (photo.decodeMs)
//   const { pixels, crop, ms } = stages.modelInput(photo.bitmap);  // preprocess
//   const run = await stages.runGraph('full', pixels);             // run.ms, run.logits
//   await stages.kernels()?.explain(run.gpuTensors()!, options);     // WGSL on the run's GPU buffers (WebGPU)
//   explainOnCpu(await run.cpuTensors(), stages.dims, options);    // the CPU reference on the same outputs
//   run.dispose();
import { drawMap } from './draw';
import type { ExplainDims, ExplainTensorName, ExplainTensors } from './explain';
import { preprocessBitmap, type CropRect } from './image/preprocess';
import { adapterInfoOf, GpuKernels, type WebGpuAdapterInfo } from './kernels';
import { graphOutputs, type GraphKind, type OutputName } from './model/contract';
import type { Head } from './model/head';
import type { Manifest } from './model/manifest';
import { OUTPUT_OF, ortGraphFeeds } from './runCache';
import { explainDims, type EngineRuntime } from './runtime';
import type { BackendName, DrawOptions } from './types';
import type { Tensor } from 'onnxruntime-web';

export type { GraphKind, OutputName } from './model/contract';
export type { CropRect } from './image/preprocess';

/** What the model sees of a photo: the [3,S,S] planar RGB input in [0,1], and the centre square it was cut from. */
export interface ModelInput {
  pixels: Float32Array;
  crop: CropRect;
}

/** The model input of a photo (a PhotoHandle's bitmap, or any upright bitmap), exactly as diagnose() makes it. */
export function modelInput(bitmap: ImageBitmap, imageSize: number): ModelInput {
  return preprocessBitmap(bitmap, imageSize);
}

/** One graph run's outputs; the caller disposes them. */
export interface StageRun {
  readonly graph: GraphKind;
  /** From the start of the run until its outputs were ready (logits on the CPU, the GPU queue drained), in ms. */
  readonly ms: number;
  /** Undefined when the run was not asked for them. */
  readonly logits: Float32Array | undefined;
  /** The explanation tensors where the backend left them, for GpuKernels.explain: GPU buffers on WebGPU, null on WASM. */
  gpuTensors(): ExplainTensors<GPUBuffer> | null;
  /** The explanation tensors on the CPU (on WebGPU a copy: the run's buffers stay where they are). */
  cpuTensors(): Promise<ExplainTensors<Float32Array>>;
  dispose(): void;
}

export interface StageRunOptions {
  /** The class whose score the gradients and relevance explain; default the top class (the contract's zero target). */
  target?: number;
  /** The outputs to fetch; default every output of the graph (what diagnose fetches). */
  outputs?: OutputName[];
}

/** The stages of a diagnosis on one engine's backend; from engineStages(engine). */
export class EngineStages {
  constructor(
    private readonly runtime: EngineRuntime,
    private readonly manifest: Manifest,
    private readonly head: () => Head,
  ) {}

  get backend(): BackendName {
    return this.runtime.current.backend;
  }

  /** The adapter of the engine's device; null on WASM. */
  get adapter(): WebGpuAdapterInfo | null {
    const gpu = this.runtime.current.gpu;
    return gpu ? adapterInfoOf(gpu.probe) : null;
  }

  /** onnxruntime's WASM threads (its WASM execution provider, on either backend). */
  get wasmThreads(): number {
    return this.runtime.current.ort.env.wasm.numThreads ?? 1;
  }

  get dims(): ExplainDims {
    return explainDims(this.manifest);
  }

  get imageSize(): number {
    return this.manifest.image_size;
  }

  get patchSize(): number {
    return this.manifest.patch_size;
  }

  /** The graphs this model has in the precision in use. */
  get graphs(): GraphKind[] {
    const { lrpFile } = this.runtime.current.files;
    // forward and full always; lrp when the model has one (fetched on the first session of it).
    return (['forward', 'full', 'lrp'] as const).filter((kind) => kind !== 'lrp' || lrpFile !== undefined);
  }

  /** The engine's WGSL kernels on its own device (WebGPU), as a new handle whose destroy() releases only what was
   * uploaded through it; null on WASM. */
  kernels(): GpuKernels | null {
    const gpu = this.runtime.current.gpu;
    return gpu ? GpuKernels.borrowed(gpu, this.dims) : null;
  }

  /** The photo's model input, timed. */
  modelInput(bitmap: ImageBitmap): ModelInput & { ms: number } {
    const t0 = performance.now();
    const input = modelInput(bitmap, this.manifest.image_size);
    return { ...input, ms: performance.now() - t0 };
  }

  /** Runs one graph with the active head on the engine's backend. Its session is opened first (not timed). */
  async runGraph(graph: GraphKind, pixels: Float32Array, options: StageRunOptions = {}): Promise<StageRun> {
    const backend = this.runtime.current;
    const session = await this.runtime.session(backend, graph);
    const fetches = options.outputs ?? graphOutputs(graph, this.manifest.outputs);
    const feeds = ortGraphFeeds(backend.ort, this.manifest, this.head(), pixels, options.target);
    const device = backend.gpu?.device;
    const t0 = performance.now();
    const outputs = await session.run(feeds, fetches);
    const logits = outputs.logits ? new Float32Array((await outputs.logits.getData()) as Float32Array) : undefined;
    if (device) await device.queue.onSubmittedWorkDone();
    const ms = performance.now() - t0;
    return new OutputsOfRun(graph, ms, logits, outputs, device);
  }

  /** Draws a map over the photo the way a diagnosis's heatmap.draw does on this backend (WebGPU renderer, or canvas
   * 2D on WASM and software adapters); resolves with the time it took, in ms. */
  drawOverlay(canvas: HTMLCanvasElement | OffscreenCanvas, values: Float32Array, photo: { bitmap: ImageBitmap; crop?: CropRect }, options: DrawOptions): Promise<number> {
    return drawMap(this.runtime, canvas, values, this.dims.gridSize, photo, options);
  }
}

class OutputsOfRun implements StageRun {
  constructor(
    readonly graph: GraphKind,
    readonly ms: number,
    readonly logits: Float32Array | undefined,
    private readonly outputs: Record<string, Tensor>,
    private readonly device: GPUDevice | undefined,
  ) {}

  private explainOutputs(): [ExplainTensorName, Tensor][] {
    return (Object.entries(OUTPUT_OF) as [ExplainTensorName, OutputName][])
      .flatMap(([name, output]) => (this.outputs[output] ? [[name, this.outputs[output]] as [ExplainTensorName, Tensor]] : []));
  }

  gpuTensors(): ExplainTensors<GPUBuffer> | null {
    const tensors = this.explainOutputs();
    if (tensors.length === 0 || tensors.some(([, t]) => t.location !== 'gpu-buffer')) return null;
    return Object.fromEntries(tensors.map(([name, t]) => [name, t.gpuBuffer as GPUBuffer])) as unknown as ExplainTensors<GPUBuffer>;
  }

  async cpuTensors(): Promise<ExplainTensors<Float32Array>> {
    const out = {} as ExplainTensors<Float32Array>;
    for (const [name, tensor] of this.explainOutputs()) {
      out[name] = tensor.location === 'gpu-buffer' && this.device
        ? await readBuffer(this.device, tensor.gpuBuffer as GPUBuffer, tensor.size)
        : ((await tensor.getData()) as Float32Array);
    }
    return out;
  }

  dispose(): void {
    for (const tensor of Object.values(this.outputs)) tensor.dispose();
  }
}

/** Copies `length` floats of a GPU buffer to the CPU without moving the buffer (tensor.getData() would). */
async function readBuffer(device: GPUDevice, buffer: GPUBuffer, length: number): Promise<Float32Array> {
  const staging = device.createBuffer({ label: 'EngineStages.readback', size: length * 4, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
  try {
    const encoder = device.createCommandEncoder({ label: 'EngineStages.readback' });
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, length * 4);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    return new Float32Array(staging.getMappedRange().slice(0));
  } finally {
    staging.destroy();
  }
}
