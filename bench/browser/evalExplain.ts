// The perturbation test, page side. One EvalSession per page: the model on WASM (maps by the TS references,
// and every perturbed forward run) and, optionally, on WebGPU (maps by the WGSL kernels, for the
// top-patch agreement). The runner (scripts/eval-explain.ts) feeds photos one at a time and aggregates.
import {
  explainOnCpu, GpuKernels, withExplainDefaults,
  type ExplainDims, type ExplainOptions, type ExplainTensors, type GraphKind, type OutputName,
} from '../../src/engine/index';
import { softmax } from '../../src/engine/model/logits';
import type { EvalCase, PhotoRecord } from '../lib/evalAggregate';
import { argmax, fillPatches, meanColour, PERTURBATION_FRACTIONS, randomOrder, removalOrder, removedCount } from '../lib/perturb';
import { adapterLabel, openBenchEngine, type BenchEngine } from './engines';

export interface EvalConfig {
  modelUrl: string;
  /** Open the model on WebGPU too: maps by the WGSL kernels (top-patch agreement), and perturbed runs if asked. */
  webgpu: boolean;
  /** Where the perturbed forward runs go: WASM by default (software WebGPU is far slower); WebGPU on a real GPU. */
  perturbBackend: 'wasm' | 'webgpu';
  seed: number;
}

export interface EvalInfo {
  model: { name: string; title: string; trained: boolean; architecture: string };
  labels: string[];
  cases: EvalCase[];
  fractions: number[];
  adapters: Record<string, string>;
  /** true when the WebGPU adapter is software (SwiftShader): the runner then maps only a few photos there. */
  webgpuSoftware: boolean | null;
}

/** The methods and settings compared; lrp only when the model exports attention_relevance. */
export function evalCases(hasRelevance: boolean): EvalCase[] {
  const cases: EvalCase[] = [
    { name: 'relevance', method: 'relevance', options: {} },
    { name: 'rollout (mean, discard 0)', method: 'rollout', options: { headFusion: 'mean', discardRatio: 0 } },
    { name: 'rollout (mean, discard 0.5)', method: 'rollout', options: { headFusion: 'mean', discardRatio: 0.5 } },
    { name: 'rollout (mean, discard 0.9)', method: 'rollout', options: { headFusion: 'mean', discardRatio: 0.9 } },
    { name: 'attention (last block, mean)', method: 'attention', options: { headFusion: 'mean' } },
  ];
  if (hasRelevance) cases.push({ name: 'lrp', method: 'lrp', options: {} });
  cases.push({ name: 'random', method: 'random', options: {} });
  return cases;
}

export class EvalSession {
  private constructor(
    readonly wasm: BenchEngine,
    /** The WebGPU engine and its kernels on the engine's device. */
    readonly gpu: { bench: BenchEngine; kernels: GpuKernels } | null,
    readonly cases: EvalCase[],
    readonly config: EvalConfig,
  ) {}

  static async open(config: EvalConfig): Promise<EvalSession> {
    const wasm = await openBenchEngine(config.modelUrl, 'wasm');
    let gpu: EvalSession['gpu'] = null;
    if (config.webgpu || config.perturbBackend === 'webgpu') {
      try {
        const bench = await openBenchEngine(config.modelUrl, 'webgpu');
        gpu = { bench, kernels: bench.stages.kernels()! };
      } catch (error) {
        wasm.engine.dispose();
        throw error;
      }
    }
    const hasRelevance = wasm.stages.graphs.includes('lrp');
    return new EvalSession(wasm, gpu, evalCases(hasRelevance), config);
  }

  get dims(): ExplainDims {
    return this.wasm.stages.dims;
  }

  info(): EvalInfo {
    const { name, title, trained, architecture, labels } = this.wasm.engine.model;
    const adapters: Record<string, string> = { wasm: adapterLabel('wasm', null, this.wasm.stages.wasmThreads) };
    if (this.gpu) adapters.webgpu = adapterLabel('webgpu', this.gpu.bench.stages.adapter, this.gpu.bench.stages.wasmThreads);
    return {
      model: { name, title, trained, architecture },
      labels,
      cases: this.cases,
      fractions: [...PERTURBATION_FRACTIONS],
      adapters,
      webgpuSoftware: this.gpu ? (this.gpu.bench.stages.adapter?.software ?? null) : null,
    };
  }

  private optionsFor(c: EvalCase, predicted: number): Required<ExplainOptions> {
    return withExplainDefaults({ method: c.method as ExplainOptions['method'], ...c.options }, this.dims, predicted);
  }

  private async predict(pixels: Float32Array): Promise<number> {
    const { stages } = this.config.perturbBackend === 'webgpu' && this.gpu ? this.gpu.bench : this.wasm;
    const run = await stages.runGraph('forward', pixels, { outputs: ['logits'] });
    run.dispose();
    return argmax(run.logits!);
  }

  /** Everything for one photo: the prediction, each case's map on both paths, and its perturbation curve. */
  async photo(url: string, label: number, index: number, withWebgpu: boolean): Promise<PhotoRecord> {
    const blob = await (await fetch(url)).blob();
    const { engine, stages } = this.wasm;
    const size = stages.imageSize;
    const patchSize = stages.patchSize;
    const loaded = await engine.loadPhoto(blob);
    const { pixels } = stages.modelInput(loaded.bitmap);
    loaded.close();

    // One run gives every method's tensors: the lrp graph when there is one (it also has the gradients), else the full graph.
    const hasRelevance = stages.graphs.includes('lrp');
    const graph: GraphKind = hasRelevance ? 'lrp' : 'full';
    const fetches: OutputName[] = ['logits', 'attentions', 'attention_grads', ...(hasRelevance ? ['attention_relevance' as const] : [])];
    const out = await stages.runGraph(graph, pixels, { outputs: fetches });
    const logits = out.logits!;
    const predicted = argmax(logits);
    let tensors: ExplainTensors<Float32Array>;
    try {
      tensors = await out.cpuTensors();
    } finally {
      out.dispose();
    }

    const patches = this.dims.gridSize * this.dims.gridSize;
    const orders: Record<string, { positive: number[]; negative: number[] }> = {};
    const topPatch: PhotoRecord['topPatch'] = {};
    for (const c of this.cases) {
      if (c.method === 'random') {
        // One random order per photo, used for both directions (a random order reversed is random too).
        const order = randomOrder(patches, this.config.seed * 100_003 + index);
        orders[c.name] = { positive: order, negative: [...order].reverse() };
        continue;
      }
      const map = explainOnCpu(tensors, this.dims, this.optionsFor(c, predicted)).raw;
      orders[c.name] = { positive: removalOrder(map, 'positive'), negative: removalOrder(map, 'negative') };
      topPatch[c.name] = { wasm: argmax(map) };
    }

    if (this.gpu && withWebgpu) {
      const { bench, kernels } = this.gpu;
      const gpuOut = await bench.stages.runGraph(graph, pixels, { outputs: fetches });
      try {
        const gpuTensors = gpuOut.gpuTensors();
        if (!gpuTensors) throw new Error('the WebGPU run left no tensors on the GPU');
        const gpuPredicted = argmax(gpuOut.logits!);
        for (const c of this.cases) {
          if (c.method === 'random') continue;
          // Explain the class the WASM path predicted, so both maps answer the same question.
          const result = await kernels.explain(gpuTensors, this.optionsFor(c, predicted));
          topPatch[c.name]!.webgpu = argmax(result.raw);
        }
        // Not a patch: the predicted class, so the same agreement count covers the classification too.
        topPatch['(predicted class)'] = { wasm: predicted, webgpu: gpuPredicted };
      } finally {
        gpuOut.dispose();
      }
    }

    const fill = meanColour(pixels, size);
    // Methods often agree on a removal set (e.g. rollout at two discard ratios): each distinct input runs once.
    const predictions = new Map<string, Promise<number>>();
    const predictRemoved = (removed: number[]): Promise<number> => {
      const key = [...removed].sort((a, b) => a - b).join(',');
      let p = predictions.get(key);
      if (!p) {
        p = this.predict(fillPatches(pixels, size, patchSize, removed, fill));
        predictions.set(key, p);
      }
      return p;
    };
    const kept: PhotoRecord['kept'] = {};
    for (const c of this.cases) {
      const result = { positive: [] as boolean[], negative: [] as boolean[] };
      for (const direction of ['positive', 'negative'] as const) {
        const order = orders[c.name]![direction];
        for (const fraction of PERTURBATION_FRACTIONS) {
          const removed = order.slice(0, removedCount(fraction, patches));
          result[direction].push((await predictRemoved(removed)) === predicted);
        }
      }
      kept[c.name] = result;
    }
    return { path: url, label, predicted, kept, topPatch, forwardRuns: predictions.size, probabilities: Array.from(softmax(logits)) };
  }

  async close(): Promise<void> {
    this.gpu?.kernels.destroy();
    this.gpu?.bench.engine.dispose();
    this.wasm.engine.dispose();
    return Promise.resolve();
  }
}
