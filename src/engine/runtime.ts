// The engine's runtime: opens a backend (WebGPU device + explainer + renderer, or WASM), its ORT sessions, and
// rebuilds it after a device loss (a new device when an adapter is still there, else WASM).
import { EngineError, describeError, toEngineError } from './errors';
import { GpuExplainer, methodSpec, type ExplainDims } from './explain';
import { GpuHeatmapRenderer } from './render';
import { createEngineDevice, probeAdapter, watchDevice, type AdapterProbe } from './gpu/device';
import type { GraphKind } from './model/contract';
import { hasFp16, loadGraphFile, loadGraphFiles, type GraphFile, type GraphFiles, type LoaderContext } from './model/loader';
import { gridSizeOf, type Manifest } from './model/manifest';
import { loadOrt, type Ort } from './model/ort';
import { GraphSession } from './model/session';
import type { BackendName, BackendPreference, EngineOptions, EngineStatus } from './types';

/** How long rebuilding WebGPU after a device loss (device, ORT, forward session) may take before the engine gives
 * up on it and opens WASM. ORT's session creation has been seen never to return after a loss during its first-run
 * set-up; a healthy rebuild of the shipped model on software WebGPU takes well under this. */
export const REBUILD_TIMEOUT_MS = 60_000;

export function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(onTimeout()), ms); });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

export interface GpuParts {
  device: GPUDevice;
  probe: AdapterProbe;
  explainer: GpuExplainer;
  renderer: GpuHeatmapRenderer;
}

/** Everything tied to one backend (and, for WebGPU, one device); replaced wholesale after a device loss. */
export interface Backend {
  backend: BackendName;
  ort: Ort;
  files: GraphFiles;
  gpu?: GpuParts;
  sessions: Partial<Record<GraphKind, Promise<GraphSession>>>;
  /** Set when the device was lost or the engine disposed: nothing may be started on it. */
  closed: boolean;
}

export interface RuntimeHooks {
  /** Classes of the current head (sessions check the logits' shape against it). */
  classes(): number;
  /** The device was lost: cached outputs on it must go before it is closed. */
  onDeviceLost(): void;
  /** A backend was opened (at start or after a recovery). */
  onBackendOpened(backend: Backend): void;
}

/** The explanation maths' view of the manifest. */
export function explainDims(m: Manifest): ExplainDims {
  return { layers: m.layers, heads: m.heads, tokens: m.tokens, prefixTokens: m.prefix_tokens, gridSize: gridSizeOf(m) };
}

/** Opens backends for one model and keeps the current one; callers read `current` after `whenRecovered()`. */
export class EngineRuntime {
  current!: Backend;
  /** Bumped for each WebGPU device: a loss reported by an older one is ignored. */
  deviceGeneration = 0;
  private recovery: Promise<void> | undefined;
  private recoveryFailure: string | undefined;
  private disposed = false;
  private readonly filesByPrecision = new Map<boolean, Promise<GraphFiles>>();
  /** The lrp graph per precision, fetched on first use (or by prefetchDeferredGraphs), not with the model. */
  private readonly lrpByPrecision = new Map<boolean, Promise<GraphFile>>();

  constructor(
    private readonly manifest: Manifest,
    private readonly loader: LoaderContext,
    private readonly options: Pick<EngineOptions, 'backend' | 'onProgress' | 'onStatus' | 'recovery' | 'firstMethod'>,
    private readonly hooks: RuntimeHooks,
  ) {}

  /** Pending while a lost device is being replaced. */
  get recovering(): Promise<void> | undefined {
    return this.recovery;
  }

  async start(preference: BackendPreference): Promise<void> {
    const probe = preference === 'wasm' ? null : await probeAdapter();
    if (preference === 'webgpu') {
      this.current = await this.open('webgpu', probe ?? undefined);
    } else if (preference === 'wasm' || !probe || probe.isFallbackAdapter) {
      // A software adapter (SwiftShader) runs the model many times slower than WASM.
      this.current = await this.open('wasm');
    } else {
      try {
        this.current = await this.open('webgpu', probe);
      } catch (error) {
        if (error instanceof EngineError && error.code.startsWith('model-')) throw error;
        const reason = describeError(error);
        console.warn(`[leaf-lens] WebGPU failed, using WASM: ${reason}`);
        this.current = await this.open('wasm');
        this.status({ kind: 'fell-back', from: 'webgpu', to: 'wasm', reason });
      }
    }
    this.hooks.onBackendOpened(this.current);
    this.options.onProgress?.({ kind: 'ready' });
    this.status({ kind: 'ready', backend: this.current.backend });
  }

  /** The ORT session of `kind` on `backend`, created on first use. */
  session(backend: Backend, kind: GraphKind, beforeCreate?: () => Promise<void>): Promise<GraphSession> {
    let session = backend.sessions[kind];
    if (!session) {
      session = this.graphOf(backend.files, kind).then((graph) => GraphSession.create(
        { ort: backend.ort, backend: backend.backend, device: backend.gpu?.device, beforeCreate },
        { kind, file: graph.file, bytes: graph.bytes, weightsPath: backend.files.weightsPath, weights: backend.files.weights },
        this.manifest,
        this.hooks.classes(),
      ));
      backend.sessions[kind] = session;
      session.catch(() => { if (backend.sessions[kind] === session) delete backend.sessions[kind]; });
    }
    return session;
  }

  /** Fetches the graphs left out of the model's first load (lrp) into the model cache, so that every method also
   * works offline later. Call once the first diagnosis is done or the page is idle; a failure (offline) is left for
   * the method's first use to report. */
  prefetchDeferredGraphs(): void {
    if (this.disposed || !this.current || this.current.closed) return;
    const files = this.current.files;
    if (files.lrpFile) this.lrpGraph(files).catch((error: unknown) => console.warn(`[leaf-lens] ${files.lrpFile} not fetched ahead (${describeError(error)}); it will be when LRP is chosen`));
  }

  private async graphOf(files: GraphFiles, kind: GraphKind): Promise<GraphFile> {
    if (kind !== 'lrp') return files.graphs[kind];
    if (!files.lrpFile) throw new EngineError('model-contract', `the model has no lrp graph${files.fp16 ? ' in fp16' : ''}`);
    return this.lrpGraph(files);
  }

  private lrpGraph(files: GraphFiles & { lrpFile?: string }): Promise<GraphFile> {
    let graph = this.lrpByPrecision.get(files.fp16);
    if (!graph) {
      // No progress events: the model is already reported ready, and this download is not the model's.
      graph = loadGraphFile(this.manifest, { ...this.loader, onProgress: undefined }, files.lrpFile!);
      this.lrpByPrecision.set(files.fp16, graph);
      graph.catch(() => this.lrpByPrecision.delete(files.fp16));
    }
    return graph;
  }

  /** After any recovery has settled: the backend must be open. */
  assertOpen(): void {
    if (!this.current.closed) return;
    // After a failed recovery neither WebGPU nor WASM could be opened: trying again will not help, reloading may.
    if (this.recoveryFailure) throw new EngineError('device-lost', this.recoveryFailure, 'gpu-stopped');
    throw new EngineError('device-lost', 'the backend was closed after a device loss');
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.current) close(this.current);
  }

  private status(s: EngineStatus): void {
    try { this.options.onStatus?.(s); } catch (error) { console.error('[leaf-lens] onStatus threw', error); }
  }

  private graphFiles(fp16: boolean): Promise<GraphFiles> {
    let files = this.filesByPrecision.get(fp16);
    if (!files) {
      files = loadGraphFiles(this.manifest, this.loader, fp16);
      this.filesByPrecision.set(fp16, files);
      files.catch(() => this.filesByPrecision.delete(fp16));
    }
    return files;
  }

  /** Opens a backend: ORT, (device, explainer, renderer), verified files, and the first method's session. For a rebuild,
   * aborting `rebuild.abandon` closes what was opened so far (its device too, which may free ORT from a session
   * creation that hangs). */
  private async open(backend: BackendName, probe?: AdapterProbe, rebuild?: { abandon: AbortSignal }): Promise<Backend> {
    let gpu: GpuParts | undefined;
    let files: GraphFiles;
    let ort: Ort;
    if (backend === 'webgpu') {
      if (!probe) throw new EngineError('backend-unavailable', 'WebGPU requested but no adapter was found', 'no-webgpu-adapter');
      const created = await createEngineDevice(probe, hasFp16(this.manifest)).catch((error: unknown) => {
        throw toEngineError(error, 'backend-unavailable', `requestDevice on ${probe.description}`);
      });
      const { device } = created;
      try {
        [files, ort] = await Promise.all([this.graphFiles(created.usesF16), loadOrt('webgpu')]);
        // ORT probes an adapter of its own unless told which one; ours already holds the device.
        if (!ort.env.webgpu.adapter) ort.env.webgpu.adapter = probe.adapter;
        gpu = { device, probe, explainer: new GpuExplainer(device, explainDims(this.manifest)), renderer: new GpuHeatmapRenderer(device) };
      } catch (error) {
        device.destroy();
        throw error;
      }
    } else {
      [files, ort] = await Promise.all([this.graphFiles(false), loadOrt('wasm')]);
    }
    const opened: Backend = { backend, ort, files, gpu, sessions: {}, closed: false };
    const abandon = rebuild?.abandon;
    if (abandon) {
      if (abandon.aborted) {
        close(opened);
        throw new EngineError('aborted', `opening ${backend} was abandoned`);
      }
      abandon.addEventListener('abort', () => close(opened), { once: true });
    }
    if (gpu) {
      const generation = ++this.deviceGeneration;
      watchDevice(gpu.device, (reason) => this.onDeviceLost(opened, generation, reason), () => opened.closed);
    }
    this.options.onProgress?.({ kind: 'session', backend });
    try {
      await this.session(opened, this.firstGraph(files), rebuild && gpu ? this.options.recovery?.beforeWebGpuSession : undefined);
    } catch (error) {
      close(opened);
      throw error;
    }
    return opened;
  }

  /** The graph whose session a backend opens first: the first method's (lrp only when the model has one). */
  private firstGraph(files: GraphFiles): GraphKind {
    const method = this.options.firstMethod;
    const graph = method ? methodSpec(method).graph : 'forward';
    return graph === 'lrp' && !files.lrpFile ? 'forward' : graph;
  }

  private onDeviceLost(lost: Backend, generation: number, reason: string): void {
    if (this.disposed || lost !== this.current || generation !== this.deviceGeneration) return;
    console.warn(`[leaf-lens] WebGPU device lost (${reason}); rebuilding`);
    this.status({ kind: 'recovering', reason });
    this.hooks.onDeviceLost();
    close(lost);
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
      this.adopt(await this.rebuild('webgpu', probe));
      this.status({ kind: 'ready', backend: 'webgpu' });
    } catch (error) {
      if (this.disposed) return;
      const why = `${reason}; WebGPU rebuild failed: ${describeError(error)}`;
      try {
        this.adopt(await this.rebuild('wasm'));
      } catch (wasmError) {
        throw new Error(`WebGPU: ${describeError(error)}; then WASM: ${describeError(wasmError)}`);
      }
      this.status({ kind: 'fell-back', from: 'webgpu', to: 'wasm', reason: why });
    }
    this.hooks.onBackendOpened(this.current);
  }

  /** open() bounded in time: a rebuild that does not finish is abandoned (its device destroyed, a backend that still
   * arrives later closed) and reported as failed, so that recovery moves on to WASM, or ends with 'device-lost'. */
  private async rebuild(backend: BackendName, probe?: AdapterProbe): Promise<Backend> {
    const ms = this.options.recovery?.rebuildTimeoutMs ?? REBUILD_TIMEOUT_MS;
    const abandon = new AbortController();
    const rebuild = this.open(backend, probe, { abandon: abandon.signal });
    try {
      return await withTimeout(rebuild, ms, () => new EngineError('backend-unavailable', `the ${backend} rebuild did not finish within ${ms / 1000} s`));
    } catch (error) {
      abandon.abort();
      rebuild.then(close, () => undefined);
      throw error;
    }
  }

  /** Installs a rebuilt backend, unless the engine was disposed while it was being built. */
  private adopt(backend: Backend): void {
    if (this.disposed) {
      close(backend);
      throw new EngineError('aborted', 'engine disposed during device recovery');
    }
    this.current = backend;
    this.recoveryFailure = undefined;
  }
}

function close(backend: Backend): void {
  if (backend.closed) return;
  backend.closed = true;
  for (const session of Object.values(backend.sessions)) void session.then((s) => s.release(), () => undefined);
  backend.sessions = {};
  if (backend.gpu) {
    backend.gpu.explainer.destroy();
    backend.gpu.renderer.destroy();
    backend.gpu.device.destroy();
  }
}
