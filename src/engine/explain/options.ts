// Explanation options: defaults and validation (what each method is and reads: methods.ts).
// Shared by the CPU reference and the GPU explainer so both refuse the same bad input.
import type { ExplainOptions } from '../types';
import { EXPLAIN_METHODS, HEAD_FUSIONS, defaultStartLayer } from './methods';

export type { ExplainTensorName, ExplainTensors } from './methods';

/** Model facts the explanation maths needs (from manifest.json). */
export interface ExplainDims {
  layers: number;
  heads: number;
  /** N = gridSize² + prefixTokens. */
  tokens: number;
  /** 1 (CLS) or 2 (CLS, DIST). */
  prefixTokens: number;
  /** G: the patch map is G×G. */
  gridSize: number;
}

/** Fills the defaults of `options`; `explainedClass` becomes `targetClass` when none was asked for. */
export function withExplainDefaults(
  options: ExplainOptions,
  dims: ExplainDims,
  explainedClass: number,
): Required<ExplainOptions> {
  const startLayer = options.startLayer ?? Math.min(defaultStartLayer(options.method), dims.layers - 1);
  const resolved: Required<ExplainOptions> = {
    method: options.method,
    targetClass: options.targetClass ?? explainedClass,
    startLayer,
    headFusion: options.headFusion ?? 'mean',
    discardRatio: options.discardRatio ?? 0,
  };
  validateExplainOptions(resolved, dims);
  return resolved;
}

/** Throws a RangeError naming the bad field. */
export function validateExplainOptions(options: Required<ExplainOptions>, dims: ExplainDims): void {
  validateExplainDims(dims);
  if (!EXPLAIN_METHODS.includes(options.method)) {
    throw new RangeError(`explain: unknown method "${String(options.method)}" (expected one of ${EXPLAIN_METHODS.join(', ')})`);
  }
  if (!HEAD_FUSIONS.includes(options.headFusion)) {
    throw new RangeError(`explain: unknown headFusion "${String(options.headFusion)}" (expected one of ${HEAD_FUSIONS.join(', ')})`);
  }
  if (!Number.isInteger(options.startLayer) || options.startLayer < 0 || options.startLayer >= dims.layers) {
    throw new RangeError(`explain: startLayer must be an integer in [0, ${dims.layers - 1}], got ${options.startLayer}`);
  }
  if (!Number.isFinite(options.discardRatio) || options.discardRatio < 0 || options.discardRatio >= 1) {
    throw new RangeError(`explain: discardRatio must be in [0, 1), got ${options.discardRatio}`);
  }
  if (!Number.isInteger(options.targetClass) || options.targetClass < 0) {
    throw new RangeError(`explain: targetClass must be a non-negative integer, got ${options.targetClass}`);
  }
}

/** Throws a RangeError when the dims disagree with each other (tokens = G² + prefix). */
export function validateExplainDims(dims: ExplainDims): void {
  const { layers, heads, tokens, prefixTokens, gridSize } = dims;
  for (const [name, value] of Object.entries({ layers, heads, tokens, gridSize })) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`explain: ${name} must be a positive integer, got ${value}`);
  }
  if (prefixTokens !== 1 && prefixTokens !== 2) {
    throw new RangeError(`explain: prefixTokens must be 1 or 2, got ${prefixTokens}`);
  }
  if (tokens !== gridSize * gridSize + prefixTokens) {
    throw new RangeError(`explain: tokens (${tokens}) must equal gridSize² + prefixTokens (${gridSize}² + ${prefixTokens})`);
  }
}

/** Elements in one `[L,1,H,N,N]` tensor. */
export function tensorLength(dims: ExplainDims): number {
  return dims.layers * dims.heads * dims.tokens * dims.tokens;
}

/** Number of fused-map entries a rollout discard zeroes: the CLS row and column are never candidates. */
export function discardCount(tokens: number, discardRatio: number): number {
  return Math.floor(discardRatio * (tokens - 1) * (tokens - 1));
}
