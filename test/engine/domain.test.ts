// src/engine/model/domain.ts against plain references: Gauss–Jordan inversion, covariances from the raw points,
// and the outcome rule's cases.
import { describe, expect, test } from 'vitest';
import {
  addClassStatistics, calibratedSoftmax, cholesky, classStatisticsOf, decideOutcome, judgeDiagnosis, l2Normalize,
  normalizedEntropy, openSetScorer, precisionOf, mahalanobisSquared, mahalanobisViaCholesky, shrunkCovariance, statisticsJson, type FeatureStatistics,
} from '../../src/engine/model/domain';
import { softmax } from '../../src/engine/model/logits';
import { fixtureFeatures } from './manifestFixtures';

/** Reference inverse: Gauss–Jordan with partial pivoting on plain arrays. */
function gaussJordanInverse(a: number[][]): number[][] {
  const n = a.length;
  const m = a.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r]![col]!) > Math.abs(m[pivot]![col]!)) pivot = r;
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    const p = m[col]![col]!;
    m[col] = m[col]!.map((v) => v / p);
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const factor = m[r]![col]!;
      m[r] = m[r]!.map((v, j) => v - factor * m[col]![j]!);
    }
  }
  return m.map((row) => row.slice(n));
}

const normalized = (rows: number[][]) => rows.map((r) => { const n = Math.hypot(...r); return r.map((v) => v / n); });
const meanOf = (rows: number[][]) => rows[0]!.map((_, f) => rows.reduce((s, r) => s + r[f]!, 0) / rows.length);

/** Reference covariance: the textbook pooled within-class covariance of the normalised points, then shrunk. */
function referenceCovariance(groups: number[][][], shrinkage: number): number[][] {
  const f = groups[0]![0]!.length;
  const n = groups.reduce((s, g) => s + g.length, 0);
  const pooled = Array.from({ length: f }, (_, i) => Array.from({ length: f }, (_, j) => groups.reduce((s, g) => {
    const rows = normalized(g);
    const m = meanOf(rows);
    return s + rows.reduce((t, r) => t + (r[i]! - m[i]!) * (r[j]! - m[j]!), 0);
  }, 0) / (n - groups.length)));
  const avgVar = pooled.reduce((s, row, i) => s + row[i]!, 0) / f;
  return pooled.map((row, i) => row.map((v, j) => (1 - shrinkage) * v + (i === j ? shrinkage * avgVar : 0)));
}

function statisticsOf(groups: number[][][], shrinkage = 0.1): FeatureStatistics {
  const [first, ...rest] = groups.map((g) => classStatisticsOf(g));
  let stats: FeatureStatistics = { classMeans: [first!.mean], classCounts: [first!.count], scatter: first!.scatter, shrinkage };
  for (const s of rest) stats = addClassStatistics(stats, s);
  return stats;
}

const quad = (d: number[], p: number[][]) => d.reduce((s, di, i) => s + di * p[i]!.reduce((t, pij, j) => t + pij * d[j]!, 0), 0);

describe('linear algebra', () => {
  test('l2Normalize gives unit length and leaves a zero vector zero', () => {
    expect(Math.hypot(...l2Normalize([3, 4, 12]))).toBeCloseTo(1, 12);
    expect(Array.from(l2Normalize([0, 0]))).toEqual([0, 0]);
  });
  test('the precision equals a Gauss–Jordan inverse of the shrunk covariance, which equals the textbook one', () => {
    const groups = fixtureFeatures(3, 8, 12);
    const stats = statisticsOf(groups);
    const cov = shrunkCovariance(stats.scatter, 8, 36 - 3, 0.1);
    const reference = referenceCovariance(groups, 0.1);
    for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) expect(cov[i * 8 + j]).toBeCloseTo(reference[i]![j]!, 12);
    const precision = precisionOf(cov, 8);
    const inverse = gaussJordanInverse(reference);
    const scale = Math.max(...inverse.flat().map(Math.abs));
    for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) expect(Math.abs(precision[i * 8 + j]! - inverse[i]![j]!) / scale).toBeLessThan(1e-10);
  });
  test('cholesky refuses a matrix that is not positive definite', () => {
    expect(() => cholesky([1, 2, 2, 1], 2)).toThrow(/not positive definite/);
    expect(() => cholesky([0, 0, 0, 0], 2)).toThrow(/not positive definite/);
    const l = cholesky([4, 2, 2, 3], 2);
    expect(Array.from(l)).toEqual([2, 0, 1, Math.sqrt(2)]);
  });
  test('the distance through the Cholesky factor equals (x−μ)ᵀ·P·(x−μ) with the inverted precision', () => {
    const groups = fixtureFeatures(3, 8, 12);
    const stats = statisticsOf(groups);
    const cov = shrunkCovariance(stats.scatter, 8, 36 - 3, 0.1);
    const factor = cholesky(cov, 8);
    const precision = precisionOf(cov, 8);
    for (const x of groups.flat().slice(0, 6)) {
      const reference = mahalanobisSquared(x, stats.classMeans[0]!, precision, 8);
      expect(reference).toBeGreaterThan(0);
      expect(Math.abs(mahalanobisViaCholesky(x, stats.classMeans[0]!, factor, 8) - reference) / reference).toBeLessThan(1e-10);
    }
  });
});

describe('statistics', () => {
  test('adding classes one by one equals the statistics of all classes at once', () => {
    const groups = fixtureFeatures(4, 6, 9);
    const stats = statisticsOf(groups, 0.2);
    expect(stats.classCounts).toEqual([9, 9, 9, 9]);
    const means = groups.map((g) => meanOf(normalized(g)));
    stats.classMeans.forEach((m, c) => m.forEach((v, f) => expect(v).toBeCloseTo(means[c]![f]!, 12)));
    const cov = shrunkCovariance(stats.scatter, 6, 36 - 4, 0.2);
    const reference = referenceCovariance(groups, 0.2);
    for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) expect(cov[i * 6 + j]).toBeCloseTo(reference[i]![j]!, 12);
  });
  test('addClassStatistics refuses a class of another feature size and does not modify its input', () => {
    const stats = statisticsOf(fixtureFeatures(2, 4, 5));
    const before = Array.from(stats.scatter);
    expect(() => addClassStatistics(stats, classStatisticsOf([[1, 2, 3]]))).toThrow(/4 features/);
    addClassStatistics(stats, classStatisticsOf([[1, 2, 3, 4], [2, 1, 3, 4]]));
    expect(Array.from(stats.scatter)).toEqual(before);
  });
  test('statisticsJson writes the contract shape (F rows of F) and round-trips within float32 precision', () => {
    const stats = statisticsOf(fixtureFeatures(3, 5, 7));
    const json = statisticsJson(stats) as { scatter: number[][]; class_means: number[][]; class_counts: number[] };
    expect(json.scatter).toHaveLength(5);
    expect(json.scatter.every((r) => r.length === 5)).toBe(true);
    expect(json.class_counts).toEqual([7, 7, 7]);
    expect(json.scatter[1]![2]).toBeCloseTo(stats.scatter[1 * 5 + 2]!, 7);
  });
});

describe('open-set scores', () => {
  const groups = fixtureFeatures(3, 8, 12);
  const stats = statisticsOf(groups, 0.1);
  const precision = gaussJordanInverse(referenceCovariance(groups, 0.1));
  const means = groups.map((g) => meanOf(normalized(g)));
  const probe = [0.3, 2.5, 1.1, 0.9, 1.4, 0.2, 1, 1.2];

  test('mahalanobis = min over classes of the squared distance (reference inverse)', () => {
    const x = normalized([probe])[0]!;
    const reference = Math.min(...means.map((m) => quad(x.map((v, i) => v - m[i]!), precision)));
    expect(openSetScorer(stats, { score: 'mahalanobis', threshold: 0 }).score(probe)).toBeCloseTo(reference, 8);
  });
  test('relative mahalanobis subtracts the distance under the background (all classes pooled) covariance', () => {
    const all = groups.flat();
    const rows = normalized(all);
    const mu = meanOf(rows);
    const f = 8, n = rows.length;
    const total = Array.from({ length: f }, (_, i) => Array.from({ length: f }, (_, j) => rows.reduce((s, r) => s + (r[i]! - mu[i]!) * (r[j]! - mu[j]!), 0) / (n - 1)));
    const avg = total.reduce((s, r, i) => s + r[i]!, 0) / f;
    const background = gaussJordanInverse(total.map((r, i) => r.map((v, j) => 0.9 * v + (i === j ? 0.1 * avg : 0))));
    const x = normalized([probe])[0]!;
    const reference = Math.min(...means.map((m) => quad(x.map((v, i) => v - m[i]!), precision))) - quad(x.map((v, i) => v - mu[i]!), background);
    expect(openSetScorer(stats, { score: 'relative_mahalanobis', threshold: 0 }).score(probe)).toBeCloseTo(reference, 8);
  });
  test('the score does not depend on the feature scale (features are L2-normalised first)', () => {
    const scorer = openSetScorer(stats, { score: 'mahalanobis', threshold: 0 });
    expect(scorer.score(probe.map((v) => v * 7))).toBeCloseTo(scorer.score(probe), 8);
  });
  test('training points score lower than a point unlike any class', () => {
    const scorer = openSetScorer(stats, { score: 'mahalanobis', threshold: 0 });
    const inside = Math.max(...groups.flat().map((r) => scorer.score(r)));
    expect(scorer.score([-1, -1, 4, -2, 0, 3, -3, 1])).toBeGreaterThan(inside);
  });
  test('a feature vector of the wrong size is an error, not a silent score', () => {
    expect(() => openSetScorer(stats, { score: 'mahalanobis', threshold: 0 }).score([1, 2])).toThrow(/8/);
  });
});

describe('calibration and outcome', () => {
  test('T = 1 is the plain softmax; a larger T flattens; huge logits stay finite', () => {
    const logits = [2, 0.5, -1];
    expect(Array.from(calibratedSoftmax(logits, 1))).toEqual(Array.from(softmax(logits)));
    const hot = calibratedSoftmax(logits, 2);
    expect(hot[0]!).toBeLessThan(softmax(logits)[0]!);
    expect(hot[0]! / hot[1]!).toBeCloseTo(Math.exp((2 - 0.5) / 2), 5);
    expect(Array.from(calibratedSoftmax([1e4, 0, 0], 0.5)).every(Number.isFinite)).toBe(true);
  });
  test('normalised entropy: 1 for uniform, 0 for one-hot', () => {
    expect(normalizedEntropy([1 / 3, 1 / 3, 1 / 3])).toBeCloseTo(1, 10);
    expect(normalizedEntropy([0, 1])).toBe(0);
  });
  test('the outcome rule', () => {
    expect(decideOutcome({ probabilities: [0.05, 0.9, 0.05], inDomain: true })).toBe('sure');
    expect(decideOutcome({ probabilities: [0.05, 0.9, 0.05], inDomain: false })).toBe('not-bean-leaf');
    expect(decideOutcome({ probabilities: [0.5, 0.45, 0.05], inDomain: true })).toBe('unsure');
    // Default rule: 0.62 passes the probability bar but the entropy is too high.
    expect(decideOutcome({ probabilities: [0.62, 0.19, 0.19], inDomain: true })).toBe('unsure');
    expect(decideOutcome({ probabilities: [0.62, 0.19, 0.19], inDomain: true, minProbability: 0.6 })).toBe('sure');
    expect(decideOutcome({ probabilities: [0.05, 0.9, 0.05], inDomain: true, minProbability: 0.95 })).toBe('unsure');
    expect(decideOutcome({ probabilities: [0.05, 0.9, 0.05], inDomain: true, qualityIssues: 1 })).toBe('unsure');
  });
  test('judgeDiagnosis: no statistics → unchecked; with a scorer → score, threshold and the refusal', () => {
    const groups = fixtureFeatures(3, 8, 12);
    const scorer = openSetScorer(statisticsOf(groups), { score: 'mahalanobis', threshold: 30 });
    const logits = [0.1, 4, 0.2];
    expect(judgeDiagnosis({ temperature: 1 }, logits, groups[1]![0]!).domain).toEqual({ checked: false });
    const inside = judgeDiagnosis({ temperature: 2, minProbability: 0.5, openSet: scorer }, logits, groups[1]![0]!);
    expect(inside.domain).toMatchObject({ checked: true, threshold: 30, teachThreshold: 30, inDomain: true });
    const margined = openSetScorer(statisticsOf(groups), { score: 'mahalanobis', threshold: 30, teachMargin: 2.5 });
    expect(judgeDiagnosis({ temperature: 2, openSet: margined }, logits, groups[1]![0]!).domain).toMatchObject({ threshold: 30, teachThreshold: 75 });
    expect(inside.outcome).toBe('sure');
    expect(inside.probabilities[1]).toBeCloseTo(calibratedSoftmax(logits, 2)[1]!, 7);
    const outside = judgeDiagnosis({ temperature: 2, openSet: scorer }, logits, [-1, -1, 4, -2, 0, 3, -3, 1]);
    expect(outside.domain).toMatchObject({ checked: true, inDomain: false });
    expect(outside.outcome).toBe('not-bean-leaf');
    const broken = judgeDiagnosis({ temperature: 1, openSet: scorer }, logits, new Array(8).fill(Number.NaN));
    expect(broken.outcome).toBe('not-bean-leaf');
  });
});
