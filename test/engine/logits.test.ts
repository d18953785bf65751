import { expect, test } from 'vitest';
import { argmax, softmax } from '../../src/engine/model/logits';

test('softmax sums to 1, keeps the order, and survives logits that would overflow exp', () => {
  const p = softmax(new Float32Array([1000, 999, 990]));
  expect(Array.from(p).every(Number.isFinite)).toBe(true);
  expect(p[0]! + p[1]! + p[2]!).toBeCloseTo(1, 6);
  expect(p[0]! / p[1]!).toBeCloseTo(Math.E, 4);
  expect(Array.from(softmax([0, 0]))).toEqual([0.5, 0.5]);
});

test('argmax picks the first of equal maxima', () => {
  expect(argmax([0.2, 0.5, 0.5])).toBe(1);
  expect(argmax(new Float32Array([-3, -1, -2]))).toBe(1);
});
