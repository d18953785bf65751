// The head-learning maths (src/engine/model/teach.ts) against plain references: statistics updates by their
// definitions (domain.ts's own statistics are tested in domain.test.ts), LDA rows with an explicit 3×3 inverse, and softmax regression by its optimality condition.
import { describe, expect, test } from 'vitest';
import { cholesky, l2Normalize as l2Normalise } from '../../src/engine/model/domain';
import {
  applyHead, choleskySolve, ldaHead, sampleClass, seededNormal, sharedCovariance, softmaxRegression, withClass, withExample,
  type FeatureStatistics,
} from '../../src/engine/model/teach';

const normal = seededNormal(7);

function cloud(centre: number[], count: number, spread: number): Float64Array[] {
  return Array.from({ length: count }, () => l2Normalise(centre.map((c) => c + spread * normal())));
}

/** Definition: Σ_i (x_i − μ)(x_i − μ)ᵀ with μ the plain mean. */
function naiveScatter(samples: Float64Array[]): { mean: number[]; scatter: number[] } {
  const F = samples[0]!.length;
  const mean = Array.from({ length: F }, (_, f) => samples.reduce((s, x) => s + x[f]!, 0) / samples.length);
  const scatter = new Array<number>(F * F).fill(0);
  for (const x of samples) for (let i = 0; i < F; i++) for (let j = 0; j < F; j++) scatter[i * F + j]! += (x[i]! - mean[i]!) * (x[j]! - mean[j]!);
  return { mean, scatter };
}

function statsOf(classes: Float64Array[][], shrinkage = 0.1): FeatureStatistics {
  const F = classes[0]![0]!.length;
  // The first class by definition, the others through withClass (what teaching does).
  const first = naiveScatter(classes[0]!);
  let stats: FeatureStatistics = { classMeans: [Float64Array.from(first.mean)], classCounts: [classes[0]!.length], scatter: Float64Array.from(first.scatter), shrinkage };
  for (const samples of classes.slice(1)) stats = withClass(stats, samples);
  expect(featureCountOf(stats)).toBe(F);
  return stats;
}

function featureCountOf(stats: FeatureStatistics): number {
  return stats.classMeans[0]!.length;
}

function closeArrays(a: ArrayLike<number>, b: ArrayLike<number>, tol: number): void {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  expect(worst).toBeLessThanOrEqual(tol);
}

function inverse3(m: number[]): number[] {
  const [a, b, c, d, e, f, g, h, i] = m as [number, number, number, number, number, number, number, number, number];
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  return [e * i - f * h, c * h - b * i, b * f - c * e, f * g - d * i, a * i - c * g, c * d - a * f, d * h - e * g, b * g - a * h, a * e - b * d].map((v) => v / det);
}

describe('feature statistics', () => {
  const a = cloud([1, 0, 0.2], 9, 0.3);
  const b = cloud([0, 1, 0.1], 6, 0.2);

  test('adding a class adds its own scatter to the pooled one', () => {
    const stats = statsOf([a, b]);
    const ra = naiveScatter(a);
    const rb = naiveScatter(b);
    closeArrays(stats.scatter, ra.scatter.map((v, i) => v + rb.scatter[i]!), 1e-12);
    expect(stats.classCounts).toEqual([9, 6]);
    closeArrays(stats.classMeans[1]!, rb.mean, 1e-12);
  });

  test('adding one example equals recomputing the class with it (Welford), other classes untouched', () => {
    const extra = l2Normalise([0.3, 0.9, -0.2]);
    const updated = withExample(statsOf([a, b]), 1, extra);
    const recomputed = statsOf([a, [...b, extra]]);
    closeArrays(updated.scatter, recomputed.scatter, 1e-12);
    closeArrays(updated.classMeans[1]!, recomputed.classMeans[1]!, 1e-12);
    closeArrays(updated.classMeans[0]!, recomputed.classMeans[0]!, 0);
    expect(updated.classCounts).toEqual([9, 7]);
  });

  test('the input statistics are never changed in place', () => {
    const stats = statsOf([a, b]);
    const before = Float64Array.from(stats.scatter);
    withExample(stats, 0, l2Normalise([1, 1, 1]));
    withClass(stats, [l2Normalise([0, 0, 1])]);
    closeArrays(stats.scatter, before, 0);
    expect(stats.classCounts).toEqual([9, 6]);
  });

  test('wrong sizes and classes are refused', () => {
    expect(() => withExample(statsOf([a, b]), 2, a[0]!)).toThrow(/class 2/);
    expect(() => withClass(statsOf([a, b]), [[1, 2]])).toThrow(/features/);
    expect(() => withClass(statsOf([a, b]), [])).toThrow(/at least one/);
  });
});

describe('LDA rows', () => {
  const classes = [cloud([1, 0, 0.2], 30, 0.3), cloud([0, 1, 0.1], 20, 0.3), cloud([0.2, 0.1, 1], 5, 0.3)];

  test('shared covariance: (1−λ)·S/(n−C) + λ·(trace/F)·I', () => {
    const stats = statsOf(classes, 0.25);
    const sigma = sharedCovariance(stats);
    const S = Array.from(stats.scatter, (v) => v / (55 - 3));
    const trace = S[0]! + S[4]! + S[8]!;
    closeArrays(sigma, S.map((v, i) => 0.75 * v + (i % 4 === 0 ? 0.25 * trace / 3 : 0)), 1e-12);
  });

  test('Cholesky solve against A·x = b', () => {
    const sigma = sharedCovariance(statsOf(classes));
    const x = choleskySolve(cholesky(sigma, 3), 3, [0.3, -1, 2]);
    const back = [0, 1, 2].map((i) => sigma[i * 3]! * x[0]! + sigma[i * 3 + 1]! * x[1]! + sigma[i * 3 + 2]! * x[2]!);
    closeArrays(back, [0.3, -1, 2], 1e-10);
  });

  test('w = Σ⁻¹μ and b = −½μᵀΣ⁻¹μ + log prior, against an explicit inverse', () => {
    const stats = statsOf(classes);
    const inv = inverse3(Array.from(sharedCovariance(stats)));
    for (const prior of ['uniform', 'counts'] as const) {
      const head = ldaHead(stats, { prior, inputScale: 2 });
      stats.classMeans.forEach((mu, c) => {
        const w = [0, 1, 2].map((i) => inv[i * 3]! * mu[0]! + inv[i * 3 + 1]! * mu[1]! + inv[i * 3 + 2]! * mu[2]!);
        closeArrays(head.weight.subarray(c * 3, c * 3 + 3), w.map((v) => v / 2), 1e-5);
        const logPrior = prior === 'counts' ? Math.log(stats.classCounts[c]! / 55) : Math.log(1 / 3);
        expect(head.bias[c]).toBeCloseTo(-0.5 * (w[0]! * mu[0]! + w[1]! * mu[1]! + w[2]! * mu[2]!) + logPrior, 4);
      });
    }
  });

  test('classifies held-out samples of well-separated classes, including a class taught from 5', () => {
    const head = ldaHead(statsOf(classes));
    const test = [cloud([1, 0, 0.2], 50, 0.3), cloud([0, 1, 0.1], 50, 0.3), cloud([0.2, 0.1, 1], 50, 0.3)];
    const right = test.map((xs, c) => xs.filter((x) => { const l = applyHead(head, x); return l.indexOf(Math.max(...l)) === c; }).length);
    for (const r of right) expect(r).toBeGreaterThanOrEqual(42);
  });
});

describe('softmax regression', () => {
  test('reaches its optimum: the penalised gradient vanishes', () => {
    const xs = [...cloud([1, 0, 0.2], 20, 0.5), ...cloud([0, 1, 0.1], 20, 0.5)];
    const ys = [...Array(20).fill(0), ...Array(20).fill(1)] as number[];
    const l2 = 0.05;
    const head = softmaxRegression(xs, ys, 2, { l2, iterations: 3000, balanced: false });
    const grad = new Float64Array(2 * 4);
    xs.forEach((x, i) => {
      const l = applyHead(head, x);
      const m = Math.max(...l);
      const e = Array.from(l, (v) => Math.exp(v - m));
      const z = e[0]! + e[1]!;
      for (let c = 0; c < 2; c++) {
        const g = (e[c]! / z - (ys[i] === c ? 1 : 0)) / xs.length;
        for (let f = 0; f < 3; f++) grad[c * 4 + f]! += g * x[f]!;
        grad[c * 4 + 3]! += g;
      }
    });
    for (let c = 0; c < 2; c++) for (let f = 0; f < 3; f++) grad[c * 4 + f]! += l2 * head.weight[c * 3 + f]!;
    expect(Math.max(...Array.from(grad, Math.abs))).toBeLessThan(1e-4);
  });

  test('balanced weights keep a 5-sample class from being swamped', () => {
    const xs = [...cloud([1, 0, 0], 200, 0.6), ...cloud([0, 0.3, 1], 5, 0.3)];
    const ys = [...Array(200).fill(0), ...Array(5).fill(1)] as number[];
    const fresh = cloud([0, 0.3, 1], 200, 0.3);
    const recall = (balanced: boolean) => {
      const head = softmaxRegression(xs, ys, 2, { iterations: 500, balanced });
      return fresh.filter((x) => { const l = applyHead(head, x); return l[1]! > l[0]!; }).length / fresh.length;
    };
    const balanced = recall(true);
    expect(balanced).toBeGreaterThan(0.8);
    expect(balanced).toBeGreaterThan(recall(false) + 0.1);
  });

  test('samples drawn from a class Gaussian have its mean direction', () => {
    const stats = statsOf([cloud([1, 0, 0.2], 30, 0.2), cloud([0, 1, 0.1], 30, 0.2)]);
    const samples = sampleClass(stats, 1, 400, seededNormal(3));
    const mean = [0, 1, 2].map((f) => samples.reduce((s, x) => s + x[f]!, 0) / samples.length);
    const mu = stats.classMeans[1]!;
    const cos = (mean[0]! * mu[0]! + mean[1]! * mu[1]! + mean[2]! * mu[2]!) / (Math.hypot(...mean) * Math.hypot(...mu));
    expect(cos).toBeGreaterThan(0.99);
  });
});
