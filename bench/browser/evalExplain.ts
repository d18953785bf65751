// The perturbation test, page side. One EvalSession per page: the model on WASM (maps by the TS references,
// and every perturbed forward run) and, optionally, on WebGPU (maps by the WGSL kernels, for the
// top-patch agreement). The runner (scripts/eval-explain.ts) feeds photos one at a time and aggregates.
import type { Tensor } from 'onnxruntime-web';
import { explainOnCpu, GpuExplainer, withExplainDefaults, type ExplainDims, type ExplainTensors } from '../../src/engine/explain/index';
import { decodePhoto } from '../../src/engine/image/decode';
import { preprocessBitmap } from '../../src/engine/image/preprocess';
import type { OutputName } from '../../src/engine/model/contract';
import { graphFeeds, toOrtFeeds } from '../../src/engine/model/feeds';
import { softmax } from '../../src/engine/model/logits';
import type { ExplainOptions } from '../../src/engine/index';
import type { EvalCase, PhotoRecord } from '../lib/evalAggregate';
import { argmax, fillPatches, meanColour, PERTURBATION_FRACTIONS, randomOrder, removalOrder, removedCount } from '../lib/perturb';
import { adapterLabel, adapterReport, loadModelFiles, openSessions, type BenchSessions, type LoadedModel } from './model';
import { dimsOf } from './stages';

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
    readonly model: LoadedModel,
    readonly dims: ExplainDims,
    readonly wasm: BenchSessions,
    readonly gpu: { sessions: BenchSessions; explainer: GpuExplainer } | null,
    readonly cases: EvalCase[],
    readonly config: EvalConfig,
  ) {}

  static async open(config: EvalConfig): Promise<EvalSession> {
    const model = await loadModelFiles(config.modelUrl);
    const dims = dimsOf(model.manifest);
    const wasm = await openSessions(model, 'wasm');
    let gpu: EvalSession['gpu'] = null;
    if (config.webgpu || config.perturbBackend === 'webgpu') {
      const sessions = await openSessions(model, 'webgpu');
      gpu = { sessions, explainer: new GpuExplainer(sessions.device!, dims) };
    }
    const hasRelevance = wasm.lrp !== undefined;
    return new EvalSession(model, dims, wasm, gpu, evalCases(hasRelevance), config);
  }

  info(): EvalInfo {
    const m = this.model.manifest;
    return {
      model: { name: m.name, title: m.title, trained: m.trained, architecture: m.architecture },
      labels: this.model.head.labels,
      cases: this.cases,
      fractions: [...PERTURBATION_FRACTIONS],
      adapters: Object.fromEntries([this.wasm, ...(this.gpu ? [this.gpu.sessions] : [])].map((s) => [s.backend, adapterLabel(s)])),
      webgpuSoftware: this.gpu ? (adapterReport(this.gpu.sessions.probe)?.software ?? null) : null,
    };
  }

  private feeds(sessions: BenchSessions, pixels: Float32Array): Record<string, Tensor> {
    const { ort } = sessions;
    const { head, manifest } = this.model;
    return toOrtFeeds(graphFeeds(manifest.image_size, head, pixels), (data, dims) => new ort.Tensor('float32', data, dims));
  }

  private optionsFor(c: EvalCase, predicted: number): Required<ExplainOptions> {
    return withExplainDefaults({ method: c.method as ExplainOptions['method'], ...c.options }, this.dims, predicted);
  }

  private async predict(pixels: Float32Array): Promise<number> {
    const sessions = this.config.perturbBackend === 'webgpu' && this.gpu ? this.gpu.sessions : this.wasm;
    const out = await sessions.forward.run(this.feeds(sessions, pixels), ['logits']);
    const logits = (await out.logits!.getData()) as Float32Array;
    for (const t of Object.values(out)) t.dispose();
    return argmax(logits);
  }

  /** Everything for one photo: the prediction, each case's map on both paths, and its perturbation curve. */
  async photo(url: string, label: number, index: number, withWebgpu: boolean): Promise<PhotoRecord> {
    const blob = await (await fetch(url)).blob();
    const decoded = await decodePhoto(blob);
    const size = this.model.manifest.image_size;
    const patchSize = this.model.manifest.patch_size;
    const { pixels } = preprocessBitmap(decoded.bitmap, size);
    decoded.bitmap.close();

    // One run gives every method's tensors: the lrp graph when there is one (it also has the gradients), else the full graph.
    const hasRelevance = this.wasm.lrp !== undefined;
    const fetches: OutputName[] = ['logits', 'attentions', 'attention_grads', ...(hasRelevance ? ['attention_relevance' as const] : [])];
    const out = await (this.wasm.lrp ?? this.wasm.full).run(this.feeds(this.wasm, pixels), fetches);
    const logits = (await out.logits!.getData()) as Float32Array;
    const predicted = argmax(logits);
    const tensors: ExplainTensors<Float32Array> = {
      attentions: (await out.attentions!.getData()) as Float32Array,
      attentionGrads: (await out.attention_grads!.getData()) as Float32Array,
      attentionRelevance: hasRelevance ? ((await out.attention_relevance!.getData()) as Float32Array) : undefined,
    };
    for (const t of Object.values(out)) t.dispose();

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
      const { sessions, explainer } = this.gpu;
      const gpuOut = await (sessions.lrp ?? sessions.full).run(this.feeds(sessions, pixels), fetches);
      try {
        const gpuTensors: ExplainTensors<GPUBuffer> = {
          attentions: gpuOut.attentions!.gpuBuffer as GPUBuffer,
          attentionGrads: gpuOut.attention_grads!.gpuBuffer as GPUBuffer,
          attentionRelevance: hasRelevance ? (gpuOut.attention_relevance!.gpuBuffer as GPUBuffer) : undefined,
        };
        const gpuPredicted = argmax((await gpuOut.logits!.getData()) as Float32Array);
        for (const c of this.cases) {
          if (c.method === 'random') continue;
          // Explain the class the WASM path predicted, so both maps answer the same question.
          const result = await explainer.run(gpuTensors, this.optionsFor(c, predicted));
          topPatch[c.name]!.webgpu = argmax(result.raw);
        }
        // Not a patch: the predicted class, so the same agreement count covers the classification too.
        topPatch['(predicted class)'] = { wasm: predicted, webgpu: gpuPredicted };
      } finally {
        for (const t of Object.values(gpuOut)) t.dispose();
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
    this.gpu?.explainer.destroy();
    for (const s of [this.wasm, ...(this.gpu ? [this.gpu.sessions] : [])]) {
      await s.forward.release();
      await s.full.release();
      await s.lrp?.release();
      s.device?.destroy();
    }
  }
}
