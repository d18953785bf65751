// One backend, stage by stage: decode, preprocess, forward-only graph, full graph (forward + gradients), lrp graph
// (forward + gradients + LRP relevance, when the model has one), every explanation kernel
// (WGSL on WebGPU) and its TS reference, and the overlay. Warm-up runs first, then `runs` timed runs.
import { describeError } from '../../src/engine/index';
import type { Tensor } from 'onnxruntime-web';
import { EXPLAIN_METHODS, explainOnCpu, explainOnCpuFast, GpuExplainer, withExplainDefaults, type ExplainDims, type ExplainTensors } from '../../src/engine/explain/index';
import { decodePhoto } from '../../src/engine/image/decode';
import { preprocessBitmap } from '../../src/engine/image/preprocess';
import { gridSizeOf, type Manifest } from '../../src/engine/model/manifest';
import type { OutputName } from '../../src/engine/model/contract';
import { graphFeeds, toOrtFeeds } from '../../src/engine/model/feeds';
import { drawHeatmap2d, GpuHeatmapRenderer } from '../../src/engine/render/index';
import type { BackendName, ExplainMethod, ExplainOptions } from '../../src/engine/index';
import type { TimingSource } from '../lib/report';
import { summarize, type Summary } from '../lib/stats';
import { adapterLabel, adapterReport, loadModelFiles, openDevice, openSessions } from './model';

export interface StagesConfig {
  modelUrl: string;
  photoUrl: string;
  backend: BackendName;
  warmup: number;
  runs: number;
  /** WebGPU only: run the graphs on WASM and upload their outputs for the kernels. For software adapters,
   * where one DeiT-tiny graph run takes minutes; graph stages are then not reported for WebGPU. */
  graphsOnWasm?: boolean;
  canvas: HTMLCanvasElement;
  log: (line: string) => void;
}

export interface StagesResult {
  backend: BackendName;
  adapter: string;
  adapter_info: ReturnType<typeof adapterReport>;
  model_bytes: number;
  model: { name: string; title: string; trained: boolean; architecture: string };
  stages: Record<string, Summary>;
  kernel_timing: TimingSource;
  /** The methods this model supports (lrp only with an lrp graph). */
  methods: ExplainMethod[];
  notes: string[];
  errors: string[];
}

/** Kernel cases: each method with its defaults, plus rollout at the discard ratio the evaluation also tries. */
export const STAGE_CASES: { key: string; options: ExplainOptions }[] = [
  { key: 'attention', options: { method: 'attention' } },
  { key: 'rollout', options: { method: 'rollout' } },
  { key: 'rollout (discard 0.9)', options: { method: 'rollout', discardRatio: 0.9 } },
  { key: 'relevance', options: { method: 'relevance' } },
  { key: 'lrp', options: { method: 'lrp' } },
];

export function dimsOf(manifest: Manifest): ExplainDims {
  return { layers: manifest.layers, heads: manifest.heads, tokens: manifest.tokens, prefixTokens: manifest.prefix_tokens, gridSize: gridSizeOf(manifest) };
}

/** Copies `length` floats of a GPU buffer to the CPU. */
async function readBuffer(device: GPUDevice, buffer: GPUBuffer, length: number): Promise<Float32Array> {
  const staging = device.createBuffer({ label: 'bench.readback', size: length * 4, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
  try {
    const encoder = device.createCommandEncoder({ label: 'bench.readback' });
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, length * 4);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    return new Float32Array(staging.getMappedRange().slice(0));
  } finally {
    staging.destroy();
  }
}

/** STORAGE buffers holding CPU tensors for the kernels, made once and rewritten each run. */
class UploadedTensors {
  private readonly buffers = new Map<string, GPUBuffer>();
  get(device: GPUDevice, name: string, data: Float32Array): GPUBuffer {
    let buffer = this.buffers.get(name);
    if (!buffer) {
      buffer = device.createBuffer({ label: `bench.uploaded.${name}`, size: data.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
      this.buffers.set(name, buffer);
    }
    device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return buffer;
  }
  destroy(): void {
    for (const buffer of this.buffers.values()) buffer.destroy();
    this.buffers.clear();
  }
}

export async function runStages(config: StagesConfig): Promise<StagesResult> {
  const { backend, log } = config;
  const errors: string[] = [];
  const model = await loadModelFiles(config.modelUrl);
  const { manifest, head } = model;
  const graphsOnWasm = backend === 'webgpu' && config.graphsOnWasm === true;
  const sessions = await openSessions(model, graphsOnWasm ? 'wasm' : backend);
  const { ort } = sessions;
  const kernelDevice = graphsOnWasm ? await openDevice() : null;
  const device = kernelDevice?.device ?? sessions.device;
  const probe = kernelDevice?.probe ?? sessions.probe;
  const notes = graphsOnWasm ? ['software WebGPU adapter: the graphs ran on WASM and their outputs were uploaded for the WGSL kernels, so there are no WebGPU graph timings'] : [];
  const dims = dimsOf(manifest);
  const lrpSession = sessions.lrp;
  const hasRelevance = lrpSession !== undefined;
  const methods = EXPLAIN_METHODS.filter((m) => m !== 'lrp' || hasRelevance);
  const cases = STAGE_CASES.filter((c) => methods.includes(c.options.method));
  const photoBlob = await (await fetch(config.photoUrl)).blob();
  const uploaded = new UploadedTensors();
  const explainer = device ? new GpuExplainer(device, dims) : null;
  const renderer = device ? new GpuHeatmapRenderer(device) : null;
  const samples: Record<string, number[]> = {};
  const record = (stage: string, ms: number, timed: boolean): void => {
    if (timed) (samples[stage] ??= []).push(ms);
  };
  let kernelTiming: TimingSource = backend === 'wasm' ? 'cpu' : 'wall';
  const fullFetches: OutputName[] = ['logits', 'attentions', 'attention_grads'];

  try {
    for (let run = 0; run < config.warmup + config.runs; run++) {
      const timed = run >= config.warmup;
      let t0 = performance.now();
      const decoded = await decodePhoto(photoBlob);
      record('decode', performance.now() - t0, timed);

      t0 = performance.now();
      const { pixels, crop } = preprocessBitmap(decoded.bitmap, manifest.image_size);
      record('preprocess', performance.now() - t0, timed);
      const feeds = toOrtFeeds(graphFeeds(manifest.image_size, head, pixels), (data, dims) => new ort.Tensor('float32', data, dims));

      // Forward-only graph: logits read on the CPU, attentions left where the engine leaves them.
      t0 = performance.now();
      const forwardOut = await sessions.forward.run(feeds, ['logits', 'attentions']);
      await forwardOut.logits!.getData();
      if (device) await device.queue.onSubmittedWorkDone();
      if (!graphsOnWasm) record('forward', performance.now() - t0, timed);
      for (const t of Object.values(forwardOut)) t.dispose();

      t0 = performance.now();
      const fullOut = await sessions.full.run(feeds, fullFetches);
      const logits = (await fullOut.logits!.getData()) as Float32Array;
      if (device) await device.queue.onSubmittedWorkDone();
      if (!graphsOnWasm) record('forward+gradients', performance.now() - t0, timed);

      // The lrp graph, run only for the lrp method: its relevance output joins the full graph's tensors.
      let lrpOut: Record<string, Tensor> = {};
      if (lrpSession) {
        t0 = performance.now();
        lrpOut = await lrpSession.run(feeds, ['logits', 'attention_relevance']);
        await lrpOut.logits!.getData();
        if (device) await device.queue.onSubmittedWorkDone();
        if (!graphsOnWasm) record('forward+gradients+lrp', performance.now() - t0, timed);
      }
      let top = 0;
      for (let c = 1; c < logits.length; c++) if (logits[c]! > logits[top]!) top = c;

      // WGSL kernels first, on the GPU buffers as the engine passes them (reading a tensor's data moves it to the CPU).
      const gpuTensors: ExplainTensors<GPUBuffer> | null = !device
        ? null
        : graphsOnWasm
          ? {
              attentions: uploaded.get(device, 'attentions', (await fullOut.attentions!.getData()) as Float32Array),
              attentionGrads: uploaded.get(device, 'attention_grads', (await fullOut.attention_grads!.getData()) as Float32Array),
              attentionRelevance: hasRelevance ? uploaded.get(device, 'attention_relevance', (await lrpOut.attention_relevance!.getData()) as Float32Array) : undefined,
            }
          : {
              attentions: fullOut.attentions!.gpuBuffer as GPUBuffer,
              attentionGrads: fullOut.attention_grads!.gpuBuffer as GPUBuffer,
              attentionRelevance: hasRelevance ? (lrpOut.attention_relevance!.gpuBuffer as GPUBuffer) : undefined,
            };
      if (explainer && gpuTensors) {
        for (const c of cases) {
          try {
            t0 = performance.now();
            const result = await explainer.run(gpuTensors, withExplainDefaults(c.options, dims, top));
            const wall = performance.now() - t0;
            if (result.gpuMs !== undefined) kernelTiming = 'timestamp-query';
            record(`wgsl:${c.key}`, result.gpuMs ?? wall, timed);
            record(`wgsl-wall:${c.key}`, wall, timed);
          } catch (err) {
            if (run === 0) errors.push(`wgsl ${c.key}: ${describeError(err)}`);
          }
        }
      }

      // CPU copies for the TS references (on WebGPU a download, not timed as a stage). Copied with our own
      // readback so the ORT tensors stay GPU-resident until disposed, as in the engine.
      const cpuOf = async (tensor: Tensor | undefined): Promise<Float32Array | undefined> => {
        if (!tensor) return undefined;
        return tensor.location === 'gpu-buffer' && device ? readBuffer(device, tensor.gpuBuffer as GPUBuffer, tensor.size) : ((await tensor.getData()) as Float32Array);
      };
      const cpuTensors: ExplainTensors<Float32Array> = {
        attentions: (await cpuOf(fullOut.attentions))!,
        attentionGrads: await cpuOf(fullOut.attention_grads),
        attentionRelevance: hasRelevance ? await cpuOf(lrpOut.attention_relevance) : undefined,
      };
      let lastValues: Float32Array = new Float32Array(dims.gridSize * dims.gridSize);
      for (const c of cases) {
        try {
          const options = withExplainDefaults(c.options, dims, top);
          t0 = performance.now();
          const values = explainOnCpu(cpuTensors, dims, options).values;
          record(`ts:${c.key}`, performance.now() - t0, timed);
          // The WASM path's fast twin of the reference (what the engine runs on WASM), on the same tensors.
          t0 = performance.now();
          explainOnCpuFast(cpuTensors, dims, options);
          record(`cpu:${c.key}`, performance.now() - t0, timed);
          if (options.method === 'relevance') lastValues = values;
        } catch (err) {
          if (run === 0) errors.push(`ts ${c.key}: ${describeError(err)}`);
        }
      }
      for (const t of [...Object.values(fullOut), ...Object.values(lrpOut)]) t.dispose();

      const drawOptions = { colorMap: 'turbo' as const, opacity: 0.5, photoRect: crop };
      try {
        if (renderer) {
          record('wgsl:overlay', await renderer.draw(config.canvas, lastValues, dims.gridSize, decoded.bitmap, drawOptions), timed);
        } else {
          t0 = performance.now();
          await drawHeatmap2d(config.canvas, lastValues, dims.gridSize, decoded.bitmap, drawOptions);
          record('canvas2d:overlay', performance.now() - t0, timed);
        }
      } catch (err) {
        if (run === 0) errors.push(`overlay: ${describeError(err)}`);
      }
      decoded.bitmap.close();
      log(`${backend} run ${run + 1}/${config.warmup + config.runs}${timed ? '' : ' (warm-up)'}`);
    }
  } finally {
    explainer?.destroy();
    renderer?.destroy();
    uploaded.destroy();
    await sessions.forward.release();
    await sessions.full.release();
    await sessions.lrp?.release();
    device?.destroy();
  }
  const stages: Record<string, Summary> = {};
  for (const [stage, values] of Object.entries(samples)) stages[stage] = summarize(values);
  return {
    backend,
    adapter: adapterLabel({ ...sessions, backend, probe }),
    adapter_info: adapterReport(probe),
    model_bytes: model.bytes,
    model: { name: manifest.name, title: manifest.title, trained: manifest.trained, architecture: manifest.architecture },
    stages,
    kernel_timing: kernelTiming,
    methods,
    notes,
    errors,
  };
}
