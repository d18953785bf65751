// createEngine: model loading, backend choice, photo decoding, cached model runs, explanation and drawing.
// The big attention tensors stay where the backend made them: GPU buffers for WebGPU, Float32Arrays for WASM.
import type { Tensor } from 'onnxruntime-web';
import { EngineError, describeError, toEngineError } from './errors';
import {
  GpuExplainer,
  explainOnCpuFast,
  tensorsNeeded,
  withExplainDefaults,
  type ExplainDims,
  type ExplainResult,
  type ExplainTensorName,
  type ExplainTensors,
} from './explain';
import { GpuHeatmapRenderer, drawHeatmap2d, type RenderOptions } from './render';
import { createEngineDevice, probeAdapter, watchDevice, type AdapterProbe } from './gpu/device';
import { decodePhoto } from './image/decode';
import { preprocessBitmap, type CropRect } from './image/preprocess';
import { assessPhotoQuality } from './image/quality';
import { graphOutputs, type GraphKind, type OutputName } from './model/contract';
import { argmax } from './model/logits';
import { cacheApiFileCache, memoryFileCache, type ModelFileCache } from './model/fetcher';
import { judgeDiagnosis } from './model/domain';
import { combineLeaves, groupRuleOf, type GroupResult } from './model/group';
import { validateHead, type Head } from './model/head';
import { localExampleCount, taughtClassesOf } from './model/taught';
import { hasFp16, loadDefaultHead, loadGraphFiles, loadManifest, lrpGraphFile, modelFolderUrl, type GraphFiles, type LoaderContext } from './model/loader';
import { gridSizeOf, type Manifest } from './model/manifest';
import { loadOrt, type Ort } from './model/ort';
import { GraphSession, Serializer } from './model/session';
import type {
  BackendName,
  Diagnosis,
  DrawOptions,
  Engine,
  EngineOptions,
  EngineStatus,
  ExplainMethod,
  ExplainOptions,
  Heatmap,
  ModelInfo,
  PhotoEmbedding,
  PhotoHandle,
  PhotoQuality,
  StageTimings,
} from './types';

export const DEFAULT_CACHE_NAME = 'leaf-lens-models-v1';
/** Cached model runs kept (each holds up to three [L,1,H,N,N] tensors); older ones are disposed. */
const RUN_CACHE_SIZE = 3;

/** How long a diagnosis retried after a device loss may take (software WebGPU runs take up to ~1 min). */
const RETRY_TIMEOUT_MS = 180_000;

function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(onTimeout()), ms); });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

const OUTPUT_OF: Record<ExplainTensorName, OutputName> = {
  attentions: 'attentions',
  attentionGrads: 'attention_grads',
  attentionRelevance: 'attention_relevance',
};

interface GpuParts {
  device: GPUDevice;
  probe: AdapterProbe;
  explainer: GpuExplainer;
  renderer: GpuHeatmapRenderer;
}

/** Everything tied to one backend (and, for WebGPU, one device); replaced wholesale after a device loss. */
interface Runtime {
  backend: BackendName;
  ort: Ort;
  files: GraphFiles;
  gpu?: GpuParts;
  sessions: Partial<Record<GraphKind, Promise<GraphSession>>>;
  /** Set when the device was lost or the engine disposed: nothing may be started on it. */
  closed: boolean;
}

interface PhotoState {
  handle: PhotoHandle;
  pixels?: Float32Array;
  crop?: CropRect;
  /** Measured once from `pixels` (what the model sees). */
  quality?: PhotoQuality;
  /** Decode time still to be reported (by the first diagnose of this photo). */
  unreportedDecodeMs: number;
}

interface CachedRun {
  photoId: number;
  graph: GraphKind;
  /** Class whose score the gradients/relevance explain (the top class for a zero target). */
  target: number;
  headGeneration: number;
  logits: Float32Array;
  /** The backbone's [1,F] features: with a new head, logits are recomputed from them instead of re-running. */
  features: Float32Array;
  tensors: Partial<Record<ExplainTensorName, Tensor>>;
}

/** A cached run's outputs on the CPU, for tests comparing the GPU path with the CPU reference. */
export interface CachedOutputs {
  graph: GraphKind;
  target: number;
  logits: Float32Array;
  tensors: ExplainTensors<Float32Array>;
}

/** Counters for tests and the benchmark; not part of the UI's API. */
export interface EngineDiagnostics {
  forwardRuns: number;
  fullRuns: number;
  lrpRuns: number;
  cachedRuns: number;
  liveOutputTensors: number;
  deviceGeneration: number;
  usesF16: boolean;
}

/** lrp only when the model has an lrp graph in the precision in use. */
function methodsOf(manifest: Manifest, usesF16: boolean): ExplainMethod[] {
  const methods: ExplainMethod[] = ['relevance', 'rollout', 'attention'];
  if (lrpGraphFile(manifest, usesF16)) methods.push('lrp');
  return methods;
}

/** Which graph a method runs: forward for attention/rollout, full (gradients) for relevance, lrp only for lrp. */
function graphFor(method: ExplainMethod): GraphKind {
  if (method === 'lrp') return 'lrp';
  return tensorsNeeded(method).every((n) => n === 'attentions') ? 'forward' : 'full';
}

class LeafLensEngine implements Engine {
  private runtime!: Runtime;
  private head: Head;
  private readonly shippedHead: Head;
  private headGeneration = 0;
  private readonly photos = new Map<number, PhotoState>();
  private nextPhotoId = 1;
  private runCache: CachedRun[] = [];
  private readonly serializer = new Serializer();
  private readonly filesByPrecision = new Map<boolean, Promise<GraphFiles>>();
  private recovery: Promise<void> | undefined;
  private recoveryFailure: string | undefined;
  private disposed = false;
  private deviceGeneration = 0;
  private counts: Record<GraphKind, number> = { forward: 0, full: 0, lrp: 0 };
  model: ModelInfo;

  constructor(
    private readonly manifest: Manifest,
    head: Head,
    private readonly loader: LoaderContext,
    private readonly options: EngineOptions,
  ) {
    this.head = head;
    this.shippedHead = head;
    this.model = this.describeModel(0, false);
  }

  get backend(): BackendName {
    return this.runtime.backend;
  }

  private get dims(): ExplainDims {
    const m = this.manifest;
    return { layers: m.layers, heads: m.heads, tokens: m.tokens, prefixTokens: m.prefix_tokens, gridSize: gridSizeOf(m) };
  }

  private describeModel(totalBytes: number, usesF16: boolean): ModelInfo {
    const m = this.manifest;
    return {
      name: m.name,
      title: m.title,
      version: m.version,
      architecture: m.architecture,
      trained: m.trained && this.head.trained,
      imageSize: m.image_size,
      patchSize: m.patch_size,
      gridSize: gridSizeOf(m),
      layers: m.layers,
      heads: m.heads,
      tokens: m.tokens,
      prefixTokens: m.prefix_tokens,
      labels: [...this.head.labels],
      valAccuracy: this.head.valAccuracy ?? (typeof m.training.val_accuracy === 'number' ? m.training.val_accuracy : undefined),
      methods: methodsOf(m, usesF16),
      usesFp16: usesF16,
      totalBytes,
      domainCheck: this.head.domain.openSet !== undefined,
      backbone: { name: m.name, sha256: m.backbone_sha256, features: m.features },
      headName: this.head === this.shippedHead ? undefined : (typeof this.head.json.name === 'string' ? this.head.json.name : this.head.source),
      taught: taughtClassesOf(this.head.json).map(({ label, note, photos }) => ({ label, note, photos })),
      localExamples: localExampleCount(this.head.json),
      canTeach: this.head.statistics !== undefined,
    };
  }

  private status(s: EngineStatus): void {
    try { this.options.onStatus?.(s); } catch (error) { console.error('[leaf-lens] onStatus threw', error); }
  }

  // ---- backends ---------------------------------------------------------------------------------------

  private graphFiles(fp16: boolean): Promise<GraphFiles> {
    let files = this.filesByPrecision.get(fp16);
    if (!files) {
      files = loadGraphFiles(this.manifest, this.loader, fp16);
      this.filesByPrecision.set(fp16, files);
      files.catch(() => this.filesByPrecision.delete(fp16));
    }
    return files;
  }

  /** Opens a backend: ORT, (device, explainer, renderer), verified files, and the forward session. */
  async openRuntime(backend: BackendName, probe?: AdapterProbe): Promise<Runtime> {
    let gpu: GpuParts | undefined;
    let files: GraphFiles;
    let ort: Ort;
    if (backend === 'webgpu') {
      if (!probe) throw new EngineError('backend-unavailable', 'WebGPU requested but no adapter was found', 'This device has no usable graphics processor for the model.');
      const wantF16 = hasFp16(this.manifest);
      const created = await createEngineDevice(probe, wantF16).catch((error: unknown) => {
        throw toEngineError(error, 'backend-unavailable', `requestDevice on ${probe.description}`);
      });
      const { device } = created;
      try {
        [files, ort] = await Promise.all([this.graphFiles(created.usesF16), loadOrt('webgpu')]);
        // ORT probes an adapter of its own unless told which one; ours already holds the device.
        if (!ort.env.webgpu.adapter) ort.env.webgpu.adapter = probe.adapter;
        gpu = { device, probe, explainer: new GpuExplainer(device, this.dims), renderer: new GpuHeatmapRenderer(device) };
      } catch (error) {
        device.destroy();
        throw error;
      }
    } else {
      [files, ort] = await Promise.all([this.graphFiles(false), loadOrt('wasm')]);
    }
    const runtime: Runtime = { backend, ort, files, gpu, sessions: {}, closed: false };
    if (gpu) {
      const generation = ++this.deviceGeneration;
      watchDevice(gpu.device, (reason) => this.onDeviceLost(runtime, generation, reason), () => runtime.closed);
    }
    this.options.onProgress?.({ kind: 'session', backend });
    try {
      await this.session(runtime, 'forward');
    } catch (error) {
      this.closeRuntime(runtime);
      throw error;
    }
    return runtime;
  }

  private session(runtime: Runtime, kind: GraphKind): Promise<GraphSession> {
    let session = runtime.sessions[kind];
    if (!session) {
      const graph = runtime.files.graphs[kind];
      if (!graph) return Promise.reject(new EngineError('model-contract', `the model has no ${kind} graph${runtime.files.fp16 ? ' in fp16' : ''}`));
      session = GraphSession.create(
        { ort: runtime.ort, backend: runtime.backend, device: runtime.gpu?.device },
        { kind, file: graph.file, bytes: graph.bytes, weightsPath: runtime.files.weightsPath, weights: runtime.files.weights },
        this.manifest,
        this.head.labels.length,
      );
      runtime.sessions[kind] = session;
      session.catch(() => { if (runtime.sessions[kind] === session) delete runtime.sessions[kind]; });
    }
    return session;
  }

  private closeRuntime(runtime: Runtime): void {
    runtime.closed = true;
    for (const session of Object.values(runtime.sessions)) void session.then((s) => s.release(), () => undefined);
    runtime.sessions = {};
    if (runtime.gpu) {
      runtime.gpu.explainer.destroy();
      runtime.gpu.renderer.destroy();
      runtime.gpu.device.destroy();
    }
  }

  async start(preference: 'auto' | BackendName): Promise<void> {
    const probe = preference === 'wasm' ? null : await probeAdapter();
    if (preference === 'webgpu') {
      this.runtime = await this.openRuntime('webgpu', probe ?? undefined);
    } else if (preference === 'wasm' || !probe || probe.isFallbackAdapter) {
      // A software adapter (SwiftShader) runs the model many times slower than WASM.
      this.runtime = await this.openRuntime('wasm');
    } else {
      try {
        this.runtime = await this.openRuntime('webgpu', probe);
      } catch (error) {
        if (error instanceof EngineError && error.code.startsWith('model-')) throw error;
        const reason = describeError(error);
        console.warn(`[leaf-lens] WebGPU failed, using WASM: ${reason}`);
        this.runtime = await this.openRuntime('wasm');
        this.status({ kind: 'fell-back', from: 'webgpu', to: 'wasm', reason });
      }
    }
    this.model = this.describeModel(this.runtime.files.totalBytes, this.runtime.files.fp16);
    this.options.onProgress?.({ kind: 'ready' });
    this.status({ kind: 'ready', backend: this.runtime.backend });
  }

  private onDeviceLost(runtime: Runtime, generation: number, reason: string): void {
    if (this.disposed || runtime !== this.runtime || generation !== this.deviceGeneration) return;
    console.warn(`[leaf-lens] WebGPU device lost (${reason}); rebuilding`);
    this.status({ kind: 'recovering', reason });
    this.clearRunCache();
    this.closeRuntime(runtime);
    this.recovery = this.recover(reason)
      .catch((error: unknown) => {
        // Neither a new device nor WASM could be opened: later calls say 'device-lost' with this detail.
        this.recoveryFailure = `${reason}; recovery failed: ${describeError(error)}`;
        console.error(`[leaf-lens] ${this.recoveryFailure}`);
      })
      .finally(() => { this.recovery = undefined; });
  }

  /** A new device and sessions on WebGPU when an adapter is still there, else WASM. */
  private async recover(reason: string): Promise<void> {
    const preference = this.options.backend ?? 'auto';
    try {
      const probe = await probeAdapter(true);
      if (!probe || (preference === 'auto' && probe.isFallbackAdapter)) throw new Error('no WebGPU adapter after device loss');
      this.adopt(await this.openRuntime('webgpu', probe));
      this.status({ kind: 'ready', backend: 'webgpu' });
    } catch (error) {
      if (this.disposed) return;
      const why = `${reason}; WebGPU rebuild failed: ${describeError(error)}`;
      this.adopt(await this.openRuntime('wasm'));
      this.status({ kind: 'fell-back', from: 'webgpu', to: 'wasm', reason: why });
    }
    this.model = this.describeModel(this.runtime.files.totalBytes, this.runtime.files.fp16);
  }

  /** Installs a rebuilt runtime, unless the engine was disposed while it was being built. */
  private adopt(runtime: Runtime): void {
    if (this.disposed) {
      this.closeRuntime(runtime);
      throw new EngineError('aborted', 'engine disposed during device recovery');
    }
    this.runtime = runtime;
    this.recoveryFailure = undefined;
  }

  // ---- photos -----------------------------------------------------------------------------------------

  async loadPhoto(source: Blob): Promise<PhotoHandle> {
    this.assertUsable();
    const t0 = performance.now();
    const decoded = await decodePhoto(source).catch((error: unknown) => { throw toEngineError(error, 'image-undecodable', 'loadPhoto'); });
    const decodeMs = performance.now() - t0;
    const id = this.nextPhotoId++;
    const photos = this.photos;
    const dropRuns = () => this.dropRunsOf(id);
    const handle: PhotoHandle = {
      id,
      width: decoded.bitmap.width,
      height: decoded.bitmap.height,
      bitmap: decoded.bitmap,
      decodeMs,
      close() {
        if (!photos.delete(id)) return;
        dropRuns();
        decoded.bitmap.close();
      },
    };
    photos.set(id, { handle, unreportedDecodeMs: decodeMs });
    return handle;
  }

  private photoState(photo: PhotoHandle): PhotoState {
    const state = this.photos.get(photo.id);
    if (!state || state.handle !== photo) throw new EngineError('internal', `photo ${photo.id} is closed or from another engine`, 'This photo is no longer open. Choose it again.');
    return state;
  }

  // ---- model runs -------------------------------------------------------------------------------------

  private clearRunCache(): void {
    for (const run of this.runCache) for (const t of Object.values(run.tensors)) t.dispose();
    this.runCache = [];
  }

  private dropRunsOf(photoId: number): void {
    const [drop, keep] = [this.runCache.filter((r) => r.photoId === photoId), this.runCache.filter((r) => r.photoId !== photoId)];
    for (const run of drop) for (const t of Object.values(run.tensors)) t.dispose();
    this.runCache = keep;
  }

  /** After a head swap: attentions and features do not depend on the head, so cached runs keep them with logits
   * recomputed as features · Wᵀ + b; gradients and relevance (which do depend on it) are released. */
  private rebaseRunsOnHead(): void {
    const { weight, bias, features: F, labels } = this.head;
    for (const run of this.runCache) {
      for (const name of ['attentionGrads', 'attentionRelevance'] as const) {
        run.tensors[name]?.dispose();
        delete run.tensors[name];
      }
      const logits = new Float32Array(labels.length);
      for (let c = 0; c < labels.length; c++) {
        let sum = bias[c]!;
        for (let f = 0; f < F; f++) sum += weight[c * F + f]! * run.features[f]!;
        logits[c] = sum;
      }
      run.logits = logits;
      run.target = argmax(logits);
      run.headGeneration = this.headGeneration;
    }
    this.runCache = this.runCache.filter((run) => run.tensors.attentions);
  }

  private remember(run: CachedRun): void {
    this.runCache.unshift(run);
    for (const old of this.runCache.splice(RUN_CACHE_SIZE)) for (const t of Object.values(old.tensors)) t.dispose();
  }

  /** A cached run of this photo that has every tensor `needed` for `target` (undefined: any target). */
  private findRun(photoId: number, needed: ExplainTensorName[], target: number | undefined): CachedRun | undefined {
    const needsTarget = needed.some((n) => n !== 'attentions');
    const run = this.runCache.find((r) => r.photoId === photoId && r.headGeneration === this.headGeneration
      && needed.every((n) => r.tensors[n]) && (!needsTarget || target === undefined || r.target === target));
    if (run) this.runCache = [run, ...this.runCache.filter((r) => r !== run)];
    return run;
  }

  private async runModel(photoId: number, pixels: Float32Array, graph: GraphKind, target: number | undefined): Promise<CachedRun> {
    const runtime = this.runtime;
    const session = await this.session(runtime, graph);
    const { ort } = runtime;
    const m = this.manifest;
    const classes = this.head.labels.length;
    const targetWeights = new Float32Array(classes);
    if (target !== undefined) targetWeights[target] = 1; // all zeros = the top class, per contract
    const feeds: Record<string, Tensor> = {
      pixels: new ort.Tensor('float32', pixels, [1, 3, m.image_size, m.image_size]),
      head_weight: new ort.Tensor('float32', this.head.weight, [classes, this.head.features]),
      head_bias: new ort.Tensor('float32', this.head.bias, [classes]),
      target: new ort.Tensor('float32', targetWeights, [1, classes]),
    };
    // Every output of the graph is kept: a full or lrp run also serves rollout/attention (and an lrp run relevance).
    const fetches: OutputName[] = graphOutputs(graph, m.outputs);
    const outputs = await session.run(feeds, fetches);
    if (runtime.closed) {
      // The device was lost during the run: these outputs live on a dead device.
      for (const t of Object.values(outputs)) t.dispose();
      throw new EngineError('device-lost', `${graph} run finished on a lost device`);
    }
    this.counts[graph] += 1;
    const logitsTensor = outputs.logits!;
    const logits = new Float32Array(logitsTensor.data as Float32Array);
    logitsTensor.dispose();
    const featuresTensor = outputs.features!;
    const features = new Float32Array(featuresTensor.data as Float32Array);
    featuresTensor.dispose();
    const tensors: Partial<Record<ExplainTensorName, Tensor>> = {};
    for (const [name, output] of Object.entries(OUTPUT_OF) as [ExplainTensorName, OutputName][]) {
      const tensor = outputs[output];
      if (tensor) tensors[name] = tensor;
    }
    const run: CachedRun = { photoId, graph, target: target ?? argmax(logits), headGeneration: this.headGeneration, logits, features, tensors };
    this.checkOutputShapes(run, classes);
    return run;
  }

  private checkOutputShapes(run: CachedRun, classes: number): void {
    const d = this.dims;
    const expected = [d.layers, 1, d.heads, d.tokens, d.tokens];
    const problems: string[] = [];
    if (run.logits.length !== classes) problems.push(`logits has ${run.logits.length} values, head has ${classes} classes`);
    if (run.features.length !== this.manifest.features) problems.push(`features has ${run.features.length} values, manifest says ${this.manifest.features}`);
    for (const [name, tensor] of Object.entries(run.tensors)) {
      if (tensor.dims.join(',') !== expected.join(',')) problems.push(`${OUTPUT_OF[name as ExplainTensorName]} is [${tensor.dims.join(',')}], expected [${expected.join(',')}]`);
    }
    if (problems.length > 0) {
      for (const t of Object.values(run.tensors)) t.dispose();
      throw new EngineError('model-contract', `${run.graph} graph output: ${problems.join('; ')}`);
    }
  }

  private async explain(run: CachedRun, options: Required<ExplainOptions>): Promise<ExplainResult> {
    const needed = tensorsNeeded(options.method);
    const gpu = this.runtime.gpu;
    if (this.runtime.backend === 'webgpu' && gpu) {
      const buffers: ExplainTensors<GPUBuffer> = { attentions: undefined as unknown as GPUBuffer };
      for (const name of needed) buffers[name] = run.tensors[name]!.gpuBuffer as GPUBuffer;
      if (!needed.includes('attentions') && run.tensors.attentions) buffers.attentions = run.tensors.attentions.gpuBuffer as GPUBuffer;
      return gpu.explainer.run(buffers, options);
    }
    const arrays: ExplainTensors<Float32Array> = { attentions: undefined as unknown as Float32Array };
    for (const name of needed) arrays[name] = run.tensors[name]!.data as Float32Array;
    if (!needed.includes('attentions') && run.tensors.attentions) arrays.attentions = run.tensors.attentions.data as Float32Array;
    return explainOnCpuFast(arrays, this.dims, options);
  }

  // ---- diagnose ---------------------------------------------------------------------------------------

  diagnose(photo: PhotoHandle, options: ExplainOptions): Promise<Diagnosis> {
    return this.serializer.run(async () => {
      try {
        return await this.diagnoseOnce(photo, options);
      } catch (error) {
        // The device went away mid-run: its 'lost' promise may settle just after the failure, so give it a moment,
        // then wait for the rebuilt backend and try once more.
        const device = this.runtime.gpu?.device;
        if (device && !this.recovery) await Promise.race([device.lost, new Promise((r) => setTimeout(r, 50))]);
        if (this.recovery && !this.disposed) {
          await this.recovery;
          // Seen on SwiftShader: a device destroyed early in ORT's first run can leave ORT's instance unable to
          // finish the next run. Better a clear error than a frozen screen.
          return withTimeout(this.diagnoseOnce(photo, options), RETRY_TIMEOUT_MS, () => new EngineError('device-lost',
            `the rebuilt backend did not answer within ${RETRY_TIMEOUT_MS / 1000} s after a device loss`,
            'The graphics processor stopped working. Reload the app to continue.'));
        }
        throw error;
      }
    }).catch((error: unknown) => { throw toEngineError(error, 'internal', 'diagnose'); });
  }

  private async diagnoseOnce(photo: PhotoHandle, options: ExplainOptions): Promise<Diagnosis> {
    if (this.recovery) await this.recovery;
    this.assertBackend();
    const t0 = performance.now();
    const state = this.photoState(photo);
    const classes = this.head.labels.length;
    const method = options.method;
    if (!this.model.methods.includes(method)) {
      throw new EngineError('model-contract', `method "${method}" needs outputs this model lacks (has: ${this.manifest.outputs.join(', ')})`,
        'This model cannot show that kind of explanation. Choose another one.');
    }
    if (options.targetClass !== undefined && (!Number.isInteger(options.targetClass) || options.targetClass < 0 || options.targetClass >= classes)) {
      throw new EngineError('internal', `targetClass ${options.targetClass} outside [0, ${classes - 1}]`);
    }

    const { pixels, preprocessMs } = this.pixelsOf(state);

    const needed = tensorsNeeded(method);
    const graph = graphFor(method);
    // The top class is known once any run of this photo (with this head) has logits.
    const knownTop = this.runCache.find((r) => r.photoId === photo.id && r.headGeneration === this.headGeneration);
    const target = options.targetClass ?? (knownTop ? argmax(knownTop.logits) : undefined);
    let modelMs = 0;
    let run = this.findRun(photo.id, needed, target);
    if (!run) {
      const tm = performance.now();
      run = await this.runModel(photo.id, pixels, graph, graph === 'forward' ? undefined : target);
      modelMs = performance.now() - tm;
      this.remember(run);
    }

    const quality = state.quality ?? assessPhotoQuality(pixels, this.manifest.image_size);
    const judged = judgeDiagnosis(this.head.domain, run.logits, run.features, quality.issues.length);
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
    const result = await this.explain(run, resolved);
    const kernelsMs = performance.now() - tk;

    const decodeMs = state.unreportedDecodeMs;
    state.unreportedDecodeMs = 0;
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
      outcome: judged.outcome,
      domain: judged.domain,
      quality,
      top,
      explainedClass,
      options: resolved,
      heatmap: this.makeHeatmap(result, state, timings),
      backend: this.runtime.backend,
      timings,
    };
  }

  /** The model's input for a photo, made once per photo (preprocessMs is 0 when it already existed). */
  private pixelsOf(state: PhotoState): { pixels: Float32Array; preprocessMs: number } {
    if (state.pixels) return { pixels: state.pixels, preprocessMs: 0 };
    const tp = performance.now();
    const pre = preprocessBitmap(state.handle.bitmap, this.manifest.image_size);
    state.pixels = pre.pixels;
    state.crop = pre.crop;
    state.quality = assessPhotoQuality(pre.pixels, this.manifest.image_size);
    return { pixels: pre.pixels, preprocessMs: performance.now() - tp };
  }

  embed(photo: PhotoHandle): Promise<PhotoEmbedding> {
    return this.serializer.run(async () => {
      if (this.recovery) await this.recovery;
      this.assertBackend();
      const state = this.photoState(photo);
      const { pixels, preprocessMs } = this.pixelsOf(state);
      // Any run of this photo with this head has the features and logits: only the forward graph runs otherwise.
      let run = this.runCache.find((r) => r.photoId === photo.id && r.headGeneration === this.headGeneration);
      let modelMs = 0;
      if (!run) {
        const tm = performance.now();
        run = await this.runModel(photo.id, pixels, 'forward', undefined);
        modelMs = performance.now() - tm;
        this.remember(run);
      }
      const quality = state.quality ?? assessPhotoQuality(pixels, this.manifest.image_size);
      const judged = judgeDiagnosis(this.head.domain, run.logits, run.features, quality.issues.length);
      return {
        labels: [...this.head.labels],
        features: new Float32Array(run.features),
        logits: new Float32Array(run.logits),
        probabilities: judged.probabilities,
        top: argmax(judged.probabilities),
        outcome: judged.outcome,
        domain: judged.domain,
        quality,
        backend: this.runtime.backend,
        preprocessMs,
        modelMs,
      };
    }).catch((error: unknown) => { throw toEngineError(error, 'internal', 'embed'); });
  }

  private makeHeatmap(result: ExplainResult, state: PhotoState, timings: StageTimings): Heatmap {
    const gridSize = this.dims.gridSize;
    const bitmap = state.handle.bitmap;
    const crop = state.crop;
    return {
      gridSize,
      values: result.values,
      min: result.min,
      max: result.max,
      // Draws with whatever backend is current, so a heatmap survives a device loss. drawMs records the last draw.
      draw: async (canvas, drawOptions) => {
        const ms = await this.drawMap(canvas, result.values, gridSize, bitmap, crop, drawOptions);
        timings.drawMs = ms;
        return ms;
      },
    };
  }

  private async drawMap(canvas: HTMLCanvasElement | OffscreenCanvas, values: Float32Array, gridSize: number, bitmap: ImageBitmap, crop: CropRect | undefined, options: DrawOptions): Promise<number> {
    if (this.recovery) await this.recovery;
    const renderOptions: RenderOptions = { ...options, photoRect: crop };
    // Headless Chromium's software adapter (SwiftShader) loses the device when a WebGPU canvas is presented
    // ("A valid external Instance reference no longer exists"), so a fallback adapter draws with canvas 2D.
    const gpu = this.runtime.backend === 'webgpu' && !this.runtime.closed && !this.runtime.gpu?.probe.isFallbackAdapter ? this.runtime.gpu : undefined;
    if (gpu) {
      try {
        return await gpu.renderer.draw(canvas, values, gridSize, bitmap, renderOptions);
      } catch (error) {
        // A canvas that already has a 2D context cannot take a WebGPU one: draw it the 2D way.
        console.warn(`[leaf-lens] WebGPU draw failed, drawing with canvas 2D: ${describeError(error)}`);
      }
    }
    try {
      return await drawHeatmap2d(canvas, values, gridSize, bitmap, renderOptions);
    } catch (error) {
      throw toEngineError(error, 'internal', 'heatmap draw');
    }
  }

  combineLeaves(leaves: readonly Diagnosis[]): GroupResult {
    return combineLeaves(leaves, groupRuleOf(this.head.domain.minProbability));
  }

  // ---- head, lifetime ---------------------------------------------------------------------------------

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
      this.rebaseRunsOnHead();
      this.model = this.describeModel(this.runtime.files.totalBytes, this.runtime.files.fp16);
    });
    return this.model;
  }

  diagnostics(): EngineDiagnostics {
    return {
      forwardRuns: this.counts.forward,
      fullRuns: this.counts.full,
      lrpRuns: this.counts.lrp,
      cachedRuns: this.runCache.length,
      liveOutputTensors: this.runCache.reduce((n, r) => n + Object.keys(r.tensors).length, 0),
      deviceGeneration: this.deviceGeneration,
      usesF16: this.runtime.files.fp16,
    };
  }

  /** For tests: the cached model outputs of one photo, downloaded to the CPU (most recently used first). */
  async cachedOutputs(photoId: number): Promise<CachedOutputs[]> {
    const runs = this.runCache.filter((r) => r.photoId === photoId);
    return Promise.all(runs.map(async (run) => {
      const tensors: ExplainTensors<Float32Array> = { attentions: new Float32Array(0) };
      for (const [name, tensor] of Object.entries(run.tensors) as [ExplainTensorName, Tensor][]) {
        tensors[name] = new Float32Array(await tensor.getData() as Float32Array);
      }
      return { graph: run.graph, target: run.target, logits: run.logits, tensors };
    }));
  }

  /** For tests: the engine's current GPUDevice (undefined on WASM). */
  gpuDevice(): GPUDevice | undefined {
    return this.runtime.gpu?.device;
  }

  private assertUsable(): void {
    if (this.disposed) throw new EngineError('internal', 'engine was disposed');
  }

  /** After any recovery has settled: the backend must be open. */
  private assertBackend(): void {
    this.assertUsable();
    if (this.runtime.closed) throw new EngineError('device-lost', this.recoveryFailure ?? 'the backend was closed after a device loss');
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.clearRunCache();
    for (const state of [...this.photos.values()]) state.handle.close();
    if (this.runtime) this.closeRuntime(this.runtime);
  }
}

/**
 * Loads the model in `baseUrl` (a folder with manifest.json) and opens a backend.
 * Throws EngineError: 'model-missing' when there is no model there, 'model-*' when it is broken, etc.
 */
export async function createEngine(baseUrl: string, options: EngineOptions = {}): Promise<Engine> {
  const cache: ModelFileCache = options.modelCache ?? cacheApiFileCache(options.cacheName ?? DEFAULT_CACHE_NAME);
  const loader: LoaderContext = { baseUrl: modelFolderUrl(baseUrl), cache, onProgress: options.onProgress, signal: options.signal };
  try {
    const manifest = await loadManifest(loader);
    const head = await loadDefaultHead(manifest, loader);
    const engine = new LeafLensEngine(manifest, head, loader, options);
    await engine.start(options.backend ?? 'auto');
    return engine;
  } catch (error) {
    throw toEngineError(error, 'internal', `createEngine(${baseUrl})`);
  }
}

/** Counters (model runs, cached runs, live tensors) of an engine made by createEngine; for tests and benchmarks. */
export function engineDiagnostics(engine: Engine): EngineDiagnostics {
  if (!(engine instanceof LeafLensEngine)) throw new TypeError('not an engine from createEngine');
  return engine.diagnostics();
}

/** Model outputs cached for `photo`, downloaded to the CPU; for tests. */
export function engineCachedOutputs(engine: Engine, photo: PhotoHandle): Promise<CachedOutputs[]> {
  if (!(engine instanceof LeafLensEngine)) throw new TypeError('not an engine from createEngine');
  return engine.cachedOutputs(photo.id);
}

/** The engine's own GPUDevice, or undefined on WASM; for tests that simulate device loss. */
export function engineDevice(engine: Engine): GPUDevice | undefined {
  if (!(engine instanceof LeafLensEngine)) throw new TypeError('not an engine from createEngine');
  return engine.gpuDevice();
}

export { memoryFileCache };
