// Learning a head on the phone from the backbone's features, without training the backbone.
//
// The head carries per-class statistics of the L2-normalised features (means, counts and the pooled
// within-class scatter, NOT divided: docs/model-contract.md). A class is added, or a corrected example folded
// into a class, by updating those statistics exactly; the head's rows then follow in closed form as
// shared-covariance LDA: w_c = Σ⁻¹μ_c, b_c = −½ μ_cᵀΣ⁻¹μ_c + log π_c, with Σ shrunk toward its mean diagonal.
// Softmax regression (trained here, in plain TS) is the alternative that scripts/eval-teach.ts compares.
// Everything is float64 inside; heads come out as float32. The statistics themselves (parsing, adding a class,
// the shrunk covariance, Cholesky) live in ./domain.ts, shared with the open-set check.
import { addClassStatistics, cholesky, classStatisticsOf, featureCount, l2Normalize, mahalanobisViaCholesky, shrunkCovariance, type FeatureStatistics } from './domain';
import { seededUniform } from '../seededRandom';

export type { FeatureStatistics };

export interface LinearHead {
  /** Row-major [C, F]. */
  weight: Float32Array;
  bias: Float32Array;
}

/** Equal priors suit a farmer's field, where nothing says the new disease is rarer than the photos taught. */
export type PriorRule = 'uniform' | 'counts';

export function euclideanNorm(x: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i]! * x[i]!;
  return Math.sqrt(sum);
}

/** The statistics with one more photo (raw features, normalised here) in class `c`: the exact running update
 * (Welford), scatter += n/(n+1)·(x−μ)(x−μ)ᵀ, μ += (x−μ)/(n+1). */
export function withExample(stats: FeatureStatistics, c: number, rawFeatures: ArrayLike<number>): FeatureStatistics {
  const F = featureCount(stats);
  if (c < 0 || c >= stats.classMeans.length) throw new Error(`class ${c} outside [0, ${stats.classMeans.length - 1}]`);
  if (rawFeatures.length !== F) throw new Error(`the photo has ${rawFeatures.length} features, expected ${F}`);
  const x = l2Normalize(rawFeatures);
  const n = stats.classCounts[c]!;
  const mean = stats.classMeans[c]!;
  const d = new Float64Array(F);
  for (let f = 0; f < F; f++) d[f] = x[f]! - mean[f]!;
  const scatter = new Float64Array(stats.scatter);
  const k = n / (n + 1);
  for (let i = 0; i < F; i++) for (let j = 0; j < F; j++) scatter[i * F + j]! += k * d[i]! * d[j]!;
  const classMeans = stats.classMeans.map((m) => new Float64Array(m));
  for (let f = 0; f < F; f++) classMeans[c]![f]! += d[f]! / (n + 1);
  const classCounts = [...stats.classCounts];
  classCounts[c] = n + 1;
  return { classMeans, classCounts, scatter, shrinkage: stats.shrinkage };
}

/** The statistics with one more class (appended last) made of `rawFeatures` (normalised here). */
export function withClass(stats: FeatureStatistics, rawFeatures: readonly ArrayLike<number>[]): FeatureStatistics {
  const f = featureCount(stats);
  for (const x of rawFeatures) if (x.length !== f) throw new Error(`a photo has ${x.length} features, expected ${f}`);
  return addClassStatistics(stats, classStatisticsOf([...rawFeatures]));
}

/** Σ of the statistics: (1−λ)·S/(n−C) + λ·(tr/F)·I (domain.ts's shrunk covariance). */
export function sharedCovariance(stats: FeatureStatistics): Float64Array {
  const n = stats.classCounts.reduce((a, b) => a + b, 0);
  return shrunkCovariance(stats.scatter, featureCount(stats), n - stats.classMeans.length, stats.shrinkage);
}

/** Solves (L·Lᵀ)·x = b. */
export function choleskySolve(l: Float64Array, F: number, b: ArrayLike<number>): Float64Array {
  const y = new Float64Array(F);
  for (let i = 0; i < F; i++) {
    let sum = b[i]!;
    for (let k = 0; k < i; k++) sum -= l[i * F + k]! * y[k]!;
    y[i] = sum / l[i * F + i]!;
  }
  const x = new Float64Array(F);
  for (let i = F - 1; i >= 0; i--) {
    let sum = y[i]!;
    for (let k = i + 1; k < F; k++) sum -= l[k * F + i]! * x[k]!;
    x[i] = sum / l[i * F + i]!;
  }
  return x;
}

export interface LdaOptions {
  prior?: PriorRule;
  /** α of TeachRule (overrides `prior`): log prior = α·log(n_c/n) + (1−α)·log(1/C). */
  priorWeight?: number;
  /** The graph applies the head to raw features x; the statistics describe x/‖x‖. Rows are divided by this
   * typical ‖x‖ (the features are LayerNorm outputs, so ‖x‖ varies little: see docs/benchmarks.md). 1 = normalised inputs. */
  inputScale?: number;
}

/** Closed-form shared-covariance LDA rows from the statistics. */
export function ldaHead(stats: FeatureStatistics, options: LdaOptions = {}): LinearHead {
  const F = featureCount(stats);
  const C = stats.classMeans.length;
  const prior = options.prior ?? 'uniform';
  const scale = options.inputScale ?? 1;
  const n = stats.classCounts.reduce((a, b) => a + b, 0);
  const l = cholesky(sharedCovariance(stats), F);
  const weight = new Float32Array(C * F);
  const bias = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    const mu = stats.classMeans[c]!;
    const w = choleskySolve(l, F, mu);
    let quad = 0;
    for (let f = 0; f < F; f++) {
      quad += mu[f]! * w[f]!;
      weight[c * F + f] = w[f]! / scale;
    }
    const alpha = options.priorWeight ?? (prior === 'counts' ? 1 : 0);
    const logPrior = alpha * Math.log(stats.classCounts[c]! / n) + (1 - alpha) * Math.log(1 / C);
    bias[c] = -0.5 * quad + logPrior;
  }
  return { weight, bias };
}

/** The teaching rule: how a class taught from few photos enters the head. Selected by cross-validation on
 * the backbone's TRAIN features only (bench/lib/teachSelect.ts, npm run eval:teach), never on val. */
export interface TeachRule {
  /** α in [0, 1]: log prior of class c = α·log(n_c/n) + (1−α)·log(1/C); 0 = equal priors, 1 = photo counts. */
  priorWeight: number;
  /** γ ≥ 0: the taught class's own scatter enters the pooled scatter with weight ω = max(1, n̄/k)^γ (n̄ the other
   * classes' mean count, k its photos), the degrees of freedom n − C staying those of the real photos. A class seen
   * in k photos has a rank-(k−1) scatter that barely moves Σ; weighting it gives its directions of variation the
   * room they would have had from n̄ photos, so that its own new photos are not refused as far from every class.
   * 0 = as counted (exact statistics). */
  scatterWeight: number;
  /** Softmax temperature of the rebuilt (LDA) rows. */
  temperature: number;
}

/** The rule the app teaches with: selected by npm run eval:teach's cross-validation on the shipped backbone's
 * TRAIN features (docs/benchmarks.md, eval:teach; test/engine/teachRule.test.ts checks it equals the report). */
export const TEACH_RULE: TeachRule = { priorWeight: 0, scatterWeight: 0, temperature: 9.999904 };

/** ω of the rule for a class of `k` photos added to classes of `counts` photos. */
export function taughtScatterWeight(counts: readonly number[], k: number, rule: TeachRule): number {
  const others = counts.reduce((a, b) => a + b, 0) / Math.max(1, counts.length);
  return Math.max(1, others / k) ** rule.scatterWeight;
}

/** The statistics with one more class (appended last) taught from `rawFeatures` by `rule`: its mean and count
 * exact, its own scatter weighted by ω (taughtScatterWeight) in the pooled scatter. */
export function withTaughtClass(stats: FeatureStatistics, rawFeatures: readonly ArrayLike<number>[], rule: TeachRule): FeatureStatistics {
  const f = featureCount(stats);
  for (const x of rawFeatures) if (x.length !== f) throw new Error(`a photo has ${x.length} features, expected ${f}`);
  const added = classStatisticsOf([...rawFeatures]);
  const omega = taughtScatterWeight(stats.classCounts, added.count, rule);
  return addClassStatistics(stats, { ...added, scatter: added.scatter.map((v) => omega * v) });
}

/** How far a head's open-set threshold moves when its statistics change on the phone (a class taught, a photo
 * folded in): r = tr(Σ_after⁻¹·Σ_before) / F, so that threshold_after = r·threshold_before. For a photo x of a class
 * the head already had, with x − μ_c of covariance Σ_before (what the head before believed), E[d²] is
 * tr(Σ⁻¹·Σ_before): F under Σ_before, F·r under Σ_after. Scaling the threshold by r keeps the known classes' expected
 * score where the fitted threshold was set (exact when Σ_after = Σ_before / r: every decision then stays as it was).
 * A taught class's weighted scatter widens Σ, every d² shrinks, and without this the shipped threshold would let
 * more photos that are not bean leaves through. Computed as ‖L_after⁻¹·L_before‖²_F / F from the Cholesky factors
 * (L_before is lower-triangular, so column j solves from row j down: F³/6 operations). */
export function openSetThresholdScale(before: FeatureStatistics, after: FeatureStatistics): number {
  const F = featureCount(before);
  if (featureCount(after) !== F) throw new Error(`statistics of ${F} and ${featureCount(after)} features`);
  const lBefore = cholesky(sharedCovariance(before), F);
  const lAfter = cholesky(sharedCovariance(after), F);
  const z = new Float64Array(F);
  let total = 0;
  for (let j = 0; j < F; j++) {
    for (let i = j; i < F; i++) {
      let sum = lBefore[i * F + j]!;
      for (let k = j; k < i; k++) sum -= lAfter[i * F + k]! * z[k]!;
      z[i] = sum / lAfter[i * F + i]!;
      total += z[i]! * z[i]!;
    }
  }
  return total / F;
}

/** How much a class's squared distance is divided by in the open-set score (head.json `open_set.class_scale`):
 * (1 + 1/n)·max(1, v) for a class whose mean comes from n photos and whose spread is v (taughtClassSpread; 1 when
 * unknown). A new photo x of the class differs from the estimated mean μ̂ by (x − μ) − (μ̂ − μ), of covariance
 * Σ_c·(1 + 1/n), so E[d²(x, μ̂; Σ)] is (1 + 1/n)·v times what the threshold was fitted for. Negligible for the
 * shipped classes (n ≈ 340, v = 1 by construction); large for a class taught from a few photos (2 at k = 1,
 * 1.1 at k = 10) or one that varies more than the shipped classes do. Only taught classes carry it
 * (docs/model-contract.md); a class that varies less is not made stricter (photos taught in one sitting understate
 * how a class varies in a field). */
export function taughtClassScale(photos: number, spread = 1): number {
  if (!Number.isInteger(photos) || photos < 1) throw new Error(`a class needs a positive number of photos (got ${photos})`);
  // 0 is a class taught from copies of one photo: it still gets the room of a class that varies as the shipped ones.
  if (!(spread >= 0) || !Number.isFinite(spread)) throw new Error(`a class spread must be a finite number ≥ 0 (got ${spread})`);
  return (1 + 1 / photos) * Math.max(1, spread);
}

/** v of a class taught from `rawFeatures` (normalised here; at least 2 photos): its expected d² for a new photo
 * about its true mean, tr(Σ⁻¹·S_c)/(n − 1) with S_c the photos' own scatter (unbiased: the leave-one-out d² of the
 * photos, n/(n−1)·(x_i − μ̂)), over `referenceD2`, the mean d² of in-domain photos the head never saw to their
 * nearest class (head.json `open_set.reference_d2`, on the scale of `stats`). 1 means the class varies as the
 * shipped classes do. With 192 features the estimate is tight even from 5 photos. */
export function taughtClassSpread(stats: FeatureStatistics, rawFeatures: readonly ArrayLike<number>[], referenceD2: number): number {
  const F = featureCount(stats);
  if (rawFeatures.length < 2) throw new Error('a spread needs at least 2 photos');
  if (!(referenceD2 > 0) || !Number.isFinite(referenceD2)) throw new Error(`reference d² must be a positive number (got ${referenceD2})`);
  const { mean } = classStatisticsOf([...rawFeatures]);
  const l = cholesky(sharedCovariance(stats), F);
  let total = 0;
  for (const x of rawFeatures) {
    if (x.length !== F) throw new Error(`a photo has ${x.length} features, expected ${F}`);
    total += mahalanobisViaCholesky(l2Normalize(x), mean, l, F);
  }
  return total / (rawFeatures.length - 1) / referenceD2;
}

/** open_set.class_scale of a class taught now from `rawFeatures` into statistics `after`: (1 + 1/k)·max(1, v), v its
 * spread when `referenceD2` (the head's reference d², already on the scale of `after`) is known and k ≥ 2, else 1.
 * What teachClass writes (taught.ts) and what eval:teach scores taught heads with. */
export function taughtClassScaleOf(after: FeatureStatistics, rawFeatures: readonly ArrayLike<number>[], referenceD2?: number): number {
  const spread = referenceD2 !== undefined && rawFeatures.length >= 2 ? taughtClassSpread(after, rawFeatures, referenceD2) : 1;
  return taughtClassScale(rawFeatures.length, spread);
}

/** Statistics + the head of `rule` for `base` with one class taught from `taught` (raw features; none = the
 * base head). Rows act on L2-normalised features (inputScale 1). With `withStats`, also the statistics. */
export function teachRuleHead(base: FeatureStatistics, taught: readonly ArrayLike<number>[], rule: TeachRule): LinearHead;
export function teachRuleHead(base: FeatureStatistics, taught: readonly ArrayLike<number>[], rule: TeachRule, withStats: true): { head: LinearHead; stats: FeatureStatistics };
export function teachRuleHead(base: FeatureStatistics, taught: readonly ArrayLike<number>[], rule: TeachRule, withStats = false): LinearHead | { head: LinearHead; stats: FeatureStatistics } {
  const stats = taught.length > 0 ? withTaughtClass(base, taught, rule) : base;
  const head = ruleRows(stats, rule);
  return withStats ? { head, stats } : head;
}

/** The rows of `rule` from statistics: LDA with log prior α·log(n_c/n) + (1−α)·log(1/C), n_c the classes' photo
 * counts (default: the statistics' counts). `inputScale`: rows act on raw features of that typical norm. */
export function ruleRows(stats: FeatureStatistics, rule: TeachRule, photoCounts: readonly number[] = stats.classCounts, inputScale = 1): LinearHead {
  const head = ldaHead(stats, { inputScale });
  const n = photoCounts.reduce((a, b) => a + b, 0);
  photoCounts.forEach((count, c) => { head.bias[c]! += rule.priorWeight * (Math.log(count / n) - Math.log(1 / photoCounts.length)); });
  return head;
}

/** T > 0 minimising the mean NLL of softmax(z/T) (golden-section search on log T over [0.05, 20]). */
export function fitTemperature(logits: readonly ArrayLike<number>[], labels: readonly number[]): number {
  const nll = (t: number) => {
    let total = 0;
    logits.forEach((z, i) => {
      let max = -Infinity;
      for (let c = 0; c < z.length; c++) max = Math.max(max, z[c]! / t);
      let sum = 0;
      for (let c = 0; c < z.length; c++) sum += Math.exp(z[c]! / t - max);
      total += Math.log(sum) + max - z[labels[i]!]! / t;
    });
    return total / Math.max(1, logits.length);
  };
  let lo = Math.log(0.05), hi = Math.log(20);
  const g = (Math.sqrt(5) - 1) / 2;
  let a = hi - g * (hi - lo), b = lo + g * (hi - lo);
  let fa = nll(Math.exp(a)), fb = nll(Math.exp(b));
  for (let i = 0; i < 60; i++) {
    if (fa < fb) { hi = b; b = a; fb = fa; a = hi - g * (hi - lo); fa = nll(Math.exp(a)); }
    else { lo = a; a = b; fa = fb; b = lo + g * (hi - lo); fb = nll(Math.exp(b)); }
  }
  return Math.exp((lo + hi) / 2);
}

/** logits = W·x + b for one input. */
export function applyHead(head: LinearHead, x: ArrayLike<number>): Float64Array {
  const C = head.bias.length;
  const F = x.length;
  const out = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let sum = head.bias[c]!;
    for (let f = 0; f < F; f++) sum += head.weight[c * F + f]! * x[f]!;
    out[c] = sum;
  }
  return out;
}

export interface SoftmaxOptions {
  /** L2 penalty on the weights (not the bias). */
  l2?: number;
  iterations?: number;
  /** Weight each class by n/(C·n_c), so five photos of a new class count as much as 300 of an old one. */
  balanced?: boolean;
}

/** Multinomial logistic regression by full-batch Nesterov gradient descent on (normalised) features.
 * The step is 1/L with L = ½·max‖[x,1]‖² + l2 ≤ 1 + l2 for unit-norm inputs, so it always converges. */
export function softmaxRegression(xs: readonly ArrayLike<number>[], ys: readonly number[], classes: number, options: SoftmaxOptions = {}): LinearHead {
  const n = xs.length;
  if (n === 0 || ys.length !== n) throw new Error('softmaxRegression needs as many labels as samples (≥ 1)');
  const F = xs[0]!.length;
  const C = classes;
  const l2 = options.l2 ?? 1e-3;
  const iterations = options.iterations ?? 300;
  const counts = new Array<number>(C).fill(0);
  for (const y of ys) counts[y]! += 1;
  const sampleWeight = ys.map((y) => (options.balanced ?? true) ? n / (C * counts[y]!) : 1);
  const weightSum = sampleWeight.reduce((a, b) => a + b, 0);
  let maxSq = 0;
  for (const x of xs) { let s = 1; for (let f = 0; f < F; f++) s += x[f]! * x[f]!; maxSq = Math.max(maxSq, s); }
  const step = 1 / (0.5 * maxSq * Math.max(...sampleWeight) * n / weightSum + l2);
  const P = C * (F + 1); // per class: F weights then the bias
  let theta = new Float64Array(P);
  let previous = new Float64Array(P);
  const grad = new Float64Array(P);
  const logits = new Float64Array(C);
  for (let t = 1; t <= iterations; t++) {
    // Nesterov look-ahead point v = θ + (t−1)/(t+2)·(θ − θ_prev).
    const momentum = (t - 1) / (t + 2);
    const v = new Float64Array(P);
    for (let p = 0; p < P; p++) v[p] = theta[p]! + momentum * (theta[p]! - previous[p]!);
    grad.fill(0);
    for (let i = 0; i < n; i++) {
      const x = xs[i]!;
      let max = -Infinity;
      for (let c = 0; c < C; c++) {
        const o = c * (F + 1);
        let s = v[o + F]!;
        for (let f = 0; f < F; f++) s += v[o + f]! * x[f]!;
        logits[c] = s;
        if (s > max) max = s;
      }
      let z = 0;
      for (let c = 0; c < C; c++) { logits[c] = Math.exp(logits[c]! - max); z += logits[c]!; }
      const wi = sampleWeight[i]! / weightSum;
      for (let c = 0; c < C; c++) {
        const g = wi * (logits[c]! / z - (ys[i] === c ? 1 : 0));
        const o = c * (F + 1);
        for (let f = 0; f < F; f++) grad[o + f]! += g * x[f]!;
        grad[o + F]! += g;
      }
    }
    for (let c = 0; c < C; c++) for (let f = 0; f < F; f++) grad[c * (F + 1) + f]! += l2 * v[c * (F + 1) + f]!;
    previous = theta;
    theta = new Float64Array(P);
    for (let p = 0; p < P; p++) theta[p] = v[p]! - step * grad[p]!;
  }
  const weight = new Float32Array(C * F);
  const bias = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    for (let f = 0; f < F; f++) weight[c * F + f] = theta[c * (F + 1) + f]!;
    bias[c] = theta[c * (F + 1) + F]!;
  }
  return { weight, bias };
}

export { seededUniform };

/** Deterministic normal samples (Box–Muller over seededUniform), for drawing pseudo-features from class Gaussians. */
export function seededNormal(seed: number): () => number {
  const uniform = seededUniform(seed);
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** `count` samples of N(μ_c, Σ) for class c, each L2-normalised (the statistics live on the unit sphere). */
export function sampleClass(stats: FeatureStatistics, c: number, count: number, normal: () => number, choleskyOfSigma?: Float64Array): Float64Array[] {
  const F = featureCount(stats);
  const l = choleskyOfSigma ?? cholesky(sharedCovariance(stats), F);
  const out: Float64Array[] = [];
  const z = new Float64Array(F);
  for (let s = 0; s < count; s++) {
    for (let f = 0; f < F; f++) z[f] = normal();
    const x = new Float64Array(stats.classMeans[c]!);
    for (let i = 0; i < F; i++) for (let k = 0; k <= i; k++) x[i]! += l[i * F + k]! * z[k]!;
    out.push(l2Normalize(x));
  }
  return out;
}
