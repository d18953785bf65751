// The WASM path's explanation maths: the same definitions as the reference (reference.ts, the oracle), written
// for speed instead of for bit-exactness with the WGSL kernels.
// - relevance / lrp: head fusion and the row-vector step are one pass, e₀ · (I + Ā): only rows i with r_i ≠ 0
//   are read (the first block touches only the CLS row), Ā is never stored, sums are float64, no Math.fround.
// - rollout: the fused map must exist (the discard threshold is a rank over all of it); fusion keeps the
//   reference's float32 order so the same entries are discarded, then the row step is row-major, not per column.
// - attention: the CLS row of one block, fused.
// test/engine/explain/cpuFast.test.ts states and checks the tolerances against reference.ts.
import type { ExplainOptions, HeadFusion } from '../types';
import { discardCount, validateExplainOptions, type ExplainDims, type ExplainTensors } from './options';
import { methodSpec } from './methods';
import { patchMap, requireTensor, selectRank } from './reference';
import type { ExplainResult } from './result';

const f32 = Math.fround;

/** row ← row · (I + mean_h((x ⊙ y)⁺)) for block `layer`, in place over `next` (float64 accumulation). */
function relevanceStep(row: Float64Array, next: Float64Array, x: Float32Array, y: Float32Array, dims: ExplainDims, layer: number): void {
  const { heads, tokens } = dims;
  const size = tokens * tokens;
  next.set(row);
  const invHeads = 1 / heads;
  for (let h = 0; h < heads; h++) {
    const base = (layer * heads + h) * size;
    for (let i = 0; i < tokens; i++) {
      const r = row[i]!;
      if (r === 0) continue;
      const weight = r * invHeads;
      const at = base + i * tokens;
      for (let j = 0; j < tokens; j++) {
        const p = x[at + j]! * y[at + j]!;
        if (p > 0) next[j]! += weight * p;
      }
    }
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

/** row ← (row / (rowsum + 1)) · (F + I), row-major over F. */
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
  if (spec.blocks === 'lastBlock') {
    if (fusion.kind !== 'heads') throw new Error(`explain: ${spec.id}: a last-block method fuses heads of one tensor`);
    const fused = new Float32Array(tokens * tokens);
    fuseInto(fused, requireTensor(tensors, fusion.x, dims), dims, layers - 1, options.headFusion);
    return patchMap(fused.subarray(0, tokens), dims);
  }
  let row = new Float64Array(tokens);
  let next = new Float64Array(tokens);
  row[0] = 1;
  if (spec.rollout) {
    if (fusion.kind !== 'heads') throw new Error(`explain: ${spec.id}: rollout fuses heads of one tensor`);
    const a = requireTensor(tensors, fusion.x, dims);
    const fused = new Float32Array(tokens * tokens);
    const k = discardCount(tokens, options.discardRatio);
    const keys = k > 0 ? new Uint32Array((tokens - 1) * (tokens - 1)) : undefined;
    for (let layer = layers - 1; layer >= options.startLayer; layer--) {
      fuseInto(fused, a, dims, layer, options.headFusion);
      if (keys) discard(fused, keys, tokens, k);
      rolloutStep(row, next, fused, tokens);
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
