// Does a photo look like what the head was trained on, and how sure is the answer? Pure maths over the
// backbone's `features` and the head's `statistics` (docs/model-contract.md, "Knowing when it does not know").
// Everything here is derived from per-class means, counts and the pooled within-class scatter, so a class
// added on the phone (teach) keeps the open-set score consistent: add its statistics and rebuild.

/** Per-class statistics of the L2-normalised features (head.json `statistics`). */
export interface FeatureStatistics {
  /** C rows of F values, label order. */
  classMeans: Float64Array[];
  classCounts: number[];
  /** F×F row-major Σ_c Σ_i (x_i−μ_c)(x_i−μ_c)ᵀ, not divided (so classes can be added). */
  scatter: Float64Array;
  /** λ of Σ = (1−λ)·S/(n−C) + λ·(tr(S/(n−C))/F)·I. */
  shrinkage: number;
}

export const OPEN_SET_SCORES = ['mahalanobis', 'relative_mahalanobis'] as const;
export type OpenSetScoreName = (typeof OPEN_SET_SCORES)[number];

/** A head's rule for "is this a bean leaf at all": score above threshold → not in domain. */
export interface OpenSetRule {
  score: OpenSetScoreName;
  threshold: number;
  /** Per class (label order), the class's d² is divided by this before the minimum (head.json `open_set.class_scale`):
   * 1 + 1/k for a class taught from k photos, whose mean is itself uncertain (docs/model-contract.md). Absent = all 1. */
  classScale?: readonly number[];
  /** head.json `open_set.teach_margin` (≥ 1): a photo offered for teaching is refused above threshold × this. */
  teachMargin?: number;
}

/** The outcome rule's fallback when a head carries no `confidence`: the app's earlier rule (top probability
 * ≥ 0.6 and normalised entropy ≤ 0.7), kept so that old heads behave as before. */
export const DEFAULT_MIN_PROBABILITY = 0.6;
export const DEFAULT_MAX_NORMALIZED_ENTROPY = 0.7;

/** What the engine keeps per head: parsed fields plus the covariances' Cholesky factors, computed once per head. */
export interface DomainModel {
  /** Softmax temperature (1 = uncalibrated). */
  temperature: number;
  /** Calibrated top probability needed for "sure"; undefined = the default rule above. */
  minProbability?: number;
  /** Present when the head has statistics and an open-set rule. */
  openSet?: OpenSetScorer;
  /** Present when the head has `layer_statistics`: it decides for runs that return layer_features. */
  layers?: LayerScorer;
}

export interface OpenSetScorer {
  rule: OpenSetRule;
  score(features: ArrayLike<number>): number;
}

import type { DiagnosisOutcome, DomainCheck } from '../types';
import type { LayerScorer } from './layers';

// ---- vectors and matrices ---------------------------------------------------------------------------

/** x / ‖x‖₂ (a zero vector stays zero). */
export function l2Normalize(x: ArrayLike<number>): Float64Array {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i]! * x[i]!;
  const norm = Math.sqrt(sum);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = norm > 0 ? x[i]! / norm : 0;
  return out;
}

/** Shared shrunk covariance from the pooled scatter: (1−λ)·S/dof + λ·(tr(S/dof)/F)·I. */
export function shrunkCovariance(scatter: ArrayLike<number>, features: number, dof: number, shrinkage: number): Float64Array {
  if (!(dof > 0)) throw new Error(`covariance needs positive degrees of freedom (got ${dof})`);
  const cov = new Float64Array(features * features);
  let trace = 0;
  for (let i = 0; i < features; i++) trace += scatter[i * features + i]! / dof;
  const ridge = shrinkage * (trace / features);
  for (let i = 0; i < features * features; i++) cov[i] = (1 - shrinkage) * scatter[i]! / dof;
  for (let i = 0; i < features; i++) cov[i * features + i]! += ridge;
  return cov;
}

/** Lower-triangular L with A = L·Lᵀ; throws when A is not (numerically) positive definite. */
export function cholesky(a: ArrayLike<number>, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i * n + j]!;
      for (let k = 0; k < j; k++) sum -= l[i * n + k]! * l[j * n + k]!;
      if (i === j) {
        if (!(sum > 1e-12 * Math.max(1, Math.abs(a[i * n + i]!)))) throw new Error(`not positive definite (pivot ${i}: ${sum})`);
        l[i * n + i] = Math.sqrt(sum);
      } else {
        l[i * n + j] = sum / l[j * n + j]!;
      }
    }
  }
  return l;
}

/** A⁻¹ of a symmetric positive-definite A via its Cholesky factor (throws when A is not). The scorer does not need
 * it (mahalanobisViaCholesky); kept as the plain reference that form is tested against. */
export function precisionOf(covariance: ArrayLike<number>, n: number): Float64Array {
  const l = cholesky(covariance, n);
  // L⁻¹ by forward substitution, then A⁻¹ = L⁻ᵀ·L⁻¹.
  const inv = new Float64Array(n * n);
  for (let col = 0; col < n; col++) {
    for (let i = col; i < n; i++) {
      let sum = i === col ? 1 : 0;
      for (let k = col; k < i; k++) sum -= l[i * n + k]! * inv[k * n + col]!;
      inv[i * n + col] = sum / l[i * n + i]!;
    }
  }
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = 0;
      for (let k = i; k < n; k++) sum += inv[k * n + i]! * inv[k * n + j]!;
      out[i * n + j] = sum;
      out[j * n + i] = sum;
    }
  }
  return out;
}

/** (x−μ)ᵀ·P·(x−μ) for a row-major F×F precision P. */
export function mahalanobisSquared(x: ArrayLike<number>, mean: ArrayLike<number>, precision: ArrayLike<number>, n: number): number {
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = x[i]! - mean[i]!;
  let total = 0;
  for (let i = 0; i < n; i++) {
    let row = 0;
    const base = i * n;
    for (let j = 0; j < n; j++) row += precision[base + j]! * d[j]!;
    total += d[i]! * row;
  }
  return total;
}

/** (x−μ)ᵀ·A⁻¹·(x−μ) = ‖L⁻¹(x−μ)‖² for A = L·Lᵀ (lower-triangular, row-major L): one forward substitution, so a
 * head needs only the factor (n³/6 operations), not the inverse (n³ more, ~50 ms on the page at F = 192). */
export function mahalanobisViaCholesky(x: ArrayLike<number>, mean: ArrayLike<number>, l: ArrayLike<number>, n: number): number {
  const z = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    let sum = x[i]! - mean[i]!;
    const base = i * n;
    for (let k = 0; k < i; k++) sum -= l[base + k]! * z[k]!;
    const zi = sum / l[base + i]!;
    z[i] = zi;
    total += zi * zi;
  }
  return total;
}

// ---- statistics -------------------------------------------------------------------------------------

export function featureCount(stats: FeatureStatistics): number {
  return stats.classMeans[0]?.length ?? 0;
}

/** Statistics of one class from its raw features (L2-normalised here): mean, count, own scatter. */
export function classStatisticsOf(rawFeatures: ArrayLike<number>[]): { mean: Float64Array; count: number; scatter: Float64Array } {
  if (rawFeatures.length === 0) throw new Error('a class needs at least one photo');
  const rows = rawFeatures.map(l2Normalize);
  const f = rows[0]!.length;
  const mean = new Float64Array(f);
  for (const row of rows) for (let i = 0; i < f; i++) mean[i]! += row[i]! / rows.length;
  const scatter = new Float64Array(f * f);
  for (const row of rows) {
    for (let i = 0; i < f; i++) {
      const di = row[i]! - mean[i]!;
      for (let j = 0; j < f; j++) scatter[i * f + j]! += di * (row[j]! - mean[j]!);
    }
  }
  return { mean, count: rows.length, scatter };
}

/** The head's statistics with one more class appended (its scatter is added to the pooled scatter). */
export function addClassStatistics(stats: FeatureStatistics, added: { mean: ArrayLike<number>; count: number; scatter: ArrayLike<number> }): FeatureStatistics {
  const f = featureCount(stats);
  if (added.mean.length !== f || added.scatter.length !== f * f) throw new Error(`class statistics must have ${f} features`);
  if (!Number.isInteger(added.count) || added.count < 1) throw new Error('class count must be a positive integer');
  const scatter = new Float64Array(stats.scatter);
  for (let i = 0; i < scatter.length; i++) scatter[i]! += added.scatter[i]!;
  return {
    classMeans: [...stats.classMeans, Float64Array.from(added.mean)],
    classCounts: [...stats.classCounts, added.count],
    scatter,
    shrinkage: stats.shrinkage,
  };
}

/** head.json's `statistics` object for these statistics (numbers rounded to float32 precision). */
export function statisticsJson(stats: FeatureStatistics): Record<string, unknown> {
  const f = featureCount(stats);
  const round = (v: number) => Number(Math.fround(v).toPrecision(8));
  return {
    feature_norm: 'l2',
    class_means: stats.classMeans.map((m) => Array.from(m, round)),
    class_counts: [...stats.classCounts],
    scatter: Array.from({ length: f }, (_, i) => Array.from(stats.scatter.subarray(i * f, (i + 1) * f), round)),
    shrinkage: stats.shrinkage,
  };
}

/** The class-weighted overall mean and the shrunk "background" covariance of all classes together (total
 * scatter = within + between), for the relative Mahalanobis score. */
function backgroundOf(stats: FeatureStatistics): { mean: Float64Array; covariance: Float64Array } {
  const f = featureCount(stats);
  const n = stats.classCounts.reduce((a, b) => a + b, 0);
  const mean = new Float64Array(f);
  stats.classMeans.forEach((m, c) => { for (let i = 0; i < f; i++) mean[i]! += (stats.classCounts[c]! / n) * m[i]!; });
  const total = new Float64Array(stats.scatter);
  stats.classMeans.forEach((m, c) => {
    const count = stats.classCounts[c]!;
    for (let i = 0; i < f; i++) {
      const di = m[i]! - mean[i]!;
      for (let j = 0; j < f; j++) total[i * f + j]! += count * di * (m[j]! - mean[j]!);
    }
  });
  return { mean, covariance: shrunkCovariance(total, f, n - 1, stats.shrinkage) };
}

/** Builds the scorer once per head: the covariances are factored here (Cholesky), not per photo.
 * mahalanobis: min_c d²(x, μ_c; Σ)/s_c. relative_mahalanobis: min_c [d²(x, μ_c; Σ)/s_c] − d²(x, μ; Σ₀) (Ren et al. 2021),
 * Σ₀ the background covariance of all classes pooled, s_c the rule's classScale (1 when absent). Throws when a covariance is not positive definite. */
export function openSetScorer(stats: FeatureStatistics, rule: OpenSetRule): OpenSetScorer {
  const f = featureCount(stats);
  const n = stats.classCounts.reduce((a, b) => a + b, 0);
  const classes = stats.classMeans.length;
  const factor = cholesky(shrunkCovariance(stats.scatter, f, n - classes, stats.shrinkage), f);
  const background = rule.score === 'relative_mahalanobis' ? backgroundOf(stats) : null;
  const backgroundFactor = background ? cholesky(background.covariance, f) : null;
  return {
    rule,
    score(rawFeatures) {
      if (rawFeatures.length !== f) throw new Error(`features has ${rawFeatures.length} values, statistics ${f}`);
      const x = l2Normalize(rawFeatures);
      let best = Infinity;
      stats.classMeans.forEach((mean, c) => { best = Math.min(best, mahalanobisViaCholesky(x, mean, factor, f) / (rule.classScale?.[c] ?? 1)); });
      if (background && backgroundFactor) best -= mahalanobisViaCholesky(x, background.mean, backgroundFactor, f);
      return best;
    },
  };
}

// ---- calibration and the outcome rule ---------------------------------------------------------------

/** softmax(logits / T), numerically stable. */
export function calibratedSoftmax(logits: ArrayLike<number>, temperature: number): Float32Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]! / temperature);
  const out = new Float32Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    out[i] = Math.exp(logits[i]! / temperature - max);
    sum += out[i]!;
  }
  for (let i = 0; i < out.length; i++) out[i]! /= sum;
  return out;
}

/** Shannon entropy / log C: 0 = certain, 1 = uniform. */
export function normalizedEntropy(probabilities: ArrayLike<number>): number {
  if (probabilities.length < 2) return 0;
  let entropy = 0;
  for (let i = 0; i < probabilities.length; i++) {
    const p = probabilities[i]!;
    if (p > 0) entropy -= p * Math.log(p);
  }
  return entropy / Math.log(probabilities.length);
}

/** The one rule: out of domain → not-bean-leaf; else below the confidence bar or with photo-quality issues →
 * unsure; else sure. `minProbability` undefined = the default rule (probability and entropy). */
export function decideOutcome(input: { probabilities: ArrayLike<number>; inDomain: boolean; minProbability?: number; qualityIssues?: number }): DiagnosisOutcome {
  if (!input.inDomain) return 'not-bean-leaf';
  const p = input.probabilities;
  let top = 0;
  for (let i = 1; i < p.length; i++) if (p[i]! > p[top]!) top = i;
  const topProbability = p.length > 0 ? p[top]! : 0;
  const confident = input.minProbability !== undefined
    ? topProbability >= input.minProbability
    : topProbability >= DEFAULT_MIN_PROBABILITY && normalizedEntropy(p) <= DEFAULT_MAX_NORMALIZED_ENTROPY;
  if (!confident || (input.qualityIssues ?? 0) > 0) return 'unsure';
  return 'sure';
}

/** Everything the engine adds to one model run: calibrated probabilities, the domain check and the outcome. */
export function judgeDiagnosis(domain: DomainModel, logits: ArrayLike<number>, features: ArrayLike<number>, qualityIssues = 0, layerFeatures?: ArrayLike<number>): { probabilities: Float32Array; domain: DomainCheck; outcome: DiagnosisOutcome } {
  const probabilities = calibratedSoftmax(logits, domain.temperature);
  let verdict: DomainCheck = { checked: false };
  if (domain.layers && layerFeatures) {
    // The intermediate-block rule (model/ood_select.py chose it on a development set) replaces the CLS rule.
    const score = domain.layers.score(layerFeatures);
    const { threshold, teachMargin } = domain.layers;
    verdict = { checked: true, score, threshold, teachThreshold: threshold * (teachMargin ?? 1), inDomain: score <= threshold };
  } else if (domain.openSet) {
    const score = domain.openSet.score(features);
    const threshold = domain.openSet.rule.threshold;
    // NaN features (a broken run) must never pass as in-domain.
    verdict = { checked: true, score, threshold, teachThreshold: threshold * (domain.openSet.rule.teachMargin ?? 1), inDomain: score <= threshold };
  }
  const inDomain = !verdict.checked || verdict.inDomain;
  return { probabilities, domain: verdict, outcome: decideOutcome({ probabilities, inDomain, minProbability: domain.minProbability, qualityIssues }) };
}
