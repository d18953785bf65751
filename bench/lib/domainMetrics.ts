// Metrics of the domain eval (scripts/eval-domain.ts): AUROC, refusal rates, calibration error, and how far an
// answer shown as "sure" can be trusted. Pure functions over per-photo records, tested in test/bench/.

/** P(score of a random out-of-domain photo > score of a random in-domain photo), ties counting one half. */
export function auroc(inDomain: readonly number[], outOfDomain: readonly number[]): number | null {
  if (inDomain.length === 0 || outOfDomain.length === 0) return null;
  const all = [...inDomain.map((s) => ({ s, out: false })), ...outOfDomain.map((s) => ({ s, out: true }))].sort((a, b) => a.s - b.s);
  // Rank-sum (Mann–Whitney U) with average ranks for ties.
  let rankSumOut = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j + 1 < all.length && all[j + 1]!.s === all[i]!.s) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (all[k]!.out) rankSumOut += rank;
    i = j + 1;
  }
  const nOut = outOfDomain.length, nIn = inDomain.length;
  return (rankSumOut - (nOut * (nOut + 1)) / 2) / (nOut * nIn);
}

/** Share of scores above the threshold (refused). */
export function refusedShare(scores: readonly number[], threshold: number): number | null {
  if (scores.length === 0) return null;
  return scores.filter((s) => !(s <= threshold)).length / scores.length;
}

/** Expected calibration error, equal-width bins over the top probability. */
export function expectedCalibrationError(probabilities: readonly (readonly number[])[], labels: readonly number[], bins = 10): number | null {
  if (probabilities.length === 0) return null;
  const count = new Array<number>(bins).fill(0), conf = new Array<number>(bins).fill(0), right = new Array<number>(bins).fill(0);
  probabilities.forEach((p, i) => {
    let top = 0;
    for (let c = 1; c < p.length; c++) if (p[c]! > p[top]!) top = c;
    const b = Math.min(bins - 1, Math.floor(p[top]! * bins));
    count[b]! += 1;
    conf[b]! += p[top]!;
    if (top === labels[i]) right[b]! += 1;
  });
  let ece = 0;
  for (let b = 0; b < bins; b++) if (count[b]! > 0) ece += Math.abs(right[b]! - conf[b]!) / probabilities.length;
  return ece;
}

export function negativeLogLikelihood(probabilities: readonly (readonly number[])[], labels: readonly number[]): number | null {
  if (probabilities.length === 0) return null;
  return probabilities.reduce((s, p, i) => s - Math.log(Math.max(p[labels[i]!]!, 1e-12)), 0) / probabilities.length;
}

/** Of the photos answered "sure", how many are right; and how many photos are answered "sure" at all. */
export function sureSplit(records: readonly { outcome: string; top: number; label: number }[]): { sure: number; right: number; photos: number; precision: number | null; share: number | null } {
  const sure = records.filter((r) => r.outcome === 'sure');
  const right = sure.filter((r) => r.top === r.label).length;
  return {
    sure: sure.length, right, photos: records.length,
    precision: sure.length > 0 ? right / sure.length : null,
    share: records.length > 0 ? sure.length / records.length : null,
  };
}

/** A threshold with at most `rate` of `scores` above it: halfway between the highest kept score and the next
 * (as model/domain.py sets the head's). */
export function thresholdAtRefusal(scores: readonly number[], rate: number): number {
  const sorted = [...scores].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((1 - rate) * sorted.length) - 1));
  return index + 1 < sorted.length ? (sorted[index]! + sorted[index + 1]!) / 2 : sorted[index]!;
}
