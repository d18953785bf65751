// The WebGPU explainer: runs the explanation kernels (shaders/) over the model's attention buffers, which stay
// on the GPU; only the G×G map (and its raw copy) is read back.
//
// Passes per run, in one compute pass:
//   fuseHeads         [L,1,H,N,N] (+ second tensor) → fused [slots,N,N]
//   discardThreshold  rollout with k > 0 only: one exact threshold key per fused map
//   propagateRow      CLS row through the fused blocks (skipped for 'attention': row 0 of the fused map is it)
//   patchMap          → [min, max, raw G², normalised G²]
import commonSource from '../../../shaders/common.wgsl?raw';
import discardThresholdSource from '../../../shaders/discardThreshold.wgsl?raw';
import fuseHeadsSource from '../../../shaders/fuseHeads.wgsl?raw';
import patchMapSource from '../../../shaders/patchMap.wgsl?raw';
import propagateRowSource from '../../../shaders/propagateRow.wgsl?raw';
import type { ExplainOptions } from '../types';
import { discardCount, tensorLength, validateExplainDims, validateExplainOptions, type ExplainDims, type ExplainTensors } from './options';
import type { FusionMode } from './reference';
import type { ExplainResult } from './result';

/** fuseHeads.wgsl's `params.fusion` codes; emitted into the WGSL as FUSION_* constants, so they live only here. */
export const FUSION_CODES: Record<FusionMode, number> = { mean: 0, max: 1, min: 2, positiveProductMean: 3 };

/** Workgroup size of the per-entry fusion pass. */
const FUSE_WORKGROUP_SIZE = 64;
/** Workgroup size of the single-workgroup passes (threshold, propagation, patch map); a power of two. */
const SINGLE_WORKGROUP_SIZE = 256;

/** ExplainParams in common.wgsl: 9 u32 + 1 f32, padded to 16 bytes. */
const PARAMS_BYTES = 48;

function constantName(mode: FusionMode): string {
  return `FUSION_${mode.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/** WGSL source of one explanation kernel: generated constants, then common.wgsl, then the kernel. */
export function explainShaderSource(kernel: string): string {
  const constants = (Object.entries(FUSION_CODES) as Array<[FusionMode, number]>)
    .map(([mode, code]) => `const ${constantName(mode)}: u32 = ${code}u;`)
    .join('\n');
  return `${constants}\n${commonSource}\n${kernel}`;
}

interface Pass {
  pipeline: GPUComputePipeline;
}

/**
 * Owns the explanation pipelines and scratch buffers for one device and one model's dims.
 * Create once per (device, model) and reuse; `run` calls are serialised; `destroy()` releases every buffer.
 * Input buffers need GPUBufferUsage.STORAGE and hold `[L,1,H,N,N]` float32 (ORT's 'gpu-buffer' outputs do).
 */
export class GpuExplainer {
  private readonly fuse: Pass;
  private readonly threshold: Pass;
  private readonly propagate: Pass;
  private readonly patch: Pass;
  private readonly params: GPUBuffer;
  private readonly fused: GPUBuffer;
  private readonly thresholds: GPUBuffer;
  private readonly row: GPUBuffer;
  private readonly result: GPUBuffer;
  private readonly readback: GPUBuffer;
  private readonly thresholdBindGroup: GPUBindGroup;
  private readonly propagateBindGroup: GPUBindGroup;
  private readonly patchFromRowBindGroup: GPUBindGroup;
  private readonly patchFromFusedBindGroup: GPUBindGroup;
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
    const makePass = (name: string, source: string, workgroupSize: number): Pass => {
      const module = device.createShaderModule({ label: `GpuExplainer.${name}.module`, code: explainShaderSource(source) });
      const pipeline = device.createComputePipeline({
        label: `GpuExplainer.${name}.pipeline`,
        layout: 'auto',
        compute: { module, entryPoint: 'main', constants: { WORKGROUP_SIZE: workgroupSize } },
      });
      return { pipeline };
    };
    this.fuse = makePass('fuseHeads', fuseHeadsSource, FUSE_WORKGROUP_SIZE);
    this.threshold = makePass('discardThreshold', discardThresholdSource, SINGLE_WORKGROUP_SIZE);
    this.propagate = makePass('propagateRow', propagateRowSource, SINGLE_WORKGROUP_SIZE);
    this.patch = makePass('patchMap', patchMapSource, SINGLE_WORKGROUP_SIZE);

    const buffer = (name: string, bytes: number, usage: number) =>
      device.createBuffer({ label: `GpuExplainer.${name}`, size: Math.max(16, Math.ceil(bytes / 4) * 4), usage });
    const { STORAGE, UNIFORM, COPY_DST, COPY_SRC, MAP_READ, QUERY_RESOLVE } = GPUBufferUsage;
    this.params = buffer('params', PARAMS_BYTES, UNIFORM | COPY_DST);
    this.fused = buffer('fused', layers * tokens * tokens * 4, STORAGE);
    this.thresholds = buffer('thresholds', layers * 4, STORAGE);
    this.row = buffer('row', 2 * tokens * 4, STORAGE);
    const resultBytes = (2 + 2 * gridSize * gridSize) * 4;
    this.result = buffer('result', resultBytes, STORAGE | COPY_SRC);
    this.readback = buffer('readback', resultBytes, MAP_READ | COPY_DST);

    const bind = (name: string, pass: Pass, buffers: GPUBuffer[]) =>
      device.createBindGroup({
        label: `GpuExplainer.${name}.bindGroup`,
        layout: pass.pipeline.getBindGroupLayout(0),
        entries: buffers.map((b, binding) => ({ binding, resource: { buffer: b } })),
      });
    this.thresholdBindGroup = bind('discardThreshold', this.threshold, [this.params, this.fused, this.thresholds]);
    this.propagateBindGroup = bind('propagateRow', this.propagate, [this.params, this.fused, this.thresholds, this.row]);
    this.patchFromRowBindGroup = bind('patchMap.fromRow', this.patch, [this.params, this.row, this.result]);
    this.patchFromFusedBindGroup = bind('patchMap.fromFused', this.patch, [this.params, this.fused, this.result]);

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
    const rollout = method === 'rollout';
    const [x, y, fusion] = this.fusionInputs(tensors, options);
    const firstLayer = method === 'attention' ? layers - 1 : options.startLayer;
    const fusedLayers = layers - firstLayer;
    const k = rollout ? discardCount(tokens, options.discardRatio) : 0;

    const params = new ArrayBuffer(PARAMS_BYTES);
    new Uint32Array(params, 0, 9).set([tokens, heads, prefixTokens, gridSize, firstLayer, fusedLayers, FUSION_CODES[fusion], k, rollout ? 1 : 0]);
    new Float32Array(params, 36, 1)[0] = 1 / heads;
    device.queue.writeBuffer(this.params, 0, params);

    const fuseBindGroup = device.createBindGroup({
      label: 'GpuExplainer.fuseHeads.bindGroup',
      layout: this.fuse.pipeline.getBindGroupLayout(0),
      entries: [this.params, x, y, this.fused].map((b, binding) => ({ binding, resource: { buffer: b } })),
    });
    const encoder = device.createCommandEncoder({ label: `GpuExplainer.run(${method})` });
    const pass = encoder.beginComputePass({
      label: `GpuExplainer.pass(${method})`,
      ...(this.querySet ? { timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } } : {}),
    });
    pass.setPipeline(this.fuse.pipeline);
    pass.setBindGroup(0, fuseBindGroup);
    pass.dispatchWorkgroups(Math.ceil((tokens * tokens) / FUSE_WORKGROUP_SIZE), fusedLayers);
    if (k > 0) {
      pass.setPipeline(this.threshold.pipeline);
      pass.setBindGroup(0, this.thresholdBindGroup);
      pass.dispatchWorkgroups(fusedLayers);
    }
    if (method !== 'attention') {
      pass.setPipeline(this.propagate.pipeline);
      pass.setBindGroup(0, this.propagateBindGroup);
      pass.dispatchWorkgroups(1);
    }
    pass.setPipeline(this.patch.pipeline);
    pass.setBindGroup(0, method === 'attention' ? this.patchFromFusedBindGroup : this.patchFromRowBindGroup);
    pass.dispatchWorkgroups(1);
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

  /** The two tensors fuseHeads reads and how it combines them, per method (y is x when unused). */
  private fusionInputs(tensors: ExplainTensors<GPUBuffer>, options: Required<ExplainOptions>): [GPUBuffer, GPUBuffer, FusionMode] {
    const need = (name: keyof ExplainTensors<GPUBuffer>): GPUBuffer => {
      const b = tensors[name];
      if (!b) throw new Error(`explain: the model outputs lack "${name}", which this method needs`);
      const bytes = tensorLength(this.dims) * 4;
      if (b.size < bytes) throw new RangeError(`explain: "${name}" buffer has ${b.size} bytes, expected at least L·H·N·N·4 = ${bytes}`);
      return b;
    };
    switch (options.method) {
      case 'attention':
      case 'rollout': {
        const a = need('attentions');
        return [a, a, options.headFusion];
      }
      case 'relevance':
        return [need('attentionGrads'), need('attentions'), 'positiveProductMean'];
      case 'lrp':
        return [need('attentionGrads'), need('attentionRelevance'), 'positiveProductMean'];
    }
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const b of [this.params, this.fused, this.thresholds, this.row, this.result, this.readback, this.queryResolve, this.queryReadback]) b?.destroy();
    this.querySet?.destroy();
  }
}
