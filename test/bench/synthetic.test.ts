import { expect, test } from 'vitest';
import { DEIT_TINY_DIMS, syntheticPhoto, syntheticTensors } from '../../bench/lib/synthetic';

test('synthetic attentions are row-stochastic with the contract shape, and reproducible', () => {
  const dims = { ...DEIT_TINY_DIMS, layers: 2 };
  const t = syntheticTensors(dims, 3);
  const n = dims.tokens;
  expect(t.attentions.length).toBe(2 * dims.heads * n * n);
  for (const row of [0, 17, 2 * dims.heads * n - 1]) {
    let sum = 0;
    let max = 0;
    for (let j = 0; j < n; j++) {
      sum += t.attentions[row * n + j]!;
      max = Math.max(max, t.attentions[row * n + j]!);
    }
    expect(sum).toBeCloseTo(1, 5);
    expect(max).toBeGreaterThan(1.5 / n); // not uniform
  }
  expect(t.attentionGrads.some((v) => v < 0) && t.attentionGrads.some((v) => v > 0)).toBe(true);
  expect(syntheticTensors(dims, 3).attentionGrads).toEqual(t.attentionGrads);
});

test('synthetic photo is opaque RGBA of the asked size', () => {
  const p = syntheticPhoto(8, 4);
  expect(p.data.length).toBe(8 * 4 * 4);
  for (let i = 3; i < p.data.length; i += 4) expect(p.data[i]).toBe(255);
});
