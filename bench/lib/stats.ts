// Summary statistics for timing samples. Pure: used by the bench page, the Node bench and the tests.

export interface Summary {
  /** Number of timed runs (warm-up excluded). */
  n: number;
  median: number;
  min: number;
  max: number;
  mean: number;
}

/** Median of a non-empty list (mean of the two middle values for even lengths). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of an empty list');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new Error('summary of an empty list');
  for (const v of values) if (!Number.isFinite(v)) throw new Error(`non-finite sample ${v}`);
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return { n: values.length, median: median(values), min, max, mean: sum / values.length };
}

/** Least-squares slope of `values` against their index, e.g. memory growth per run. */
export function slopePerStep(values: readonly number[]): number {
  const n = values.length;
  if (n < 2) return 0;
  const meanX = (n - 1) / 2;
  const meanY = values.reduce((s, v) => s + v, 0) / n;
  let num = 0;
  let den = 0;
  values.forEach((v, i) => {
    num += (i - meanX) * (v - meanY);
    den += (i - meanX) ** 2;
  });
  return num / den;
}

/** Rounds for reports: 3 significant digits below 10, 1 decimal above. */
export function roundMs(ms: number): number {
  if (!Number.isFinite(ms)) return ms;
  return Math.abs(ms) < 10 ? Number(ms.toPrecision(3)) : Math.round(ms * 10) / 10;
}
