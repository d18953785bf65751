// The open-set score over intermediate blocks (docs/model-contract.md, `layer_statistics`; model/layers.py is the
// Python side and the fitting). One Gaussian per chosen row of the graphs' `layer_features` output (a block's CLS
// token or mean patch token), of the training photos of every class pooled; each row's squared Mahalanobis
// distance becomes a p-value by a normal fit of its log, and the rows combine by Fisher's method:
// S = −2·Σ_r log p_r. Class-agnostic on purpose: a class taught on the phone only adds photos to each pool.

import { cholesky, l2Normalize, mahalanobisViaCholesky, shrunkCovariance } from './domain';

/** One row's Gaussian: what head.json stores (scatter not divided, so photos can be added). */
export interface LayerRowStatistics {
  /** Row of layer_features: l = block l's CLS token, L + l = block l's mean patch token. */
  row: number;
  count: number;
  shrinkage: number;
  /** D values (of L2-normalised rows). */
  mean: Float64Array;
  /** D×D row-major Σ_i (x_i − μ)(x_i − μ)ᵀ. */
  scatter: Float64Array;
  /** Normal fit of log d² over the training photos. */
  logD2Mean: number;
  logD2Sd: number;
}

export interface LayerStatistics {
  layers: number;
  /** D: the width of each row. */
  width: number;
  rows: LayerRowStatistics[];
  /** S above this → not in domain. */
  threshold: number;
  /** `teach_margin` (≥ 1): a photo offered for teaching is refused above threshold × this (absent: × 1). */
  teachMargin?: number;
}

export const LAYER_SCORE = 'layer_fisher';

// Chebyshev fit of erfc (relative error < 1.2e-7), in log form so the far tail never underflows; the same
// coefficients as model/layers.py.
const ERFC_COEFFICIENTS = [-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398,
  1.48851587, -0.82215223, 0.17087277];

/** log erfc(x) for x ≥ 0. */
export function logErfc(x: number): number {
  const t = 1 / (1 + 0.5 * x);
  let poly = 0;
  for (let i = ERFC_COEFFICIENTS.length - 1; i >= 0; i--) poly = poly * t + ERFC_COEFFICIENTS[i]!;
  return Math.log(t) - x * x + poly;
}

/** log P(Z > z) for a standard normal Z. */
export function logNormalSf(z: number): number {
  const x = z / Math.SQRT2;
  const upper = Math.log(0.5) + logErfc(Math.abs(x));
  return x >= 0 ? upper : Math.log1p(-Math.exp(upper));
}

/** The chosen row of a flat [2L·D] layer_features vector, L2-normalised. */
function rowOf(layerFeatures: ArrayLike<number>, row: number, width: number): Float64Array {
  const slice = new Float64Array(width);
  for (let i = 0; i < width; i++) slice[i] = layerFeatures[row * width + i]!;
  return l2Normalize(slice);
}

export interface LayerScorer {
  threshold: number;
  teachMargin?: number;
  /** Fisher's S for one photo's layer_features [2L·D]. */
  score(layerFeatures: ArrayLike<number>): number;
}

/** Factors each row's shrunk covariance (Cholesky) on the first score, not when the head loads: five 192×192 factors
 * cost ~16 ms here (several times that on a phone), which the page's start-up should not pay. They exist: the
 * scatter is a sum of outer products and λ > 0 with a positive trace (parseLayerStatistics) adds a ridge. */
export function layerScorer(stats: LayerStatistics): LayerScorer {
  const { width } = stats;
  let factors: Float64Array[] | undefined;
  return {
    threshold: stats.threshold,
    ...(stats.teachMargin !== undefined ? { teachMargin: stats.teachMargin } : {}),
    score(layerFeatures) {
      factors ??= stats.rows.map((r) => cholesky(shrunkCovariance(r.scatter, width, r.count - 1, r.shrinkage), width));
      if (layerFeatures.length !== 2 * stats.layers * width) {
        throw new Error(`layer_features has ${layerFeatures.length} values, statistics expect ${2 * stats.layers}×${width}`);
      }
      let total = 0;
      stats.rows.forEach((r, k) => {
        const d2 = mahalanobisViaCholesky(rowOf(layerFeatures, r.row, width), r.mean, factors![k]!, width);
        const z = (Math.log(Math.max(d2, 1e-12)) - r.logD2Mean) / r.logD2Sd;
        total += -2 * logNormalSf(z);
      });
      return total;
    },
  };
}

/** The statistics with more photos pooled into every row (a taught class, a correction): exact mean and scatter
 * updates (Chan et al.'s pairwise combination), the p-value fits and the threshold kept. */
export function addLayerPhotos(stats: LayerStatistics, photos: ArrayLike<number>[]): LayerStatistics {
  if (photos.length === 0) return stats;
  const { width } = stats;
  const rows = stats.rows.map((r) => {
    const xs = photos.map((p) => rowOf(p, r.row, width));
    const m = xs.length;
    const mean = new Float64Array(width);
    for (const x of xs) for (let i = 0; i < width; i++) mean[i]! += x[i]! / m;
    const scatter = new Float64Array(r.scatter);
    for (const x of xs) {
      for (let i = 0; i < width; i++) {
        const di = x[i]! - mean[i]!;
        for (let j = 0; j < width; j++) scatter[i * width + j]! += di * (x[j]! - mean[j]!);
      }
    }
    const n = r.count + m;
    const delta = new Float64Array(width);
    for (let i = 0; i < width; i++) delta[i] = mean[i]! - r.mean[i]!;
    const between = (r.count * m) / n;
    for (let i = 0; i < width; i++) for (let j = 0; j < width; j++) scatter[i * width + j]! += between * delta[i]! * delta[j]!;
    const pooled = new Float64Array(width);
    for (let i = 0; i < width; i++) pooled[i] = r.mean[i]! + (m / n) * delta[i]!;
    return { ...r, count: n, mean: pooled, scatter };
  });
  return { ...stats, rows };
}

// ---- head.json encoding: float32 little-endian, base64; the scatter as its upper triangle ---------------

function decodeFloats(text: unknown, count: number, what: string): Float64Array {
  if (typeof text !== 'string') throw new Error(`${what} must be a base64 string`);
  let binary: string;
  try { binary = atob(text); } catch { throw new Error(`${what} is not base64`); }
  if (binary.length !== 4 * count) throw new Error(`${what} has ${Math.floor(binary.length / 4)} numbers, expected ${count}`);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  const view = new DataView(bytes.buffer);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const v = view.getFloat32(4 * i, true);
    if (!Number.isFinite(v)) throw new Error(`${what} has a non-finite number`);
    out[i] = v;
  }
  return out;
}

function encodeFloats(values: ArrayLike<number>): string {
  const bytes = new Uint8Array(4 * values.length);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(4 * i, values[i]!, true);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** head.json `layer_statistics` → statistics; throws an Error naming the first broken rule. */
export function parseLayerStatistics(json: unknown, layers: number, width: number): LayerStatistics {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('layer_statistics must be an object');
  const s = json as Record<string, unknown>;
  if (s.feature_norm !== 'l2' || s.score !== LAYER_SCORE) throw new Error(`layer_statistics needs feature_norm "l2" and score "${LAYER_SCORE}"`);
  if (s.layers !== layers) throw new Error(`layer_statistics.layers is ${String(s.layers)}, the model has ${layers}`);
  if (!isNumber(s.threshold)) throw new Error('layer_statistics.threshold must be a finite number');
  if (s.teach_margin !== undefined && !(isNumber(s.teach_margin) && s.teach_margin >= 1 && s.threshold > 0)) {
    throw new Error('layer_statistics.teach_margin must be a number ≥ 1, on a positive threshold');
  }
  if (!Array.isArray(s.rows) || s.rows.length === 0) throw new Error('layer_statistics.rows must be a non-empty list');
  const seen = new Set<number>();
  const rows = s.rows.map((entry: unknown, i): LayerRowStatistics => {
    const what = `layer_statistics.rows[${i}]`;
    if (typeof entry !== 'object' || entry === null) throw new Error(`${what} must be an object`);
    const e = entry as Record<string, unknown>;
    const row = e.row;
    if (!Number.isInteger(row) || (row as number) < 0 || (row as number) >= 2 * layers || seen.has(row as number)) {
      throw new Error(`${what}.row must be a distinct integer in [0, ${2 * layers})`);
    }
    seen.add(row as number);
    if (!Number.isInteger(e.count) || (e.count as number) < 2) throw new Error(`${what}.count must be an integer ≥ 2`);
    if (!isNumber(e.shrinkage) || e.shrinkage <= 0 || e.shrinkage > 1) throw new Error(`${what}.shrinkage must be in (0, 1]`);
    if (!isNumber(e.log_d2_mean) || !isNumber(e.log_d2_sd) || !(e.log_d2_sd > 0)) throw new Error(`${what}: log_d2_mean must be a number, log_d2_sd positive`);
    const upper = decodeFloats(e.scatter_upper, (width * (width + 1)) / 2, `${what}.scatter_upper`);
    const scatter = new Float64Array(width * width);
    let k = 0;
    for (let a = 0; a < width; a++) {
      for (let b = a; b < width; b++) {
        scatter[a * width + b] = upper[k]!;
        scatter[b * width + a] = upper[k]!;
        k++;
      }
    }
    let trace = 0;
    for (let a = 0; a < width; a++) trace += scatter[a * width + a]!;
    if (!(trace > 0)) throw new Error(`${what}.scatter_upper must have a positive trace`);
    return { row: row as number, count: e.count as number, shrinkage: e.shrinkage, mean: decodeFloats(e.mean, width, `${what}.mean`),
      scatter, logD2Mean: e.log_d2_mean, logD2Sd: e.log_d2_sd };
  });
  return { layers, width, rows, threshold: s.threshold, ...(s.teach_margin !== undefined ? { teachMargin: s.teach_margin as number } : {}) };
}

/** Statistics → head.json `layer_statistics` (float32, as the exporter writes). */
export function layerStatisticsJson(stats: LayerStatistics): Record<string, unknown> {
  const { width } = stats;
  return {
    feature_norm: 'l2', layers: stats.layers, score: LAYER_SCORE, threshold: stats.threshold,
    ...(stats.teachMargin !== undefined ? { teach_margin: stats.teachMargin } : {}),
    rows: stats.rows.map((r) => {
      const upper = new Float64Array((width * (width + 1)) / 2);
      let k = 0;
      for (let a = 0; a < width; a++) for (let b = a; b < width; b++) upper[k++] = r.scatter[a * width + b]!;
      return { row: r.row, count: r.count, shrinkage: r.shrinkage, mean: encodeFloats(r.mean), scatter_upper: encodeFloats(upper),
        log_d2_mean: r.logD2Mean, log_d2_sd: r.logD2Sd };
    }),
  };
}
