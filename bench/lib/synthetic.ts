// Synthetic fixture tensors with a real model's shapes, for timing and cross-checking the explanation kernels
// where no model output is at hand (the Node Dawn bench). Deterministic from a seed; never shown as results.
import type { ExplainDims } from '../../src/engine/index';
// The kernel tests' seeded generator, so bench and tests draw the same numbers.
import { seededRandom } from '../../test/engine/explain/randomTensors';

/** DeiT-tiny at 224 px: 12 blocks, 3 heads, 14×14 patches + CLS. */
export const DEIT_TINY_DIMS: ExplainDims = { layers: 12, heads: 3, tokens: 197, prefixTokens: 1, gridSize: 14 };

export interface SyntheticTensors {
  /** `[L,1,H,N,N]`, every row a softmax distribution (sums to 1), like real attention probabilities. */
  attentions: Float32Array<ArrayBuffer>;
  /** `[L,1,H,N,N]`, signed, small, like gradients. */
  attentionGrads: Float32Array<ArrayBuffer>;
  /** `[L,1,H,N,N]`, signed, like LRP relevance. */
  attentionRelevance: Float32Array<ArrayBuffer>;
}

export function syntheticTensors(dims: ExplainDims, seed = 1): SyntheticTensors {
  const random = seededRandom(seed);
  const n = dims.tokens;
  const rows = dims.layers * dims.heads * n;
  const attentions = new Float32Array(rows * n);
  const attentionGrads = new Float32Array(rows * n);
  const attentionRelevance = new Float32Array(rows * n);
  for (let row = 0; row < rows; row++) {
    const offset = row * n;
    let sum = 0;
    for (let j = 0; j < n; j++) {
      // peaked logits so that rows differ from uniform, as trained attention does
      const e = Math.exp(4 * random() ** 3);
      attentions[offset + j] = e;
      sum += e;
    }
    for (let j = 0; j < n; j++) {
      attentions[offset + j]! /= sum;
      attentionGrads[offset + j] = (random() - 0.45) * 1e-2;
      attentionRelevance[offset + j] = (random() - 0.4) * 1e-3;
    }
  }
  return { attentions, attentionGrads, attentionRelevance };
}

/** An RGBA photo fixture: smooth gradients plus a bright disc, so the overlay has structure to blend with. */
export function syntheticPhoto(width: number, height: number): { width: number; height: number; data: Uint8ClampedArray<ArrayBuffer> } {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const inDisc = (x - width * 0.6) ** 2 + (y - height * 0.4) ** 2 < (0.2 * width) ** 2;
      data[i] = inDisc ? 230 : (255 * x) / width;
      data[i + 1] = inDisc ? 220 : (255 * y) / height;
      data[i + 2] = 80;
      data[i + 3] = 255;
    }
  }
  return { width, height, data };
}
