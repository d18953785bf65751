// The teaching rule (src/engine/model/teach.ts TeachRule) and how it is chosen without the val photos
// (bench/lib/teachSelect.ts): its head against plain LDA by definition, the temperature fit, the folds, the
// calibration error, Ledoit–Wolf, and that the app's TEACH_RULE is the rule the eval report selected.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { l2Normalize, openSetScorer, precisionOf, shrunkCovariance } from '../../src/engine/model/domain';
import { fitTemperature, ldaHead, openSetThresholdScale, seededNormal, seededUniform, sharedCovariance, TEACH_RULE, teachRuleHead, withClass, type FeatureStatistics } from '../../src/engine/model/teach';
import { expectedCalibrationError, selectTeachRule, stratifiedFolds } from '../../bench/lib/teachSelect';
import { ledoitWolfShrinkage } from '../../bench/lib/teachHeldOut';
import { evaluateHeldOut, statisticsOf, type Sample } from '../../bench/lib/teachEval';

const normal = seededNormal(11);

function cloud(centre: number[], count: number, spread: number): number[][] {
  return Array.from({ length: count }, () => centre.map((c) => c + spread * normal()));
}

/** Three classes of `count` photos each, for the selection tests (the draws in the same order as before). */
function threeClassTrain(count: number, spread: number): Sample[] {
  return [[3, 0, 0.5, 0], [0, 3, 0, 0.5], [1.2, 1.2, 2, 0]].flatMap((centre, label) => cloud(centre, count, spread).map((features) => ({ features, label })));
}

function statsOf(classes: number[][][], shrinkage = 0.05): FeatureStatistics {
  return statisticsOf(classes.flatMap((c, label) => c.map((features) => ({ features, label }))), classes.map((_, i) => i), shrinkage);
}

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number): void {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  expect(worst).toBeLessThanOrEqual(tol);
}

const known = [cloud([3, 0, 0.5, 0], 40, 0.6), cloud([0, 3, 0, 0.5], 50, 0.6)];
const taught = cloud([0.4, 0.4, 3, 0], 6, 0.6);

describe('teachRuleHead', () => {
  const base = statsOf(known);

  test('α = 0, γ = 0 is plain LDA with equal priors on the exactly extended statistics', () => {
    const head = teachRuleHead(base, taught, { priorWeight: 0, scatterWeight: 0, temperature: 1 });
    const plain = ldaHead(withClass(base, taught), { prior: 'uniform' });
    close(head.weight, plain.weight, 1e-5);
    close(head.bias, plain.bias, 1e-5);
  });

  test('α = 1 adds log(n_c/n) − log(1/C) to each bias, from the real photo counts', () => {
    const equal = teachRuleHead(base, taught, { priorWeight: 0, scatterWeight: 0, temperature: 1 });
    const counts = teachRuleHead(base, taught, { priorWeight: 1, scatterWeight: 0, temperature: 1 });
    const n = 40 + 50 + 6;
    close(counts.weight, equal.weight, 0);
    close(Array.from(counts.bias, (b, c) => b - equal.bias[c]!), [40, 50, 6].map((m) => Math.log(m / n) - Math.log(1 / 3)), 1e-5);
  });

  test('γ weighs the taught class\'s own scatter by ω = (n̄/k)^γ; counts (and so n − C) stay the real photos', () => {
    const gamma = 0.5;
    const { stats } = teachRuleHead(base, taught, { priorWeight: 0, scatterWeight: gamma, temperature: 1 }, true);
    const omega = (45 / 6) ** gamma;
    const plain = withClass(base, taught);
    const own = plain.scatter.map((v, i) => v - base.scatter[i]!);
    close(stats.scatter, base.scatter.map((v, i) => v + omega * own[i]!), 1e-12);
    expect(stats.classCounts).toEqual([40, 50, 6]);
    close(stats.classMeans[2]!, plain.classMeans[2]!, 0);
    // A larger ω widens Σ along the taught photos' spread: the taught photos' own distances shrink.
    const d = (st: FeatureStatistics) => openSetScorer(st, { score: 'mahalanobis', threshold: 1 });
    const wider = d(stats), exact = d(plain);
    const ownTotal = (sc: typeof wider) => taught.reduce((a, x) => a + sc.score(x), 0);
    expect(ownTotal(wider)).toBeLessThan(ownTotal(exact));
    expect(shrunkCovariance(stats.scatter, 4, 93, base.shrinkage)[0]).toBeGreaterThan(0);
  });

  test('no taught photos: the base head, untouched statistics', () => {
    const { head, stats } = teachRuleHead(base, [], { priorWeight: 0.5, scatterWeight: 1, temperature: 1 }, true);
    expect(stats).toBe(base);
    expect(head.bias.length).toBe(2);
  });
});

describe('openSetThresholdScale', () => {
  const base = statsOf(known);
  const { stats: taughtStats } = teachRuleHead(base, taught, { priorWeight: 0, scatterWeight: 1, temperature: 1 }, true);

  test('equals tr(Σ_after⁻¹·Σ_before) / F computed with the explicit inverse', () => {
    const F = 4;
    const p = precisionOf(sharedCovariance(taughtStats), F);
    const s = sharedCovariance(base);
    let trace = 0;
    for (let i = 0; i < F; i++) for (let j = 0; j < F; j++) trace += p[i * F + j]! * s[j * F + i]!;
    expect(openSetThresholdScale(base, taughtStats)).toBeCloseTo(trace / F, 10);
    expect(openSetThresholdScale(base, base)).toBeCloseTo(1, 10);
  });

  test('a covariance c times wider scales every d² and the threshold by 1/c: every decision stays the same', () => {
    const wider: FeatureStatistics = { ...base, scatter: base.scatter.map((v) => 2.5 * v) };
    const r = openSetThresholdScale(base, wider);
    expect(r).toBeCloseTo(1 / 2.5, 10);
    const before = openSetScorer(base, { score: 'mahalanobis', threshold: 9 });
    const after = openSetScorer(wider, { score: 'mahalanobis', threshold: 9 * r });
    const probes = [...cloud([3, 0, 0.5, 0], 30, 1.5), ...cloud([0, 0, 0, 3], 30, 1.5)];
    for (const x of probes) expect(after.score(x) <= 9 * r).toBe(before.score(x) <= 9);
  });

  test('after teaching with a weighted scatter, the scaled threshold keeps the known classes\' refusal rate; the unscaled one lets more through', () => {
    const r = openSetThresholdScale(base, taughtStats);
    expect(r).toBeLessThan(1); // the weighted scatter widened Σ
    const fresh = [...cloud([3, 0, 0.5, 0], 1500, 0.6), ...cloud([0, 3, 0, 0.5], 1500, 0.6)];
    const before = openSetScorer(base, { score: 'mahalanobis', threshold: 0 });
    const scores = fresh.map((x) => before.score(x)).sort((a, b) => a - b);
    const threshold = scores[Math.floor(0.95 * scores.length)]!; // 5 % of the known classes' photos refused
    const after = openSetScorer(taughtStats, { score: 'mahalanobis', threshold: 0 });
    // Only the known classes' photos nearest a known class: the taught class's own region is meant to be accepted.
    const refused = (limit: number) => fresh.filter((x) => after.score(x) > limit).length / fresh.length;
    expect(refused(threshold * r)).toBeGreaterThan(0.03);
    expect(refused(threshold * r)).toBeLessThan(0.08);
    expect(refused(threshold)).toBeLessThan(refused(threshold * r));
    // Points far from every class: refused at least as often with the scaled threshold.
    const far = cloud([-2, -2, 0, 3], 500, 0.8);
    expect(far.filter((x) => after.score(x) > threshold * r).length).toBeGreaterThanOrEqual(far.filter((x) => after.score(x) > threshold).length);
  });
});

describe('fitTemperature', () => {
  test('recovers the temperature that generated the labels', () => {
    const uniform = seededUniform(5);
    const logits: number[][] = [];
    const labels: number[] = [];
    const T0 = 2.5;
    for (let i = 0; i < 4000; i++) {
      const z = [3 * normal(), 3 * normal(), 3 * normal()];
      const p = z.map((v) => Math.exp(v / T0));
      const s = p.reduce((a, b) => a + b, 0);
      let u = uniform() * s, y = 0;
      while (y < 2 && u > p[y]!) { u -= p[y]!; y++; }
      logits.push(z);
      labels.push(y);
    }
    expect(fitTemperature(logits, labels)).toBeGreaterThan(T0 * 0.9);
    expect(fitTemperature(logits, labels)).toBeLessThan(T0 * 1.1);
  });
});

describe('expectedCalibrationError', () => {
  test('by hand: two photos in the 0.9 bin, one right → |1 − 1.8| / 2', () => {
    const z = Math.log(9); // softmax([log 9, 0]) = [0.9, 0.1]
    expect(expectedCalibrationError([Float64Array.from([z, 0]), Float64Array.from([z, 0])], [0, 1], 1)).toBeCloseTo(0.4, 6);
  });
  test('an over-confident head (p ≈ 1, 70 % right) is calibrated by the T that makes p = 0.7', () => {
    const logits = Array.from({ length: 100 }, () => Float64Array.from([10, 0]));
    const labels = logits.map((_, i) => (i < 70 ? 0 : 1));
    expect(expectedCalibrationError(logits, labels, 1)).toBeCloseTo(0.3, 3);
    expect(expectedCalibrationError(logits, labels, 10 / Math.log(7 / 3))).toBeCloseTo(0, 6);
    expect(fitTemperature(logits, labels)).toBeCloseTo(10 / Math.log(7 / 3), 3);
  });
});

describe('stratifiedFolds', () => {
  test('every sample in one fold, each class spread evenly, deterministic', () => {
    const labels = [...Array(23).fill(0), ...Array(17).fill(1), ...Array(9).fill(2)] as number[];
    const folds = stratifiedFolds(labels, 5, 3);
    expect(folds).toEqual(stratifiedFolds(labels, 5, 3));
    for (const c of [0, 1, 2]) {
      const sizes = [0, 1, 2, 3, 4].map((f) => folds.filter((g, i) => g === f && labels[i] === c).length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });
});

describe('selectTeachRule', () => {
  test('selects among the candidates on the given (train) samples, a rule within the drop budget when one is', () => {
    const train = threeClassTrain(60, 0.9);
    const report = selectTeachRule(train, 3, {
      folds: 3, ks: [5, 10], draws: 2, seed: 1, shrinkage: 0.05, maxDrop: 0.05,
      candidates: [{ priorWeight: 0, scatterWeight: 0 }, { priorWeight: 1, scatterWeight: 0 }],
    });
    expect(report.candidates).toHaveLength(2);
    const chosen = report.candidates.find((c) => c.priorWeight === report.selected.priorWeight && c.scatterWeight === report.selected.scatterWeight)!;
    if (report.candidates.some((c) => c.meets_budget)) {
      expect(chosen.meets_budget).toBe(true);
      for (const c of report.candidates.filter((x) => x.meets_budget)) expect(chosen.mean_balanced_accuracy).toBeGreaterThanOrEqual(c.mean_balanced_accuracy);
    }
    expect(report.selected.temperature).toBeGreaterThan(0);
    expect(report.ece_fitted).toBeLessThanOrEqual(report.ece_t1 + 1e-9);
  });
});

describe('selectTeachRule with an open-set rule', () => {
  test('reports the held-out folds\' known-class refusal before teaching and, with the scaled threshold, after: close to it', () => {
    const train = threeClassTrain(80, 0.7);
    // A threshold that refuses ~10 % of the training photos under the full 3-class statistics.
    const full = openSetScorer(statsOf([0, 1, 2].map((c) => train.filter((s) => s.label === c).map((s) => s.features))), { score: 'mahalanobis', threshold: 0 });
    const scores = train.map((s) => full.score(s.features)).sort((a, b) => a - b);
    const openSet = { score: 'mahalanobis' as const, threshold: scores[Math.floor(0.9 * scores.length)]! };
    const report = selectTeachRule(train, 3, {
      folds: 4, ks: [5, 10], draws: 2, seed: 2, shrinkage: 0.05, maxDrop: 0.05, openSet,
      candidates: [{ priorWeight: 0, scatterWeight: 0.5 }],
    });
    expect(report.known_refused_before).toBeGreaterThan(0.02);
    for (const p of report.candidates[0]!.per_k) {
      expect(p.known_refused).toBeDefined();
      expect(Math.abs(p.known_refused! - report.known_refused_before!)).toBeLessThan(0.04);
    }
  });
});

describe('ledoitWolfShrinkage', () => {
  test('equals the definition (explicit outer products) on a small set', () => {
    const samples: Sample[] = [...cloud([1, 0, 0], 8, 0.5).map((features) => ({ features, label: 0 })), ...cloud([0, 1, 0], 7, 0.5).map((features) => ({ features, label: 1 }))];
    const rows = samples.map((s) => l2Normalize(s.features));
    const F = 3, n = rows.length;
    const mean = [0, 1].map((c) => [0, 1, 2].map((f) => rows.filter((_, i) => samples[i]!.label === c).reduce((a, r) => a + r[f]!, 0) / samples.filter((s) => s.label === c).length));
    const centred = rows.map((r, i) => [0, 1, 2].map((f) => r[f]! - mean[samples[i]!.label]![f]!));
    const S = [0, 1, 2].map((i) => [0, 1, 2].map((j) => centred.reduce((a, r) => a + r[i]! * r[j]!, 0) / n));
    const mu = (S[0]![0]! + S[1]![1]! + S[2]![2]!) / F;
    let delta = 0, beta = 0;
    for (let i = 0; i < F; i++) for (let j = 0; j < F; j++) delta += (S[i]![j]! - (i === j ? mu : 0)) ** 2;
    for (const r of centred) for (let i = 0; i < F; i++) for (let j = 0; j < F; j++) beta += (r[i]! * r[j]! - S[i]![j]!) ** 2;
    beta /= n * n;
    expect(ledoitWolfShrinkage(samples, 2)).toBeCloseTo(Math.min(1, Math.min(beta, delta) / delta), 12);
  });
});

describe('the app\'s rule', () => {
  test('TEACH_RULE is the rule npm run eval:teach selected on the train features (docs/bench/eval-teach.json)', () => {
    const report = JSON.parse(readFileSync('docs/bench/eval-teach.json', 'utf8')) as { selection?: { selected: { priorWeight: number; scatterWeight: number; temperature: number } } };
    expect(report.selection).toBeDefined();
    expect(TEACH_RULE.priorWeight).toBe(report.selection!.selected.priorWeight);
    expect(TEACH_RULE.scatterWeight).toBe(report.selection!.selected.scatterWeight);
    expect(TEACH_RULE.temperature).toBeCloseTo(report.selection!.selected.temperature, 3);
  });
});

describe('eval:teach measures how often a taught head is sure, and how often right', () => {
  test('sure answers follow the kept confidence bar and the open-set check; precision is among them', () => {
    const train = threeClassTrain(60, 0.9);
    const val = threeClassTrain(20, 0.9);
    const at = (minProbability: number, threshold: number) => evaluateHeldOut(train, val, ['a', 'b', 'c'], 2, {
      ks: [10], draws: 3, softmaxDraws: 1, seed: 1, shrinkage: 0.05, methods: ['rule'], rule: { priorWeight: 0, scatterWeight: 0, temperature: 1 },
      openSet: { score: 'mahalanobis', threshold }, minProbability,
    })[0]!;
    const loose = at(0.5, 1e9), strict = at(0.99, 1e9), refusing = at(0.5, 0);
    expect(loose.sure_share!.mean).toBeGreaterThan(strict.sure_share!.mean);
    expect(loose.sure_precision!.mean).toBeGreaterThan(0.8);
    expect(loose.sure_precision!.mean).toBeLessThanOrEqual(1);
    // Every photo refused as not a bean leaf: none is sure, and no precision is claimed.
    expect(refusing.sure_share!.mean).toBe(0);
    expect(refusing.sure_precision).toBeUndefined();
  });
});
