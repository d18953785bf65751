// Plain TypeScript references of the explanation kernels in shaders/: the same definitions, Float32Array in/out.
// They are the oracles of the kernel tests and of the WASM path's fast twin (cpuFast.ts), so they mirror the kernels' float32 arithmetic
// (Math.fround after each operation, same summation order) where bit-exactness matters: the rollout discard
// compares fused values against a threshold, so fused maps must be identical on both sides.
import type { ExplainOptions, HeadFusion } from '../types';
import { discardCount, tensorLength, validateExplainOptions, type ExplainDims, type ExplainTensors } from './options';
import { methodSpec } from './methods';
import type { ExplainResult } from './result';

const f32 = Math.fround;

/** How `fuseHeads` combines the H maps of one block. 'positiveProductMean' = mean_h((x ⊙ y)⁺). */
export type FusionMode = HeadFusion | 'positiveProductMean';

/**
 * Reference of shaders/fuseHeads.wgsl for one block: fuses the H `[N,N]` maps of block `layer` into one.
 * `x` and `y` are whole `[L,1,H,N,N]` tensors; `y` is read only by 'positiveProductMean'.
 * The mean multiplies the head sum by fround(1/H) (not a division) so the GPU result is bit-identical.
 */
export function fuseHeads(x: Float32Array, y: Float32Array, dims: ExplainDims, layer: number, mode: FusionMode): Float32Array {
  const { heads, tokens } = dims;
  const size = tokens * tokens;
  const out = new Float32Array(size);
  const invHeads = f32(1 / heads);
  const base = layer * heads * size;
  // One loop per mode (the branch is hoisted out of the N²·H loop: this runs the WASM path).
  switch (mode) {
    case 'mean':
      for (let e = 0; e < size; e++) {
        let acc = x[base + e]!;
        for (let h = 1; h < heads; h++) acc = f32(acc + x[base + h * size + e]!);
        out[e] = f32(acc * invHeads);
      }
      break;
    case 'max':
    case 'min': {
      const pick = mode === 'max' ? Math.max : Math.min;
      for (let e = 0; e < size; e++) {
        let acc = x[base + e]!;
        for (let h = 1; h < heads; h++) acc = pick(acc, x[base + h * size + e]!);
        out[e] = acc;
      }
      break;
    }
    case 'positiveProductMean':
      for (let e = 0; e < size; e++) {
        let acc = 0;
        for (let h = 0; h < heads; h++) {
          const at = base + h * size + e;
          acc = f32(acc + Math.max(f32(x[at]! * y[at]!), 0));
        }
        out[e] = f32(acc * invHeads);
      }
      break;
  }
  return out;
}

const keyFloat = new Float32Array(1);
const keyBits = new Uint32Array(keyFloat.buffer);

/** Maps a float32 to a uint32 whose unsigned order is the float order (negatives flipped): orderedKey in common.wgsl. */
export function orderedKey(value: number): number {
  keyFloat[0] = value;
  return bitsKey(keyBits[0]!);
}

function bitsKey(bits: number): number {
  return (bits & 0x80000000 ? ~bits : bits | 0x80000000) >>> 0;
}

/**
 * Rollout discard threshold of one fused `[N,N]` map (reference of shaders/discardThreshold.wgsl).
 * Candidates are the entries off the CLS row and column, (N-1)² of them; k = discardCount(N, ratio).
 * The threshold is the ordered key of the candidate of rank k (0-based, ascending); a candidate is discarded
 * when its key is strictly below it. Without ties that zeroes exactly the k lowest (as torch.topk would);
 * with ties at the boundary all tied entries are kept, so the rule is exact and order-independent (the GPU
 * finds the same key by a 4-pass radix select). Returns null when k = 0 (nothing to discard).
 */
export function discardThreshold(fused: Float32Array, tokens: number, discardRatio: number): number | null {
  const k = discardCount(tokens, discardRatio);
  if (k === 0) return null;
  const bits = new Uint32Array(fused.buffer, fused.byteOffset, fused.length);
  const keys = new Uint32Array((tokens - 1) * (tokens - 1));
  let n = 0;
  for (let i = 1; i < tokens; i++) for (let j = 1; j < tokens; j++) keys[n++] = bitsKey(bits[i * tokens + j]!);
  return selectRank(keys, k);
}

/**
 * The key of rank k (0-based, ascending) by radix select, 8 bits a round from the top, as the kernel does:
 * O(4·n) instead of sorting (the WASM path runs it once per block). The tests check it against a sort.
 */
export function selectRank(keys: Uint32Array, k: number): number {
  const histogram = new Uint32Array(256);
  let prefix = 0;
  let rank = k;
  for (let shift = 24; shift >= 0; shift -= 8) {
    const known = shift === 24 ? 0 : (0xffffffff << (shift + 8)) >>> 0;
    histogram.fill(0);
    for (let c = 0; c < keys.length; c++) {
      const key = keys[c]!;
      if (((key & known) >>> 0) === prefix) histogram[(key >>> shift) & 255]!++;
    }
    let bin = 0;
    while (rank >= histogram[bin]!) rank -= histogram[bin++]!;
    prefix = (prefix | (bin << shift)) >>> 0;
  }
  return prefix;
}

/** Applies the discard in place: zeroes candidates (off the CLS row/column) whose key is below `threshold`. */
export function applyDiscard(fused: Float32Array, tokens: number, threshold: number | null): void {
  if (threshold === null) return;
  const bits = new Uint32Array(fused.buffer, fused.byteOffset, fused.length);
  for (let i = 1; i < tokens; i++) {
    for (let j = 1; j < tokens; j++) {
      if (bitsKey(bits[i * tokens + j]!) < threshold) fused[i * tokens + j] = 0;
    }
  }
}

/**
 * Reference of one layer step of shaders/propagateRow.wgsl: r ← r·M with M = I + F, or, when `rowNormalise`
 * (rollout), M = (F + I) / rowsum. Only the CLS row of the product of the blocks' matrices is needed, so a row
 * vector is propagated: O(N²) per block instead of the O(N³) matrix product.
 */
export function propagateRowStep(row: Float32Array, fused: Float32Array, tokens: number, rowNormalise: boolean): Float32Array {
  const scaled = new Float32Array(tokens);
  for (let i = 0; i < tokens; i++) {
    if (rowNormalise) {
      let sum = 0;
      for (let j = 0; j < tokens; j++) sum = f32(sum + fused[i * tokens + j]!);
      scaled[i] = f32(row[i]! / f32(sum + 1));
    } else {
      scaled[i] = row[i]!;
    }
  }
  const out = new Float32Array(tokens);
  for (let j = 0; j < tokens; j++) {
    let acc = 0;
    for (let i = 0; i < tokens; i++) acc = f32(acc + f32(scaled[i]! * fused[i * tokens + j]!));
    out[j] = f32(acc + scaled[j]!);
  }
  return out;
}

/** Reference of shaders/patchMap.wgsl: CLS row over the patch tokens (DIST skipped) → raw map, range, normalised map. */
export function patchMap(row: Float32Array, dims: ExplainDims): ExplainResult {
  const cells = dims.gridSize * dims.gridSize;
  const raw = row.slice(dims.prefixTokens, dims.prefixTokens + cells);
  let min = Infinity;
  let max = -Infinity;
  for (const v of raw) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const values = new Float32Array(cells);
  if (max > min) {
    const range = f32(max - min);
    for (let p = 0; p < cells; p++) values[p] = f32(f32(raw[p]! - min) / range);
  }
  return { values, raw, min, max };
}

/** The fusion the method's table entry names, applied to block `layer`. */
function fuseForMethod(tensors: ExplainTensors<Float32Array>, dims: ExplainDims, layer: number, options: Required<ExplainOptions>): Float32Array {
  const { fusion } = methodSpec(options.method);
  const x = requireTensor(tensors, fusion.x, dims);
  return fusion.kind === 'heads'
    ? fuseHeads(x, x, dims, layer, options.headFusion)
    : fuseHeads(x, requireTensor(tensors, fusion.y, dims), dims, layer, 'positiveProductMean');
}

/** The named output, checked to be present and of the contract's size (shared with the fast CPU path). */
export function requireTensor(tensors: ExplainTensors<Float32Array>, name: keyof ExplainTensors<Float32Array>, dims: ExplainDims): Float32Array {
  const tensor = tensors[name];
  if (!tensor) throw new Error(`explain: the model outputs lack "${name}", which this method needs`);
  if (tensor.length !== tensorLength(dims)) {
    throw new RangeError(`explain: "${name}" has ${tensor.length} values, expected L·H·N·N = ${tensorLength(dims)}`);
  }
  return tensor;
}

/**
 * Computes the explanation map on the CPU (the contract's "Explanation methods"):
 * - attention: row 0 of fuse_h(A_{L-1});
 * - rollout:   e₀ · Â_{L-1} ⋯ Â_start, Â = (discard(fuse_h(A)) + I) / rowsum;
 * - relevance: e₀ · (I + Ā_{L-1}) ⋯ (I + Ā_start), Ā = mean_h((∇A ⊙ A)⁺)   (Chefer et al., ICCV 2021);
 * - lrp:       e₀ · (I + Ā_{L-1}) ⋯ (I + Ā_start), Ā = mean_h((∇A ⊙ R^A)⁺) (Chefer et al., CVPR 2021).
 */
export function explainOnCpu(tensors: ExplainTensors<Float32Array>, dims: ExplainDims, options: Required<ExplainOptions>): ExplainResult {
  validateExplainOptions(options, dims);
  const spec = methodSpec(options.method);
  for (const name of spec.tensors) requireTensor(tensors, name, dims);
  const { tokens, layers } = dims;
  if (spec.blocks === 'lastBlock') {
    const fused = fuseForMethod(tensors, dims, layers - 1, options);
    return patchMap(fused.subarray(0, tokens), dims);
  }
  let row: Float32Array = new Float32Array(tokens);
  row[0] = 1;
  for (let layer = layers - 1; layer >= options.startLayer; layer--) {
    const fused = fuseForMethod(tensors, dims, layer, options);
    if (spec.rollout) applyDiscard(fused, tokens, discardThreshold(fused, tokens, options.discardRatio));
    row = propagateRowStep(row, fused, tokens, spec.rollout);
  }
  return patchMap(row, dims);
}
