// Learning a head on the phone from the backbone's features, without training the backbone.
//
// The head carries per-class statistics of the L2-normalised features (means, counts and the pooled
// within-class scatter, NOT divided: docs/model-contract.md). A class is added, or a corrected example folded
// into a class, by updating those statistics exactly; the head's rows then follow in closed form as
// shared-covariance LDA: w_c = Σ⁻¹μ_c, b_c = −½ μ_cᵀΣ⁻¹μ_c + log π_c, with Σ shrunk toward its mean diagonal.
// Softmax regression (trained here, in plain TS) is the alternative that scripts/eval-teach.ts compares.
// Everything is float64 inside; heads come out as float32.

export interface FeatureStatistics {
  /** C rows of F means (of L2-normalised features), label order. */
  means: Float64Array[];
  counts: number[];
  /** F×F row-major pooled within-class scatter Σ_c Σ_i (x_i−μ_c)(x_i−μ_c)ᵀ. */
  scatter: Float64Array;
  /** λ in Σ = (1−λ)·scatter/(n−C) + λ·(trace/F)·I. */
  shrinkage: number;
}

export interface LinearHead {
  /** Row-major [C, F]. */
  weight: Float32Array;
  bias: Float32Array;
}

/** Equal priors suit a farmer's field, where nothing says the new disease is rarer than the photos taught. */
export type PriorRule = 'uniform' | 'counts';

export function featureCount(stats: FeatureStatistics): number {
  return Math.round(Math.sqrt(stats.scatter.length));
}

export function l2Normalise(x: ArrayLike<number>): Float64Array {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i]! * x[i]!;
  const norm = Math.sqrt(sum) || 1;
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i]! / norm;
  return out;
}

export function euclideanNorm(x: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i]! * x[i]!;
  return Math.sqrt(sum);
}

/** Mean, count and within-class scatter of one class's (already normalised) samples. */
export function classStatistics(samples: readonly ArrayLike<number>[], features: number): { mean: Float64Array; count: number; scatter: Float64Array } {
  if (samples.length === 0) throw new Error('a class needs at least one sample');
  const F = features;
  const mean = new Float64Array(F);
  for (const x of samples) {
    if (x.length !== F) throw new Error(`a sample has ${x.length} features, expected ${F}`);
    for (let f = 0; f < F; f++) mean[f]! += x[f]!;
  }
  for (let f = 0; f < F; f++) mean[f]! /= samples.length;
  const scatter = new Float64Array(F * F);
  const d = new Float64Array(F);
  for (const x of samples) {
    for (let f = 0; f < F; f++) d[f] = x[f]! - mean[f]!;
    for (let i = 0; i < F; i++) {
      const di = d[i]!;
      if (di === 0) continue;
      const row = i * F;
      for (let j = 0; j < F; j++) scatter[row + j]! += di * d[j]!;
    }
  }
  return { mean, count: samples.length, scatter };
}

/** The statistics with one more class (appended last) made of `samples` (normalised features). */
export function withClass(stats: FeatureStatistics, samples: readonly ArrayLike<number>[]): FeatureStatistics {
  const F = featureCount(stats);
  const added = classStatistics(samples, F);
  const scatter = new Float64Array(stats.scatter);
  for (let i = 0; i < scatter.length; i++) scatter[i]! += added.scatter[i]!;
  return { means: [...stats.means.map((m) => new Float64Array(m)), added.mean], counts: [...stats.counts, added.count], scatter, shrinkage: stats.shrinkage };
}

/** The statistics with one more example `x` (normalised) in class `c`: exact running update (Welford),
 * scatter += n/(n+1)·(x−μ)(x−μ)ᵀ, μ += (x−μ)/(n+1). */
export function withExample(stats: FeatureStatistics, c: number, x: ArrayLike<number>): FeatureStatistics {
  const F = featureCount(stats);
  if (c < 0 || c >= stats.means.length) throw new Error(`class ${c} outside [0, ${stats.means.length - 1}]`);
  if (x.length !== F) throw new Error(`the example has ${x.length} features, expected ${F}`);
  const n = stats.counts[c]!;
  const mean = stats.means[c]!;
  const d = new Float64Array(F);
  for (let f = 0; f < F; f++) d[f] = x[f]! - mean[f]!;
  const scatter = new Float64Array(stats.scatter);
  const k = n / (n + 1);
  for (let i = 0; i < F; i++) for (let j = 0; j < F; j++) scatter[i * F + j]! += k * d[i]! * d[j]!;
  const means = stats.means.map((m) => new Float64Array(m));
  for (let f = 0; f < F; f++) means[c]![f]! += d[f]! / (n + 1);
  const counts = [...stats.counts];
  counts[c] = n + 1;
  return { means, counts, scatter, shrinkage: stats.shrinkage };
}

/** Σ = (1−λ)·scatter/(n−C) + λ·(trace/F)·I, trace of scatter/(n−C). With n ≤ C (one photo per class)
 * the scatter says nothing and Σ is the identity. */
export function sharedCovariance(stats: FeatureStatistics): Float64Array {
  const F = featureCount(stats);
  const n = stats.counts.reduce((a, b) => a + b, 0);
  const C = stats.means.length;
  const sigma = new Float64Array(F * F);
  if (n - C <= 0) {
    for (let i = 0; i < F; i++) sigma[i * F + i] = 1;
    return sigma;
  }
  const scale = 1 / (n - C);
  let trace = 0;
  for (let i = 0; i < F; i++) trace += stats.scatter[i * F + i]! * scale;
  const lambda = Math.min(1, Math.max(0, stats.shrinkage));
  const diagonal = trace > 0 ? lambda * trace / F : 1;
  for (let i = 0; i < F * F; i++) sigma[i] = (1 - lambda) * stats.scatter[i]! * scale;
  for (let i = 0; i < F; i++) sigma[i * F + i]! += diagonal;
  return sigma;
}

/** Lower-triangular L with A = L·Lᵀ (A symmetric positive definite, F×F row-major). */
export function cholesky(a: Float64Array, F: number): Float64Array {
  const l = new Float64Array(F * F);
  for (let i = 0; i < F; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i * F + j]!;
      for (let k = 0; k < j; k++) sum -= l[i * F + k]! * l[j * F + k]!;
      if (i === j) {
        if (!(sum > 0)) throw new Error('covariance is not positive definite');
        l[i * F + i] = Math.sqrt(sum);
      } else {
        l[i * F + j] = sum / l[j * F + j]!;
      }
    }
  }
  return l;
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
  /** The graph applies the head to raw features x; the statistics describe x/‖x‖. Rows are divided by this
   * typical ‖x‖ (the features are LayerNorm outputs, so ‖x‖ varies little: see docs/benchmarks.md). 1 = normalised inputs. */
  inputScale?: number;
}

/** Closed-form shared-covariance LDA rows from the statistics. */
export function ldaHead(stats: FeatureStatistics, options: LdaOptions = {}): LinearHead {
  const F = featureCount(stats);
  const C = stats.means.length;
  const prior = options.prior ?? 'uniform';
  const scale = options.inputScale ?? 1;
  const n = stats.counts.reduce((a, b) => a + b, 0);
  const l = cholesky(sharedCovariance(stats), F);
  const weight = new Float32Array(C * F);
  const bias = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    const mu = stats.means[c]!;
    const w = choleskySolve(l, F, mu);
    let quad = 0;
    for (let f = 0; f < F; f++) {
      quad += mu[f]! * w[f]!;
      weight[c * F + f] = w[f]! / scale;
    }
    const logPrior = prior === 'counts' ? Math.log(stats.counts[c]! / n) : Math.log(1 / C);
    bias[c] = -0.5 * quad + logPrior;
  }
  return { weight, bias };
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

/** Deterministic normal samples (mulberry32 + Box–Muller), for drawing pseudo-features from class Gaussians. */
export function seededNormal(seed: number): () => number {
  let state = seed >>> 0;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
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
    const x = new Float64Array(stats.means[c]!);
    for (let i = 0; i < F; i++) for (let k = 0; k <= i; k++) x[i]! += l[i * F + k]! * z[k]!;
    out.push(l2Normalise(x));
  }
  return out;
}
