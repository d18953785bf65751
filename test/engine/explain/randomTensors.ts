// Test fixtures: seeded random `[L,1,H,N,N]` tensors shaped like the model's outputs. Used by the node tests
// and, through the Vite server, by the browser kernel tests (so both see the same numbers).
import type { ExplainDims, ExplainTensors } from '../../../src/engine/explain';
import { seededUniform } from '../../../src/engine/seededRandom';

/** The engine's seeded generator (mulberry32), so failures reproduce. */
export const seededRandom = seededUniform;

export function fixtureDims(gridSize: number, prefixTokens: number, layers: number, heads: number): ExplainDims {
  return { layers, heads, tokens: gridSize * gridSize + prefixTokens, prefixTokens, gridSize };
}

/** Softmax rows (each row of each head sums to 1), with a temperature so some rows are peaked like real attention. */
export function randomAttentions(dims: ExplainDims, random: () => number): Float32Array {
  const { layers, heads, tokens } = dims;
  const out = new Float32Array(layers * heads * tokens * tokens);
  const logits = new Float64Array(tokens);
  for (let row = 0; row < layers * heads * tokens; row++) {
    const temperature = 0.5 + 4 * random();
    let max = -Infinity;
    for (let j = 0; j < tokens; j++) {
      logits[j] = temperature * (random() * 2 - 1);
      max = Math.max(max, logits[j]!);
    }
    let sum = 0;
    for (let j = 0; j < tokens; j++) sum += (logits[j] = Math.exp(logits[j]! - max));
    for (let j = 0; j < tokens; j++) out[row * tokens + j] = logits[j]! / sum;
  }
  return out;
}

/** Signed values of mixed magnitude, like gradients or LRP relevance. */
export function randomSigned(dims: ExplainDims, random: () => number, scale = 1): Float32Array {
  const out = new Float32Array(dims.layers * dims.heads * dims.tokens * dims.tokens);
  for (let i = 0; i < out.length; i++) out[i] = scale * (random() * 2 - 1) * (random() < 0.1 ? 10 : 1);
  return out;
}

export function randomTensors(dims: ExplainDims, seed: number): Required<ExplainTensors<Float32Array>> {
  const random = seededRandom(seed);
  return {
    attentions: randomAttentions(dims, random),
    attentionGrads: randomSigned(dims, random, 0.01),
    attentionRelevance: randomSigned(dims, random, 0.001),
  };
}
