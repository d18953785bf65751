// One onnxruntime-web InferenceSession per graph (forward, full, lrp), checked against the contract after creation.
// On WebGPU the big `[L,1,H,N,N]` outputs stay on the GPU ('gpu-buffer') for the explanation kernels.
// On WASM, ORT may run in its proxy worker (ort.ts): then it transfers (detaches) the buffers of the graph bytes
// and of every input it is given, so it gets copies, and the engine's own arrays stay usable.
import type { InferenceSession, Tensor } from 'onnxruntime-web';
import { EngineError, describeError } from '../errors';
import type { BackendName } from '../types';
import { CONTRACT, requiredOutputs, resolveShape, type GraphKind, type OutputName, type ShapeBindings } from './contract';
import type { Manifest } from './manifest';
import { runsInWorker, type Ort } from './ort';

/** Outputs that are only ever read by the explanation kernels: left on the GPU when the backend is WebGPU. */
export const GPU_RESIDENT_OUTPUTS: readonly OutputName[] = ['attentions', 'attention_grads', 'attention_relevance'];

export interface GraphSource {
  kind: GraphKind;
  file: string;
  bytes: Uint8Array;
  weightsPath: string;
  /** A Blob crosses to ORT's proxy worker as a handle; bytes are copied there (structured clone) on the main thread. */
  weights: Uint8Array | Blob;
}

export interface SessionTarget {
  ort: Ort;
  backend: BackendName;
  /** The engine's device; required when backend is 'webgpu'. */
  device?: GPUDevice;
  /** Test seam: awaited in the ORT queue just before the session is created (EngineOptions.recovery). */
  beforeCreate?: () => Promise<void>;
}

/** Chains async work one at a time: ORT sessions sharing one WASM instance must not run concurrently. */
export class Serializer {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(task: () => Promise<T>): Promise<T> {
    const next = this.tail.then(task, task);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/** One queue per ORT module: its WASM instance creates one WebGPU session at a time and runs one graph at a time,
 * even when several engines share it. */
const ortQueues = new WeakMap<Ort, Serializer>();
function queueOf(ort: Ort): Serializer {
  let queue = ortQueues.get(ort);
  if (!queue) ortQueues.set(ort, (queue = new Serializer()));
  return queue;
}

/** Calls into ORT (`enter`) through its module's queue, on `device` when there is one. The caller stops waiting when
 * the device is lost: work on a lost device may never settle. The queue does not: ORT's WASM instance (asyncify) must
 * not be entered again while a call is suspended inside it; releasing a session then was seen to corrupt it
 * ('__next_prime overflow') or to spin the page's main thread for good. So the next call waits until ORT is out.
 * Queued work whose device is already gone never enters ORT; `before` (a test seam) runs in the queue but outside
 * ORT, so a loss may cut it short. `late` receives what abandoned work still produces. */
function callOrt<T>(ort: Ort, device: GPUDevice | undefined, what: string, enter: () => Promise<T>,
  extra: { before?: () => Promise<void>; late?: (value: T) => void } = {}): Promise<T> {
  const queue = queueOf(ort);
  if (!device) return queue.run(async () => { await extra.before?.(); return enter(); });
  let lostError: EngineError | undefined;
  const lost = device.lost.then((info) => {
    lostError = new EngineError('device-lost', `${what} (${info.reason}: ${info.message})`);
    throw lostError;
  });
  lost.catch(() => undefined);
  const inQueue = queue.run(async () => {
    if (extra.before) await Promise.race([extra.before(), lost]);
    if (lostError) throw lostError;
    const work = enter();
    work.then((value) => { if (lostError) extra.late?.(value); }, () => undefined); // a late failure is expected
    return work;
  });
  return Promise.race([inQueue, lost]);
}

function releaseInQueue(ort: Ort, session: InferenceSession): Promise<void> {
  return queueOf(ort).run(() => session.release()).catch(() => undefined); // a session on a lost device may refuse
}

export class GraphSession {
  /** Model runs so far (tests count them to prove cached outputs are reused). */
  runs = 0;
  private checkedDevice = false;

  private constructor(
    readonly kind: GraphKind,
    readonly file: string,
    readonly backend: BackendName,
    private readonly session: InferenceSession,
    private readonly ort: Ort,
    private readonly device: GPUDevice | undefined,
  ) {}

  static async create(target: SessionTarget, source: GraphSource, manifest: Manifest, classes: number): Promise<GraphSession> {
    const { ort, backend, device } = target;
    if (backend === 'webgpu' && !device) throw new EngineError('internal', 'GraphSession.create: webgpu without a device');
    const options: InferenceSession.SessionOptions = {
      executionProviders: backend === 'webgpu' ? [{ name: 'webgpu', device } as InferenceSession.ExecutionProviderConfig] : ['wasm'],
      // Both graphs name the same weights file; each session gets the same bytes (downloaded once).
      externalData: [{ path: source.weightsPath, data: source.weights }],
      graphOptimizationLevel: 'all',
      // ORT's own warnings (e.g. shape ops placed on the CPU by design) would reach the console as errors.
      logSeverityLevel: 3,
    };
    if (backend === 'webgpu') {
      options.preferredOutputLocation = Object.fromEntries(GPU_RESIDENT_OUTPUTS.map((name) => [name, 'gpu-buffer' as const]));
    }
    // The graph's bytes stay with the engine (a later session, a rebuilt backend) even when the proxy takes its copy.
    const bytes = runsInWorker(ort, backend) ? source.bytes.slice() : source.bytes;
    let session: InferenceSession;
    try {
      // The caller hears of a device lost during the creation at once; a session that still arrives is released.
      session = await callOrt(ort, device, `${source.file}: device lost while its session was created`,
        () => ort.InferenceSession.create(bytes, options),
        { before: target.beforeCreate, late: (late) => void releaseInQueue(ort, late) });
    } catch (error) {
      if (error instanceof EngineError && error.code === 'device-lost') throw error;
      throw new EngineError('model-corrupt', `${source.file}: onnxruntime-web (${backend}) could not load it: ${describeError(error)}`, undefined, { cause: error });
    }
    const graph = new GraphSession(source.kind, source.file, backend, session, ort, device);
    try {
      graph.checkContract(manifest, classes);
      if (backend === 'webgpu') await graph.checkSharedDevice();
    } catch (error) {
      await releaseInQueue(ort, session);
      throw error;
    }
    return graph;
  }

  get inputNames(): readonly string[] { return this.session.inputNames; }
  get outputNames(): readonly string[] { return this.session.outputNames; }

  /** Names and (where ORT exposes them) dtypes and static shapes, per contract and manifest. */
  private checkContract(manifest: Manifest, classes: number): void {
    const problems: string[] = [];
    const known = CONTRACT.inputs.map((i) => i.name);
    const inputs = this.session.inputNames;
    for (const name of inputs) if (!known.includes(name)) problems.push(`unexpected input "${name}"`);
    // The forward graph may lose the unused `target` input to ORT's optimiser; the full and lrp graphs need it.
    const mustHave = this.kind === 'forward' ? known.filter((n) => n !== 'target') : known;
    for (const name of mustHave) if (!inputs.includes(name)) problems.push(`input "${name}" is missing`);
    for (const out of requiredOutputs(this.kind, manifest.outputs)) {
      if (!this.session.outputNames.includes(out.name)) problems.push(`output "${out.name}" is missing`);
    }

    const bindings: ShapeBindings = {
      S: manifest.image_size, C: classes, F: manifest.features, L: manifest.layers, H: manifest.heads, N: manifest.tokens,
      D: manifest.embed_dim, R: 2 * manifest.layers,
    };
    const declared = [...CONTRACT.inputs, ...CONTRACT.outputs];
    for (const meta of [...(this.session.inputMetadata ?? []), ...(this.session.outputMetadata ?? [])]) {
      const spec = declared.find((d) => d.name === meta.name);
      if (!spec || !meta.isTensor) continue;
      if (meta.type !== spec.dtype) problems.push(`${meta.name} is ${meta.type}, contract says ${spec.dtype}`);
      if (meta.shape.length === 0) continue; // shape unknown to ORT: checked at run time instead
      const expected = resolveShape(spec.shape, bindings);
      if (meta.shape.length !== expected.length) {
        problems.push(`${meta.name} has rank ${meta.shape.length}, contract says ${expected.length} ([${expected.join(',')}])`);
        continue;
      }
      meta.shape.forEach((dim, i) => {
        // Symbolic (string) and negative dims are dynamic (C is, by contract); only fixed numbers are compared.
        if (typeof dim === 'number' && dim >= 0 && dim !== expected[i]) {
          problems.push(`${meta.name} dim ${i} is ${dim}, expected ${expected[i]} (shape [${meta.shape.join(',')}])`);
        }
      });
    }
    if (problems.length > 0) {
      throw new EngineError('model-contract', `${this.file}: ${problems.join('; ')}`);
    }
  }

  /** ORT must run on the engine's own device, or its GPU buffers cannot be bound by our kernels. */
  private async checkSharedDevice(): Promise<void> {
    const reported = await (this.ort.env.webgpu as { device?: GPUDevice | Promise<GPUDevice> }).device;
    // With a caller-supplied device ORT 1.30 leaves env.webgpu.device unset; when it does report one, it must be ours.
    if (reported && reported !== this.device) {
      throw new EngineError('backend-unavailable', `${this.file}: onnxruntime-web uses its own GPUDevice, not the engine's`);
    }
  }

  /** First run only: prove the output buffers belong to our device by copying from one in a validation scope. */
  private async checkBufferDevice(tensor: Tensor): Promise<void> {
    const device = this.device!;
    const probe = device.createBuffer({ label: 'LeafLens.deviceProbe', size: 4, usage: GPUBufferUsage.COPY_DST });
    try {
      device.pushErrorScope('validation');
      const encoder = device.createCommandEncoder({ label: 'LeafLens.deviceProbe' });
      encoder.copyBufferToBuffer(tensor.gpuBuffer as GPUBuffer, 0, probe, 0, 4);
      device.queue.submit([encoder.finish()]);
      const error = await device.popErrorScope();
      if (error) throw new EngineError('backend-unavailable', `${this.file}: ORT output buffer is not on the engine's device: ${error.message}`);
    } finally {
      probe.destroy();
    }
    this.checkedDevice = true;
  }

  /** Runs the graph, fetching only `fetches`. The caller owns the returned tensors and must dispose them. */
  async run(feeds: Record<string, Tensor>, fetches: OutputName[]): Promise<Record<string, Tensor>> {
    const usable: Record<string, Tensor> = {};
    const copy = runsInWorker(this.ort, this.backend);
    for (const name of this.session.inputNames) {
      const tensor = feeds[name];
      if (!tensor) throw new EngineError('internal', `${this.file}: no feed for input "${name}"`);
      // The proxy detaches what it sends: the photo's pixels and the head's weights are used again.
      usable[name] = copy ? new this.ort.Tensor('float32', (tensor.data as Float32Array).slice(), tensor.dims) : tensor;
    }
    const missing = fetches.filter((name) => !this.session.outputNames.includes(name));
    if (missing.length > 0) throw new EngineError('model-contract', `${this.file}: has no output ${missing.join(', ')}`);
    let outputs: Record<string, Tensor>;
    try {
      outputs = await callOrt(this.ort, this.device, `${this.file}: device lost during the run`, () => this.session.run(usable, fetches));
    } catch (error) {
      throw new EngineError('internal', `${this.file}: run failed on ${this.backend}: ${describeError(error)}`, undefined, { cause: error });
    }
    this.runs += 1;
    if (this.backend === 'webgpu' && !this.checkedDevice) {
      const gpu = Object.values(outputs).find((t) => t.location === 'gpu-buffer');
      if (gpu) {
        try { await this.checkBufferDevice(gpu); } catch (error) {
          for (const t of Object.values(outputs)) t.dispose();
          throw error;
        }
      }
    }
    return outputs;
  }

  /** Through the ORT queue like every other call into ORT, but never cut short: a release must not re-enter ORT. */
  async release(): Promise<void> {
    await releaseInQueue(this.ort, this.session);
  }
}
