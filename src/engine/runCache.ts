// Model runs and the cache of their outputs: one run of a photo serves every method its outputs cover, and a new
// head reuses the head-independent outputs (attentions, features) instead of running the model again.
import type { Tensor } from 'onnxruntime-web';
import { EngineError } from './errors';
import type { ExplainDims, ExplainTensorName, ExplainTensors } from './explain';
import { graphOutputs, type GraphKind, type OutputName } from './model/contract';
import { graphFeeds, toOrtFeeds } from './model/feeds';
import { headLogits, type Head } from './model/head';
import { argmax } from './model/logits';
import type { Manifest } from './model/manifest';
import type { Ort } from './model/ort';
import type { Backend, EngineRuntime } from './runtime';

/** Cached model runs kept (each holds up to three [L,1,H,N,N] tensors); older ones are disposed. */
const RUN_CACHE_SIZE = 3;

export const OUTPUT_OF: Record<ExplainTensorName, OutputName> = {
  attentions: 'attentions',
  attentionGrads: 'attention_grads',
  attentionRelevance: 'attention_relevance',
};

export interface CachedRun {
  photoId: number;
  graph: GraphKind;
  /** Class whose score the gradients/relevance explain (the top class for a zero target). */
  target: number;
  headGeneration: number;
  logits: Float32Array;
  /** The backbone's [1,F] features: with a new head, logits are recomputed from them instead of re-running. */
  features: Float32Array;
  /** The graph's optional `layer_features` [2L·D] (intermediate blocks, for the head's layer open-set score). */
  layerFeatures?: Float32Array;
  tensors: Partial<Record<ExplainTensorName, Tensor>>;
}

/** A cached run's outputs on the CPU, for tests comparing the GPU path with the CPU reference. */
export interface CachedOutputs {
  graph: GraphKind;
  target: number;
  logits: Float32Array;
  tensors: ExplainTensors<Float32Array>;
}

function disposeRun(run: CachedRun): void {
  for (const t of Object.values(run.tensors)) t.dispose();
}

/** The last few runs, most recently used first. */
export class RunCache {
  private runs: CachedRun[] = [];

  get size(): number {
    return this.runs.length;
  }

  get liveTensors(): number {
    return this.runs.reduce((n, r) => n + Object.keys(r.tensors).length, 0);
  }

  remember(run: CachedRun): void {
    this.runs.unshift(run);
    for (const old of this.runs.splice(RUN_CACHE_SIZE)) disposeRun(old);
  }

  /** Any run of this photo with this head (its logits give the top class). */
  anyRunOf(photoId: number, headGeneration: number): CachedRun | undefined {
    return this.runs.find((r) => r.photoId === photoId && r.headGeneration === headGeneration);
  }

  /** A cached run of this photo that has every tensor `needed` for `target` (undefined: any target). */
  find(photoId: number, headGeneration: number, needed: readonly ExplainTensorName[], target: number | undefined): CachedRun | undefined {
    const needsTarget = needed.some((n) => n !== 'attentions');
    const run = this.runs.find((r) => r.photoId === photoId && r.headGeneration === headGeneration
      && needed.every((n) => r.tensors[n]) && (!needsTarget || target === undefined || r.target === target));
    if (run) this.runs = [run, ...this.runs.filter((r) => r !== run)];
    return run;
  }

  dropPhoto(photoId: number): void {
    for (const run of this.runs.filter((r) => r.photoId === photoId)) disposeRun(run);
    this.runs = this.runs.filter((r) => r.photoId !== photoId);
  }

  clear(): void {
    for (const run of this.runs) disposeRun(run);
    this.runs = [];
  }

  /** After a head swap: attentions and features do not depend on the head, so cached runs keep them with logits
   * recomputed from the features; gradients and relevance (which do depend on it) are released. */
  rebaseOnHead(head: Head, headGeneration: number): void {
    for (const run of this.runs) {
      for (const name of ['attentionGrads', 'attentionRelevance'] as const) {
        run.tensors[name]?.dispose();
        delete run.tensors[name];
      }
      run.logits = headLogits(head, run.features);
      run.target = argmax(run.logits);
      run.headGeneration = headGeneration;
    }
    this.runs = this.runs.filter((run) => run.tensors.attentions);
  }

  /** The cached outputs of one photo, downloaded to the CPU (most recently used first). */
  outputsOf(photoId: number): Promise<CachedOutputs[]> {
    return Promise.all(this.runs.filter((r) => r.photoId === photoId).map(async (run) => {
      const tensors: ExplainTensors<Float32Array> = { attentions: new Float32Array(0) };
      for (const [name, tensor] of Object.entries(run.tensors) as [ExplainTensorName, Tensor][]) {
        tensors[name] = new Float32Array(await tensor.getData() as Float32Array);
      }
      return { graph: run.graph, target: run.target, logits: run.logits, tensors };
    }));
  }
}

export interface RunRequest {
  photoId: number;
  pixels: Float32Array;
  graph: GraphKind;
  /** Class to explain; undefined = the top class (the contract's all-zero target). */
  target: number | undefined;
  head: Head;
  headGeneration: number;
}

/** The contract's graph inputs for one photo as tensors of `ort`: the one place a model run gets its feeds. */
export function ortGraphFeeds(ort: Ort, manifest: Manifest, head: Head, pixels: Float32Array, target: number | undefined): Record<string, Tensor> {
  return toOrtFeeds(graphFeeds(manifest.image_size, head, pixels, target), (data, dims) => new ort.Tensor('float32', data, dims));
}

/** Runs one graph on the current backend; every output is kept (a full or lrp run also serves rollout/attention). */
export async function runGraph(runtime: EngineRuntime, manifest: Manifest, dims: ExplainDims, request: RunRequest): Promise<CachedRun> {
  const backend: Backend = runtime.current;
  const { graph, head } = request;
  const session = await runtime.session(backend, graph);
  const feeds = ortGraphFeeds(backend.ort, manifest, head, request.pixels, request.target);
  const outputs = await session.run(feeds, graphOutputs(graph, manifest.outputs));
  if (backend.closed) {
    // The device was lost during the run: these outputs live on a dead device.
    for (const t of Object.values(outputs)) t.dispose();
    throw new EngineError('device-lost', `${graph} run finished on a lost device`);
  }
  const download = (name: 'logits' | 'features' | 'layer_features'): Float32Array => {
    const tensor = outputs[name]!;
    const values = new Float32Array(tensor.data as Float32Array);
    tensor.dispose();
    return values;
  };
  const logits = download('logits');
  const features = download('features');
  const layerFeatures = outputs.layer_features ? download('layer_features') : undefined;
  const tensors: Partial<Record<ExplainTensorName, Tensor>> = {};
  for (const [name, output] of Object.entries(OUTPUT_OF) as [ExplainTensorName, OutputName][]) {
    const tensor = outputs[output];
    if (tensor) tensors[name] = tensor;
  }
  const run: CachedRun = {
    photoId: request.photoId, graph, target: request.target ?? argmax(logits), headGeneration: request.headGeneration, logits, features, tensors,
    ...(layerFeatures ? { layerFeatures } : {}),
  };
  checkOutputShapes(run, head.labels.length, manifest.features, dims);
  return run;
}

function checkOutputShapes(run: CachedRun, classes: number, features: number, d: ExplainDims): void {
  const expected = [d.layers, 1, d.heads, d.tokens, d.tokens];
  const problems: string[] = [];
  if (run.logits.length !== classes) problems.push(`logits has ${run.logits.length} values, head has ${classes} classes`);
  if (run.features.length !== features) problems.push(`features has ${run.features.length} values, manifest says ${features}`);
  const rows = 2 * d.layers;
  if (run.layerFeatures && run.layerFeatures.length % rows !== 0) problems.push(`layer_features has ${run.layerFeatures.length} values, not ${rows} rows`);
  for (const [name, tensor] of Object.entries(run.tensors)) {
    if (tensor.dims.join(',') !== expected.join(',')) problems.push(`${OUTPUT_OF[name as ExplainTensorName]} is [${tensor.dims.join(',')}], expected [${expected.join(',')}]`);
  }
  if (problems.length > 0) {
    disposeRun(run);
    throw new EngineError('model-contract', `${run.graph} graph output: ${problems.join('; ')}`);
  }
}
