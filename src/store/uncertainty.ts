// When is the model unsure? A guess shown as fact misleads a farmer, so the UI says "not sure" instead.

/** Below this top probability the diagnosis is shown as unsure. */
export const MIN_CONFIDENT_PROBABILITY = 0.6;
/** Above this entropy (as a fraction of the maximum, log C) the diagnosis is shown as unsure. */
export const MAX_CONFIDENT_ENTROPY = 0.7;

export interface Confidence {
  top: number;
  topProbability: number;
  /** Shannon entropy divided by log(C): 0 = certain, 1 = uniform. */
  normalizedEntropy: number;
  unsure: boolean;
}

export function assessConfidence(probabilities: ArrayLike<number>): Confidence {
  const count = probabilities.length;
  if (count === 0) return { top: -1, topProbability: 0, normalizedEntropy: 1, unsure: true };
  let top = 0;
  let entropy = 0;
  for (let i = 0; i < count; i++) {
    const p = probabilities[i] ?? 0;
    if (p > (probabilities[top] ?? 0)) top = i;
    if (p > 0) entropy -= p * Math.log(p);
  }
  const normalizedEntropy = count > 1 ? entropy / Math.log(count) : 0;
  const topProbability = probabilities[top] ?? 0;
  const unsure = topProbability < MIN_CONFIDENT_PROBABILITY || normalizedEntropy > MAX_CONFIDENT_ENTROPY;
  return { top, topProbability, normalizedEntropy, unsure };
}
