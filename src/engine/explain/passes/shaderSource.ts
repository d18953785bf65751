// Builds the WGSL of the explanation kernels: TS-generated constants, then shaders/common.wgsl, then the kernel.
import commonSource from '../../../../shaders/common.wgsl?raw';
import type { FusionMode } from '../reference';

/** fuseHeads.wgsl's `params.fusion` codes; emitted into the WGSL as FUSION_* constants, so they live only here. */
export const FUSION_CODES: Record<FusionMode, number> = { mean: 0, max: 1, min: 2, positiveProductMean: 3 };

/** ExplainParams in common.wgsl: 9 u32 + 1 f32, padded to 16 bytes. */
export const EXPLAIN_PARAMS_BYTES = 48;

/** The fields of ExplainParams (common.wgsl) the host chooses; invHeads is derived. */
export interface ExplainParams {
  tokens: number;
  heads: number;
  prefixTokens: number;
  gridSize: number;
  firstLayer: number;
  fusedLayers: number;
  fusion: FusionMode;
  discardCount: number;
  rowNormalise: boolean;
}

/** Packs ExplainParams in common.wgsl's layout (field order matters) and queues the write. */
export function writeExplainParams(device: GPUDevice, buffer: GPUBuffer, p: ExplainParams): void {
  const bytes = new ArrayBuffer(EXPLAIN_PARAMS_BYTES);
  new Uint32Array(bytes, 0, 9).set([
    p.tokens, p.heads, p.prefixTokens, p.gridSize, p.firstLayer, p.fusedLayers, FUSION_CODES[p.fusion], p.discardCount, p.rowNormalise ? 1 : 0,
  ]);
  new Float32Array(bytes, 36, 1)[0] = 1 / p.heads; // stored as fround(1/H), as the CPU reference uses
  device.queue.writeBuffer(buffer, 0, bytes);
}

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

/** A compute pipeline for one explanation kernel, labelled `<name>.pipeline`; workgroup size via its override. */
export function explainPipeline(device: GPUDevice, name: string, kernel: string, overrides: Record<string, number>): GPUComputePipeline {
  const module = device.createShaderModule({ label: `${name}.module`, code: explainShaderSource(kernel) });
  return device.createComputePipeline({ label: `${name}.pipeline`, layout: 'auto', compute: { module, entryPoint: 'main', constants: overrides } });
}

/** A bind group whose entries are `buffers` at bindings 0, 1, 2, … */
export function bufferBindGroup(device: GPUDevice, label: string, pipeline: GPUComputePipeline, buffers: GPUBuffer[]): GPUBindGroup {
  return device.createBindGroup({
    label,
    layout: pipeline.getBindGroupLayout(0),
    entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
}
