// The WebGPU explainer: runs the explanation kernels (shaders/) over the model's attention buffers, which stay
// on the GPU; only the G×G map (and its raw copy) is read back.
//
// Passes per run, in one compute pass:
//   fuseHeads         [L,1,H,N,N] (+ second tensor) → fused [slots,N,N]
//   discardThreshold  rollout with k > 0 only: one exact threshold key per fused map
//   propagateRow      CLS row through the fused blocks (skipped for a 'lastBlock' method: row 0 of the fused map is it)
//   patchMap          → [min, max, raw G², normalised G²]
import type { ExplainOptions } from '../types';
import { discardCount, tensorLength, validateExplainDims, validateExplainOptions, type ExplainDims, type ExplainTensors } from './options';
import { DiscardThresholdPass } from './passes/discardThresholdPass';
import { FuseHeadsPass } from './passes/fuseHeadsPass';
import { PatchMapPass } from './passes/patchMapPass';
import { PropagateRowPass } from './passes/propagateRowPass';
import { methodSpec } from './methods';
import { EXPLAIN_PARAMS_BYTES, writeExplainParams } from './passes/shaderSource';
import type { FusionMode } from './reference';
import type { ExplainResult } from './result';

export { explainShaderSource, FUSION_CODES } from './passes/shaderSource';

/**
 * Owns the four explanation passes (passes/*.ts) and their shared scratch buffers for one device and one model's dims.
 * Create once per (device, model) and reuse; `run` calls are serialised; `destroy()` releases every buffer.
 * Input buffers need GPUBufferUsage.STORAGE and hold `[L,1,H,N,N]` float32 (ORT's 'gpu-buffer' outputs do).
 */
export class GpuExplainer {
  private readonly fuse: FuseHeadsPass;
  private readonly threshold: DiscardThresholdPass;
  private readonly propagate: PropagateRowPass;
  private readonly patch: PatchMapPass;
  private readonly params: GPUBuffer;
  private readonly fused: GPUBuffer;
  private readonly thresholds: GPUBuffer;
  private readonly row: GPUBuffer;
  private readonly result: GPUBuffer;
  private readonly readback: GPUBuffer;
  private readonly querySet: GPUQuerySet | null;
  private readonly queryResolve: GPUBuffer | null;
  private readonly queryReadback: GPUBuffer | null;
  private queue: Promise<unknown> = Promise.resolve();
  private destroyed = false;

  /** Like the constructor, but rejects with the WebGPU validation message if a shader or pipeline is invalid. */
  static async create(device: GPUDevice, dims: ExplainDims): Promise<GpuExplainer> {
    device.pushErrorScope('validation');
    let explainer: GpuExplainer | undefined;
    try {
      explainer = new GpuExplainer(device, dims);
    } finally {
      const error = await device.popErrorScope();
      if (error) {
        explainer?.destroy();
        throw new Error(`GpuExplainer: WebGPU refused the explanation kernels: ${error.message}`);
      }
    }
    return explainer;
  }

  constructor(readonly device: GPUDevice, readonly dims: ExplainDims) {
    validateExplainDims(dims);
    const { layers, tokens, gridSize } = dims;
    const buffer = (name: string, bytes: number, usage: number) =>
      device.createBuffer({ label: `GpuExplainer.${name}`, size: Math.max(16, Math.ceil(bytes / 4) * 4), usage });
    const { STORAGE, UNIFORM, COPY_DST, COPY_SRC, MAP_READ, QUERY_RESOLVE } = GPUBufferUsage;
    this.params = buffer('params', EXPLAIN_PARAMS_BYTES, UNIFORM | COPY_DST);
    this.fused = buffer('fused', layers * tokens * tokens * 4, STORAGE);
    this.thresholds = buffer('thresholds', layers * 4, STORAGE);
    this.row = buffer('row', 2 * tokens * 4, STORAGE);
    const resultBytes = (2 + 2 * gridSize * gridSize) * 4;
    this.result = buffer('result', resultBytes, STORAGE | COPY_SRC);
    this.readback = buffer('readback', resultBytes, MAP_READ | COPY_DST);

    // One class per GPU pass, each owning its pipeline and bind groups over these shared buffers.
    this.fuse = new FuseHeadsPass(device, this.params, this.fused);
    this.threshold = new DiscardThresholdPass(device, this.params, this.fused, this.thresholds);
    this.propagate = new PropagateRowPass(device, this.params, this.fused, this.thresholds, this.row);
    this.patch = new PatchMapPass(device, this.params, { row: this.row, fused: this.fused }, this.result);

    if (device.features.has('timestamp-query')) {
      this.querySet = device.createQuerySet({ label: 'GpuExplainer.timestamps', type: 'timestamp', count: 2 });
      this.queryResolve = buffer('timestamps.resolve', 16, QUERY_RESOLVE | COPY_SRC);
      this.queryReadback = buffer('timestamps.readback', 16, MAP_READ | COPY_DST);
    } else {
      this.querySet = this.queryResolve = this.queryReadback = null;
    }
  }

  /** Runs the method's kernels and reads back the G×G map. Rejects on a lost device or a missing tensor. */
  run(tensors: ExplainTensors<GPUBuffer>, options: Required<ExplainOptions>): Promise<ExplainResult> {
    const next = this.queue.then(() => this.runNow(tensors, options));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async runNow(tensors: ExplainTensors<GPUBuffer>, options: Required<ExplainOptions>): Promise<ExplainResult> {
    if (this.destroyed) throw new Error('GpuExplainer: used after destroy()');
    validateExplainOptions(options, this.dims);
    const { device, dims } = this;
    const { layers, heads, tokens, prefixTokens, gridSize } = dims;
    const method = options.method;
    const spec = methodSpec(method);
    const { rollout } = spec;
    const lastBlock = spec.blocks === 'lastBlock';
    const [x, y, fusion] = this.fusionInputs(tensors, options);
    const firstLayer = lastBlock ? layers - 1 : options.startLayer;
    const fusedLayers = layers - firstLayer;
    const k = rollout ? discardCount(tokens, options.discardRatio) : 0;

    writeExplainParams(device, this.params, {
      tokens, heads, prefixTokens, gridSize, firstLayer, fusedLayers, fusion, discardCount: k, rowNormalise: rollout,
    });

    const encoder = device.createCommandEncoder({ label: `GpuExplainer.run(${method})` });
    const pass = encoder.beginComputePass({
      label: `GpuExplainer.pass(${method})`,
      ...(this.querySet ? { timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } } : {}),
    });
    this.fuse.encode(pass, x, y, tokens, fusedLayers);
    if (k > 0) this.threshold.encode(pass, fusedLayers);
    if (!lastBlock) this.propagate.encode(pass);
    this.patch.encode(pass, lastBlock ? 'fused' : 'row');
    pass.end();
    encoder.copyBufferToBuffer(this.result, 0, this.readback, 0, this.readback.size);
    if (this.querySet && this.queryResolve && this.queryReadback) {
      encoder.resolveQuerySet(this.querySet, 0, 2, this.queryResolve, 0);
      encoder.copyBufferToBuffer(this.queryResolve, 0, this.queryReadback, 0, 16);
    }
    device.queue.submit([encoder.finish()]);

    await this.readback.mapAsync(GPUMapMode.READ);
    const out = new Float32Array(this.readback.getMappedRange().slice(0));
    this.readback.unmap();
    const cells = gridSize * gridSize;
    const result: ExplainResult = {
      min: out[0]!,
      max: out[1]!,
      raw: out.slice(2, 2 + cells),
      values: out.slice(2 + cells, 2 + 2 * cells),
    };
    if (this.queryReadback) {
      await this.queryReadback.mapAsync(GPUMapMode.READ);
      const [begin, end] = new BigUint64Array(this.queryReadback.getMappedRange().slice(0));
      this.queryReadback.unmap();
      if (begin !== undefined && end !== undefined && end >= begin) result.gpuMs = Number(end - begin) / 1e6;
    }
    return result;
  }

  /** The two tensors fuseHeads reads and how it combines them, from the method table (y is x when unused). */
  private fusionInputs(tensors: ExplainTensors<GPUBuffer>, options: Required<ExplainOptions>): [GPUBuffer, GPUBuffer, FusionMode] {
    const need = (name: keyof ExplainTensors<GPUBuffer>): GPUBuffer => {
      const b = tensors[name];
      if (!b) throw new Error(`explain: the model outputs lack "${name}", which this method needs`);
      const bytes = tensorLength(this.dims) * 4;
      if (b.size < bytes) throw new RangeError(`explain: "${name}" buffer has ${b.size} bytes, expected at least L·H·N·N·4 = ${bytes}`);
      return b;
    };
    const { fusion } = methodSpec(options.method);
    const x = need(fusion.x);
    return fusion.kind === 'heads' ? [x, x, options.headFusion] : [x, need(fusion.y), 'positiveProductMean'];
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.fuse.release();
    for (const b of [this.params, this.fused, this.thresholds, this.row, this.result, this.readback, this.queryResolve, this.queryReadback]) b?.destroy();
    this.querySet?.destroy();
  }
}
