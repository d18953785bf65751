// The WASM path's explanation maths: the same definitions as the reference (reference.ts, the oracle), written
// for speed instead of for bit-exactness with the WGSL kernels. One pass over the L·H·N² inputs at most, no N²
// intermediate unless rollout's discard needs one, float64 sums, no Math.fround, no allocation per block:
// - relevance / lrp: head fusion and the row-vector step are one pass, e₀ · (I + Ā): for each row i with r_i ≠ 0
//   the heads' row i are read and added, r_i-weighted, into the next row. (x·y)⁺ is taken
//   as (p + |p|)/2, without a branch: the sign of a gradient is a coin flip, and the mispredicted branch cost
//   more than all the arithmetic (bench stage cpu:relevance, fastest of 8 on the loaded 2-core machine: 12-17 ms
//   with the branch, 3.4 ms without);
// - rollout without discard: the same one pass, each fused row summed for its normalisation as it is made;
// - rollout with discard: the fused map must exist (the threshold is a rank over all of it); fusion keeps the
//   reference's float32 order so the same entries are discarded, then the row step is row-major;
// - attention: only the CLS row of the last block is fused.
// test/engine/explain/cpuFast.test.ts states and checks the tolerances against reference.ts.
import type { ExplainOptions, HeadFusion } from '../types';
import { discardCount, validateExplainOptions, type ExplainDims, type ExplainTensors } from './options';
import { methodSpec } from './methods';
import { patchMap, requireTensor, selectRank } from './reference';
import type { ExplainResult } from './result';

const f32 = Math.fround;

/** next ← row · (I + mean_h((x ⊙ y)⁺)) for block `layer` (float64 accumulation). */
function relevanceStep(row: Float64Array, next: Float64Array, x: Float32Array, y: Float32Array, dims: ExplainDims, layer: number): void {
  const { heads, tokens } = dims;
  const size = tokens * tokens;
  const base = layer * heads * size;
  next.set(row);
  const half = 0.5 / heads; // mean over heads, and the /2 of (p + |p|)/2
  for (let i = 0; i < tokens; i++) {
    const r = row[i]!;
    if (r === 0) continue;
    const weight = r * half;
    // Three heads per pass over the row (DeiT-tiny has three): a quarter faster than a loop over the heads per
    // entry; any other heads, one at a time. Products of two float32 are exact in float64.
    let h = 0;
    for (; h + 3 <= heads; h += 3) {
      const a0 = base + h * size + i * tokens;
      const a1 = a0 + size;
      const a2 = a1 + size;
      for (let j = 0; j < tokens; j++) {
        const p0 = x[a0 + j]! * y[a0 + j]!;
        const p1 = x[a1 + j]! * y[a1 + j]!;
        const p2 = x[a2 + j]! * y[a2 + j]!;
        next[j]! += weight * (p0 + Math.abs(p0) + p1 + Math.abs(p1) + p2 + Math.abs(p2));
      }
    }
    for (; h < heads; h++) {
      const at = base + h * size + i * tokens;
      for (let j = 0; j < tokens; j++) {
        const p = x[at + j]! * y[at + j]!;
        next[j]! += weight * (p + Math.abs(p));
      }
    }
  }
}

/** Row i of fuse_h(block `layer`) into `out` (float64; mean, max or min over the heads). */
function fusedRow(out: Float64Array, a: Float32Array, dims: ExplainDims, layer: number, i: number, mode: HeadFusion): void {
  const { heads, tokens } = dims;
  const size = tokens * tokens;
  const span = heads * size;
  const start = layer * span + i * tokens;
  if (mode === 'mean') {
    const invHeads = 1 / heads;
    for (let j = 0; j < tokens; j++) {
      let sum = 0;
      const end = start + j + span;
      for (let at = start + j; at < end; at += size) sum += a[at]!;
      out[j] = sum * invHeads;
    }
  } else {
    const takeMax = mode === 'max';
    for (let j = 0; j < tokens; j++) {
      let pick = a[start + j]!;
      const end = start + j + span;
      for (let at = start + j + size; at < end; at += size) {
        const v = a[at]!;
        pick = takeMax ? Math.max(pick, v) : Math.min(pick, v);
      }
      out[j] = pick;
    }
  }
}

/** next ← Σ_i (row_i / (1 + Σ_j F_ij)) · (F_i + e_i), F = fuse_h(block `layer`), one fused row at a time. */
function rolloutStepFused(row: Float64Array, next: Float64Array, scratch: Float64Array, a: Float32Array, dims: ExplainDims, layer: number, mode: HeadFusion): void {
  const { tokens } = dims;
  next.fill(0);
  for (let i = 0; i < tokens; i++) {
    if (row[i] === 0) continue; // its fused row adds nothing (and an empty row's sum of 1 cannot divide by zero)
    fusedRow(scratch, a, dims, layer, i, mode);
    let sum = 1;
    for (let j = 0; j < tokens; j++) sum += scratch[j]!;
    const r = row[i]! / sum;
    next[i]! += r;
    for (let j = 0; j < tokens; j++) next[j]! += r * scratch[j]!;
  }
}

/** fuse_h of block `layer` into `out` (float32, the reference's summation order: same discard decisions). */
function fuseInto(out: Float32Array, a: Float32Array, dims: ExplainDims, layer: number, mode: HeadFusion): void {
  const { heads, tokens } = dims;
  const size = tokens * tokens;
  const base = layer * heads * size;
  out.set(a.subarray(base, base + size));
  if (mode === 'mean') {
    for (let h = 1; h < heads; h++) {
      const at = base + h * size;
      for (let e = 0; e < size; e++) out[e] = out[e]! + a[at + e]!; // a Float32Array store rounds like fround
    }
    const invHeads = f32(1 / heads);
    for (let e = 0; e < size; e++) out[e] = out[e]! * invHeads;
  } else {
    const takeMax = mode === 'max';
    for (let h = 1; h < heads; h++) {
      const at = base + h * size;
      for (let e = 0; e < size; e++) {
        const v = a[at + e]!;
        if (takeMax ? v > out[e]! : v < out[e]!) out[e] = v;
      }
    }
  }
}

/** Zeroes the k lowest candidates (off the CLS row and column) by the reference's exact rank rule. */
function discard(fused: Float32Array, keys: Uint32Array, tokens: number, k: number): void {
  const bits = new Uint32Array(fused.buffer, fused.byteOffset, fused.length);
  let n = 0;
  for (let i = 1; i < tokens; i++) {
    for (let j = 1; j < tokens; j++) {
      const b = bits[i * tokens + j]!;
      keys[n++] = (b & 0x80000000 ? ~b : b | 0x80000000) >>> 0;
    }
  }
  const threshold = selectRank(keys, k);
  n = 0;
  for (let i = 1; i < tokens; i++) {
    for (let j = 1; j < tokens; j++) if (keys[n++]! < threshold) fused[i * tokens + j] = 0;
  }
}

/** next ← (row / (rowsum + 1)) · (F + I), row-major over F. */
function rolloutStep(row: Float64Array, next: Float64Array, fused: Float32Array, tokens: number): void {
  next.fill(0);
  for (let i = 0; i < tokens; i++) {
    const at = i * tokens;
    let sum = 1;
    for (let j = 0; j < tokens; j++) sum += fused[at + j]!;
    const r = row[i]! / sum;
    next[i]! += r;
    if (r === 0) continue;
    for (let j = 0; j < tokens; j++) next[j]! += r * fused[at + j]!;
  }
}

/**
 * The explanation map on the CPU, fast: same methods, options and errors as `explainOnCpu` (reference.ts),
 * float64 sums instead of the kernels' float32 order (see cpuFast.test.ts for how close).
 */
export function explainOnCpuFast(tensors: ExplainTensors<Float32Array>, dims: ExplainDims, options: Required<ExplainOptions>): ExplainResult {
  validateExplainOptions(options, dims);
  const { tokens, layers } = dims;
  const spec = methodSpec(options.method);
  for (const name of spec.tensors) requireTensor(tensors, name, dims);
  const { fusion } = spec;
  let row = new Float64Array(tokens);
  let next = new Float64Array(tokens);
  if (spec.blocks === 'lastBlock') {
    if (fusion.kind !== 'heads') throw new Error(`explain: ${spec.id}: a last-block method fuses heads of one tensor`);
    fusedRow(row, requireTensor(tensors, fusion.x, dims), dims, layers - 1, 0, options.headFusion);
    return patchMap(Float32Array.from(row), dims);
  }
  row[0] = 1;
  if (spec.rollout) {
    if (fusion.kind !== 'heads') throw new Error(`explain: ${spec.id}: rollout fuses heads of one tensor`);
    const a = requireTensor(tensors, fusion.x, dims);
    const k = discardCount(tokens, options.discardRatio);
    const fused = k > 0 ? new Float32Array(tokens * tokens) : undefined;
    const keys = k > 0 ? new Uint32Array((tokens - 1) * (tokens - 1)) : undefined;
    const scratch = new Float64Array(tokens);
    for (let layer = layers - 1; layer >= options.startLayer; layer--) {
      if (fused && keys) {
        fuseInto(fused, a, dims, layer, options.headFusion);
        discard(fused, keys, tokens, k);
        rolloutStep(row, next, fused, tokens);
      } else {
        rolloutStepFused(row, next, scratch, a, dims, layer, options.headFusion);
      }
      [row, next] = [next, row];
    }
  } else {
    // Ā = mean_h((x ⊙ y)⁺): relevance (∇A, A), lrp (∇A, R^A).
    if (fusion.kind !== 'positiveProduct') throw new Error(`explain: ${spec.id}: the fast path propagates positive products only`);
    const x = requireTensor(tensors, fusion.x, dims);
    const y = requireTensor(tensors, fusion.y, dims);
    for (let layer = layers - 1; layer >= options.startLayer; layer--) {
      relevanceStep(row, next, x, y, dims, layer);
      [row, next] = [next, row];
    }
  }
  return patchMap(Float32Array.from(row), dims);
}
