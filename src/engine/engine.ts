// createEngine: the facade that composes the runtime (backends, sessions, device-loss recovery), the photo registry,
// the run cache, the explain path and drawing. The big attention tensors stay where the backend made them: GPU
// buffers for WebGPU, Float32Arrays for WASM.
import { makeHeatmap, type LastDraw2d } from './draw';
import { EngineError, describeError, toEngineError } from './errors';
import { methodSpec, withExplainDefaults, type ExplainDims } from './explain';
import { explainRun } from './explainPath';
import { assessPhotoQuality } from './image/quality';
import type { GraphKind } from './model/contract';
import { cacheApiFileCache, memoryFileCache, type ModelFileCache } from './model/fetcher';
import { validateHead, type Head } from './model/head';
import { loadDefaultHead, loadManifest, modelFolderUrl, type LoaderContext } from './model/loader';
import { judgeDiagnosis } from './model/domain';
import { combineLeaves, groupRuleOf, type GroupResult } from './model/group';
import { argmax } from './model/logits';
import type { Manifest } from './model/manifest';
import { Serializer } from './model/session';
import { describeModel } from './modelInfo';
import { PhotoRegistry } from './photos';
import { RunCache, runGraph, type CachedOutputs, type CachedRun } from './runCache';
import { EngineRuntime, explainDims, withTimeout } from './runtime';
import { EngineStages } from './stages';
import type { EngineDiagnostics } from './probes';
import type { BackendName, Diagnosis, Engine, EngineOptions, ExplainOptions, ModelInfo, PhotoEmbedding, PhotoHandle, StageTimings } from './types';


export const DEFAULT_CACHE_NAME = 'leaf-lens-models-v1';

/** How long a diagnosis retried after a device loss may take (software WebGPU runs take up to ~1 min). */
const RETRY_TIMEOUT_MS = 180_000;

/** After the model is ready, how long the graphs left out of its first load (lrp) wait before they are fetched into
 * the model cache (sooner if a diagnosis ends first): after the ready screen has rendered, not on the way to the
 * model, and soon enough to be there when the phone goes offline. */
export const DEFERRED_GRAPHS_DELAY_MS = 1_000;


export class LeafLensEngine implements Engine {
  readonly runtime: EngineRuntime;
  private head: Head;
  private readonly shippedHead: Head;
  private headGeneration = 0;
  private readonly photos = new PhotoRegistry();
  private readonly runs = new RunCache();
  private readonly serializer = new Serializer();
  private readonly dims: ExplainDims;
  private disposed = false;
  private counts: Record<GraphKind, number> = { forward: 0, full: 0, lrp: 0 };
  private deferredGraphs: { timer?: ReturnType<typeof setTimeout>; requested: boolean } = { requested: false };
  private readonly lastDraw2d: LastDraw2d = { width: 0, height: 0 };
  model: ModelInfo;

  constructor(private readonly manifest: Manifest, head: Head, loader: LoaderContext, options: EngineOptions) {
    this.head = head;
    this.shippedHead = head;
    this.dims = explainDims(manifest);
    this.model = this.describeModel(0, false);
    this.runtime = new EngineRuntime(manifest, loader, options, {
      classes: () => this.head.labels.length,
      onDeviceLost: () => this.runs.clear(),
      onBackendOpened: (backend) => { this.model = this.describeModel(backend.files.totalBytes, backend.files.fp16); },
    });
  }

  get backend(): BackendName {
    return this.runtime.current.backend;
  }

  private describeModel(totalBytes: number, usesF16: boolean): ModelInfo {
    return describeModel(this.manifest, this.head, this.head === this.shippedHead, { totalBytes, usesF16 });
  }

  async loadPhoto(source: Blob): Promise<PhotoHandle> {
    this.assertUsable();
    return this.photos.load(source, (id) => this.runs.dropPhoto(id));
  }

  /** Once the model is ready: the deferred graphs are fetched after DEFERRED_GRAPHS_DELAY_MS, or after the first
   * diagnosis if that comes sooner; not while the browser says it is offline (then LRP's first use fetches it). */
  scheduleDeferredGraphs(): void {
    this.deferredGraphs.timer = setTimeout(() => this.fetchDeferredGraphs(), DEFERRED_GRAPHS_DELAY_MS);
  }

  private fetchDeferredGraphs(): void {
    clearTimeout(this.deferredGraphs.timer);
    if (this.deferredGraphs.requested || this.disposed || globalThis.navigator?.onLine === false) return;
    this.deferredGraphs.requested = true;
    this.runtime.prefetchDeferredGraphs();
  }

  diagnose(photo: PhotoHandle, options: ExplainOptions): Promise<Diagnosis> {
    const diagnosis = this.serializer.run(async () => {
      try {
        return await this.diagnoseOnce(photo, options);
      } catch (error) {
        // The device went away mid-run: its 'lost' promise may settle just after the failure, so give it a moment,
        // then wait for the rebuilt backend and try once more.
        const device = this.runtime.current.gpu?.device;
        if (device && !this.runtime.recovering) await Promise.race([device.lost, new Promise((r) => setTimeout(r, 50))]);
        const recovering = this.runtime.recovering;
        if (recovering && !this.disposed) {
          await recovering;
          // Seen on SwiftShader: a device destroyed early in ORT's first run can leave ORT's instance unable to
          // finish the next run. Better a clear error than a frozen screen.
          return withTimeout(this.diagnoseOnce(photo, options), RETRY_TIMEOUT_MS, () => new EngineError('device-lost',
            `the rebuilt backend did not answer within ${RETRY_TIMEOUT_MS / 1000} s after a device loss`,
            'gpu-stopped'));
        }
        throw error;
      }
    }).catch((error: unknown) => { throw toEngineError(error, 'internal', 'diagnose'); });
    void diagnosis.then(() => this.fetchDeferredGraphs(), () => undefined);
    return diagnosis;
  }

  private async diagnoseOnce(photo: PhotoHandle, options: ExplainOptions): Promise<Diagnosis> {
    if (this.runtime.recovering) await this.runtime.recovering;
    this.assertUsable();
    this.runtime.assertOpen();
    const t0 = performance.now();
    const state = this.photos.get(photo);
    const classes = this.head.labels.length;
    const method = options.method;
    if (!this.model.methods.includes(method)) {
      throw new EngineError('model-contract', `method "${method}" needs outputs this model lacks (has: ${this.manifest.outputs.join(', ')})`,
        'method-unavailable');
    }
    if (options.targetClass !== undefined && (!Number.isInteger(options.targetClass) || options.targetClass < 0 || options.targetClass >= classes)) {
      throw new EngineError('internal', `targetClass ${options.targetClass} outside [0, ${classes - 1}]`);
    }
    const { pixels, preprocessMs } = this.photos.pixelsOf(state, this.manifest.image_size);

    const { graph, tensors: needed } = methodSpec(method);
    // The top class is known once any run of this photo (with this head) has logits.
    const knownTop = this.runs.anyRunOf(photo.id, this.headGeneration);
    const target = options.targetClass ?? (knownTop ? argmax(knownTop.logits) : undefined);
    const cached = this.runs.find(photo.id, this.headGeneration, needed, target);
    // The page waits while the model runs (in ORT's worker on WASM): scale the photo for the canvas of the last 2D
    // draw meanwhile, so that this diagnosis's draw only blends.
    if (!cached && this.lastDraw2d.width > 0) this.photos.prepareDraw(state, this.lastDraw2d.width, this.lastDraw2d.height);
    const { run, modelMs } = await this.cachedOrRun(cached, photo.id, pixels, graph, target);

    const quality = state.quality ?? assessPhotoQuality(pixels, this.manifest.image_size);
    const judged = judgeDiagnosis(this.head.domain, run.logits, run.features, quality.issues.length, run.layerFeatures);
    const probabilities = judged.probabilities;
    const top = argmax(probabilities);
    const explainedClass = options.targetClass ?? top;
    let resolved: Required<ExplainOptions>;
    try {
      resolved = withExplainDefaults(options, this.dims, explainedClass);
    } catch (error) {
      throw new EngineError('internal', `explain options: ${describeError(error)}`, undefined, { cause: error });
    }
    const tk = performance.now();
    const result = await explainRun(this.runtime.current, run, resolved, this.dims);
    const kernelsMs = performance.now() - tk;

    const decodeMs = this.photos.takeDecodeMs(state);
    const timings: StageTimings = {
      decodeMs,
      preprocessMs,
      modelMs,
      kernelsMs,
      drawMs: 0,
      totalMs: decodeMs + (performance.now() - t0),
    };
    return {
      labels: [...this.head.labels],
      probabilities,
      logits: new Float32Array(run.logits),
      features: new Float32Array(run.features),
      ...(run.layerFeatures ? { layerFeatures: new Float32Array(run.layerFeatures) } : {}),
      outcome: judged.outcome,
      domain: judged.domain,
      quality,
      top,
      explainedClass,
      options: resolved,
      heatmap: makeHeatmap(this.runtime, result, this.dims.gridSize, { bitmap: state.handle.bitmap, crop: state.crop, scaled: state.scaled }, timings, this.lastDraw2d),
      backend: this.runtime.current.backend,
      timings,
    };
  }

  embed(photo: PhotoHandle): Promise<PhotoEmbedding> {
    return this.serializer.run(async () => {
      if (this.runtime.recovering) await this.runtime.recovering;
      this.assertUsable();
      this.runtime.assertOpen();
      const state = this.photos.get(photo);
      const { pixels, preprocessMs } = this.photos.pixelsOf(state, this.manifest.image_size);
      // Any run of this photo with this head has the features and logits: only the forward graph runs otherwise.
      const { run, modelMs } = await this.cachedOrRun(this.runs.anyRunOf(photo.id, this.headGeneration), photo.id, pixels, 'forward', undefined);
      const quality = state.quality ?? assessPhotoQuality(pixels, this.manifest.image_size);
      const judged = judgeDiagnosis(this.head.domain, run.logits, run.features, quality.issues.length, run.layerFeatures);
      return {
        labels: [...this.head.labels],
        features: new Float32Array(run.features),
        ...(run.layerFeatures ? { layerFeatures: new Float32Array(run.layerFeatures) } : {}),
        logits: new Float32Array(run.logits),
        probabilities: judged.probabilities,
        top: argmax(judged.probabilities),
        outcome: judged.outcome,
        domain: judged.domain,
        quality,
        backend: this.runtime.current.backend,
        preprocessMs,
        modelMs,
      };
    }).catch((error: unknown) => { throw toEngineError(error, 'internal', 'embed'); });
  }

  /** `cached` when there is one, else a new run of `graph` for the active head, remembered in the run cache. */
  private async cachedOrRun(cached: CachedRun | undefined, photoId: number, pixels: Float32Array, graph: GraphKind, target: number | undefined): Promise<{ run: CachedRun; modelMs: number }> {
    if (cached) return { run: cached, modelMs: 0 };
    const t0 = performance.now();
    const run = await runGraph(this.runtime, this.manifest, this.dims, {
      photoId, pixels, graph, target: graph === 'forward' ? undefined : target, head: this.head, headGeneration: this.headGeneration,
    });
    this.counts[graph] += 1;
    this.runs.remember(run);
    return { run, modelMs: performance.now() - t0 };
  }

  combineLeaves(leaves: readonly Diagnosis[]): GroupResult {
    return combineLeaves(leaves, groupRuleOf(this.head.domain.minProbability));
  }

  async setHead(head: unknown, sourceName = 'head.json'): Promise<ModelInfo> {
    this.assertUsable();
    let json = head;
    if (typeof head === 'string') {
      try { json = JSON.parse(head) as unknown; } catch (error) {
        throw new EngineError('head-corrupt', `${sourceName}: not valid JSON (${describeError(error)})`, undefined, { cause: error });
      }
    }
    const validated = validateHead(json, this.manifest, sourceName);
    if (json === this.shippedHead.json) return this.useHead(this.shippedHead);
    return this.useHead(validated);
  }

  headJson(which: 'active' | 'shipped'): Record<string, unknown> {
    return (which === 'shipped' ? this.shippedHead : this.head).json;
  }

  private async useHead(validated: Head): Promise<ModelInfo> {
    await this.serializer.run(async () => {
      this.head = validated;
      this.headGeneration += 1;
      this.runs.rebaseOnHead(validated, this.headGeneration);
      const { files } = this.runtime.current;
      this.model = this.describeModel(files.totalBytes, files.fp16);
    });
    return this.model;
  }

  diagnostics(): EngineDiagnostics {
    return {
      forwardRuns: this.counts.forward,
      fullRuns: this.counts.full,
      lrpRuns: this.counts.lrp,
      cachedRuns: this.runs.size,
      liveOutputTensors: this.runs.liveTensors,
      deviceGeneration: this.runtime.deviceGeneration,
      usesF16: this.runtime.current.files.fp16,
      sessions: Object.keys(this.runtime.current.sessions) as GraphKind[],
    };
  }

  stages(): EngineStages {
    this.assertUsable();
    return new EngineStages(this.runtime, this.manifest, () => this.head);
  }

  /** For tests: the cached model outputs of one photo, downloaded to the CPU (most recently used first). */
  cachedOutputs(photoId: number): Promise<CachedOutputs[]> {
    return this.runs.outputsOf(photoId);
  }

  private assertUsable(): void {
    if (this.disposed) throw new EngineError('internal', 'engine was disposed');
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    clearTimeout(this.deferredGraphs.timer);
    this.runs.clear();
    this.photos.closeAll();
    this.runtime.dispose();
  }
}

/**
 * Loads the model in `baseUrl` (a folder with manifest.json; its files from `options.files` when given) and opens a backend.
 * Throws EngineError: 'model-missing' when there is no model there, 'model-*' when it is broken, etc.
 */
export async function createEngine(baseUrl: string, options: EngineOptions = {}): Promise<Engine> {
  const cache: ModelFileCache = options.modelCache ?? cacheApiFileCache(options.cacheName ?? DEFAULT_CACHE_NAME);
  const loader: LoaderContext = { baseUrl: modelFolderUrl(baseUrl), cache, onProgress: options.onProgress, signal: options.signal, files: options.files };
  try {
    const manifest = await loadManifest(loader);
    const head = await loadDefaultHead(manifest, loader);
    const engine = new LeafLensEngine(manifest, head, loader, options);
    await engine.runtime.start(options.backend ?? 'auto');
    engine.scheduleDeferredGraphs();
    return engine;
  } catch (error) {
    throw toEngineError(error, 'internal', `createEngine(${baseUrl})`);
  }
}

export { memoryFileCache };
