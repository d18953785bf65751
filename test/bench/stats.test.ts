import { expect, test } from 'vitest';
import { median, roundMs, slopePerStep, summarize } from '../../bench/lib/stats';

test('median of odd and even lists, input left unsorted', () => {
  const values = [5, 1, 3];
  expect(median(values)).toBe(3);
  expect(values).toEqual([5, 1, 3]);
  expect(median([4, 1, 3, 2])).toBe(2.5);
  expect(() => median([])).toThrow();
});

test('summary gives n, median, min, max, mean and refuses non-finite samples', () => {
  expect(summarize([2, 8, 4, 6])).toEqual({ n: 4, median: 5, min: 2, max: 8, mean: 5 });
  expect(() => summarize([1, NaN])).toThrow(/non-finite/);
});

test('slope per step detects growth and its absence', () => {
  expect(slopePerStep([10, 10, 10, 10])).toBe(0);
  expect(slopePerStep([0, 2, 4, 6, 8])).toBeCloseTo(2, 12);
  expect(slopePerStep([7])).toBe(0);
});

test('roundMs keeps 3 significant digits below 10 ms and one decimal above', () => {
  expect(roundMs(0.012345)).toBe(0.0123);
  expect(roundMs(123.456)).toBe(123.5);
});
