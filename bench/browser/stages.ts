// One backend, stage by stage: decode, preprocess, forward-only graph, full graph (forward + gradients), lrp graph
// (forward + gradients + LRP relevance, when the model has one), every explanation kernel
// (WGSL on WebGPU) and its TS reference, and the overlay. Warm-up runs first, then `runs` timed runs.
import {
  describeError, explainOnCpu, explainOnCpuFast, GpuKernels, withExplainDefaults,
  type BackendName, type ExplainDims, type ExplainMethod, type ExplainOptions, type ExplainTensors, type OutputName, type StageRun,
} from '../../src/engine/index';
import type { TimingSource } from '../lib/report';
import { summarize, type Summary } from '../lib/stats';
import { adapterLabel, adapterReport, openBenchEngine } from './engines';

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

export async function runStages(config: StagesConfig): Promise<StagesResult> {
  const { backend, log } = config;
  const errors: string[] = [];
  const graphsOnWasm = backend === 'webgpu' && config.graphsOnWasm === true;
  const { engine, stages } = await openBenchEngine(config.modelUrl, graphsOnWasm ? 'wasm' : backend);
  let ownKernels: GpuKernels | null = null;
  let kernels: GpuKernels | null = null;
  const photoBlob = await (await fetch(config.photoUrl)).blob();
  const samples: Record<string, number[]> = {};
  const record = (stage: string, ms: number, timed: boolean): void => {
    if (timed) (samples[stage] ??= []).push(ms);
  };
  let kernelTiming: TimingSource = backend === 'wasm' ? 'cpu' : 'wall';
  const dims: ExplainDims = stages.dims;
  const hasRelevance = stages.graphs.includes('lrp');
  const methods = engine.model.methods;
  const cases = STAGE_CASES.filter((c) => methods.includes(c.options.method));
  const notes = graphsOnWasm ? ['software WebGPU adapter: the graphs ran on WASM and their outputs were uploaded for the WGSL kernels, so there are no WebGPU graph timings'] : [];
  const fullFetches: OutputName[] = ['logits', 'attentions', 'attention_grads'];

  try {
    // On WebGPU the engine's own kernels on its device; with graphs on WASM, kernels on a device of their own.
    ownKernels = graphsOnWasm ? await GpuKernels.open(dims) : null;
    kernels = ownKernels ?? stages.kernels();
    for (let run = 0; run < config.warmup + config.runs; run++) {
      const timed = run >= config.warmup;
      const photo = await engine.loadPhoto(photoBlob);
      record('decode', photo.decodeMs, timed);
      const input = stages.modelInput(photo.bitmap);
      record('preprocess', input.ms, timed);

      // Forward-only graph: logits read on the CPU, attentions left where the engine leaves them.
      const forward = await stages.runGraph('forward', input.pixels, { outputs: ['logits', 'attentions'] });
      if (!graphsOnWasm) record('forward', forward.ms, timed);
      forward.dispose();

      const full = await stages.runGraph('full', input.pixels, { outputs: fullFetches });
      if (!graphsOnWasm) record('forward+gradients', full.ms, timed);
      // The lrp graph, run only for the lrp method: its relevance output joins the full graph's tensors.
      let lrp: StageRun | undefined;
      if (hasRelevance) {
        lrp = await stages.runGraph('lrp', input.pixels, { outputs: ['logits', 'attention_relevance'] });
        if (!graphsOnWasm) record('forward+gradients+lrp', lrp.ms, timed);
      }
      const logits = full.logits!;
      let top = 0;
      for (let c = 1; c < logits.length; c++) if (logits[c]! > logits[top]!) top = c;

      // CPU copies for the TS references (on WebGPU a download, not timed as a stage; the run's buffers stay put).
      const cpuTensors: ExplainTensors<Float32Array> = { ...(await full.cpuTensors()), ...(lrp ? await lrp.cpuTensors() : {}) };
      // WGSL kernels first, on the GPU buffers as the engine passes them, or on uploaded copies of the WASM outputs.
      const gpuTensors: ExplainTensors<GPUBuffer> | null = !kernels
        ? null
        : graphsOnWasm
          ? kernels.upload(cpuTensors)
          : { ...full.gpuTensors()!, ...(lrp ? lrp.gpuTensors()! : {}) };
      if (kernels && gpuTensors) {
        for (const c of cases) {
          try {
            const t0 = performance.now();
            const result = await kernels.explain(gpuTensors, withExplainDefaults(c.options, dims, top));
            const wall = performance.now() - t0;
            if (result.gpuMs !== undefined) kernelTiming = 'timestamp-query';
            record(`wgsl:${c.key}`, result.gpuMs ?? wall, timed);
            record(`wgsl-wall:${c.key}`, wall, timed);
          } catch (err) {
            if (run === 0) errors.push(`wgsl ${c.key}: ${describeError(err)}`);
          }
        }
      }

      let lastValues: Float32Array = new Float32Array(dims.gridSize * dims.gridSize);
      for (const c of cases) {
        try {
          const options = withExplainDefaults(c.options, dims, top);
          let t0 = performance.now();
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
      full.dispose();
      lrp?.dispose();

      const drawOptions = { colorMap: 'turbo' as const, opacity: 0.5 };
      try {
        if (kernels) {
          record('wgsl:overlay', await kernels.drawOverlay(config.canvas, lastValues, photo.bitmap, { ...drawOptions, photoRect: input.crop }), timed);
        } else {
          const t0 = performance.now();
          await stages.drawOverlay(config.canvas, lastValues, { bitmap: photo.bitmap, crop: input.crop }, drawOptions);
          record('canvas2d:overlay', performance.now() - t0, timed);
        }
      } catch (err) {
        if (run === 0) errors.push(`overlay: ${describeError(err)}`);
      }
      photo.close();
      log(`${backend} run ${run + 1}/${config.warmup + config.runs}${timed ? '' : ' (warm-up)'}`);
    }
  } finally {
    kernels?.destroy();
    engine.dispose();
  }
  const adapter = ownKernels?.adapter ?? stages.adapter;
  const stageSummaries: Record<string, Summary> = {};
  for (const [stage, values] of Object.entries(samples)) stageSummaries[stage] = summarize(values);
  const { name, title, trained, architecture } = engine.model;
  return {
    backend,
    adapter: adapterLabel(backend, adapter, stages.wasmThreads),
    adapter_info: adapterReport(adapter),
    model_bytes: engine.model.totalBytes,
    model: { name, title, trained, architecture },
    stages: stageSummaries,
    kernel_timing: kernelTiming,
    methods,
    notes,
    errors,
  };
}
