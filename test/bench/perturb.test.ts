import { expect, test } from 'vitest';
import {
  argmax, fillPatches, meanColour, normalizedAuc, randomOrder, removalOrder, removedCount,
} from '../../bench/lib/perturb';

test('removal order: most relevant first for positive, least first for negative, ties by index', () => {
  const map = [0.2, 0.9, 0.2, 0.5];
  expect(removalOrder(map, 'positive')).toEqual([1, 3, 0, 2]);
  expect(removalOrder(map, 'negative')).toEqual([0, 2, 3, 1]);
  expect(() => removalOrder([0, NaN], 'positive')).toThrow();
});

test('random order is a seeded permutation', () => {
  const a = randomOrder(196, 7);
  expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 196 }, (_, i) => i));
  expect(randomOrder(196, 7)).toEqual(a);
  expect(randomOrder(196, 8)).not.toEqual(a);
});

test('removed counts round to whole patches within range', () => {
  expect(removedCount(0.1, 196)).toBe(20);
  expect(removedCount(0.9, 196)).toBe(176);
  expect(removedCount(1.5, 196)).toBe(196);
});

test('fillPatches fills exactly the chosen patches in every channel', () => {
  const size = 4;
  const patch = 2;
  const pixels = Float32Array.from({ length: 3 * size * size }, (_, i) => i);
  const out = fillPatches(pixels, size, patch, [3], [-1, -2, -3]);
  // patch 3 of the 2×2 grid is the bottom-right 2×2 block
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const i = c * 16 + y * 4 + x;
        expect(out[i]).toBe(y >= 2 && x >= 2 ? -(c + 1) : i);
      }
    }
  }
  expect(pixels[15]).toBe(15); // input untouched
  expect(() => fillPatches(pixels, size, patch, [4], [0, 0, 0])).toThrow();
});

test('mean colour per channel', () => {
  const pixels = new Float32Array(12);
  pixels.fill(0.25, 0, 4);
  pixels.fill(0.5, 4, 8);
  pixels.set([0, 1, 0, 1], 8);
  expect(meanColour(pixels, 2)).toEqual([0.25, 0.5, 0.5]);
});

test('normalised AUC is the mean height of the trapezoid curve', () => {
  const xs = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
  expect(normalizedAuc(xs, xs.map(() => 0.7))).toBeCloseTo(0.7, 12);
  // linear from 1 to 0: mean height 0.5
  expect(normalizedAuc(xs, xs.map((x) => (0.9 - x) / 0.8))).toBeCloseTo(0.5, 12);
  expect(normalizedAuc([0, 1, 2], [0, 1, 0])).toBeCloseTo(0.5, 12);
  expect(() => normalizedAuc([0, 0], [1, 1])).toThrow();
});

test('argmax returns the first maximum', () => {
  expect(argmax([1, 3, 3, 2])).toBe(1);
});
