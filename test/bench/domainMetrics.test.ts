// bench/lib/domainMetrics.ts (npm run eval:domain) against hand-computed cases.
import { expect, test } from 'vitest';
import { auroc, expectedCalibrationError, negativeLogLikelihood, refusedShare, sureSplit, thresholdAtRefusal } from '../../bench/lib/domainMetrics';

test('AUROC: separated, reversed, tied and interleaved scores', () => {
  expect(auroc([1, 2, 3], [4, 5])).toBe(1);
  expect(auroc([4, 5], [1, 2, 3])).toBe(0);
  expect(auroc([1, 1], [1, 1])).toBe(0.5);
  // Pairs (out > in): 2>1 yes, 2>3 no, 4>1 yes, 4>3 yes → 3 of 4.
  expect(auroc([1, 3], [2, 4])).toBe(0.75);
  expect(auroc([], [1])).toBeNull();
});

test('refusal: strictly above the threshold is refused; NaN is refused', () => {
  expect(refusedShare([1, 2, 3, 4], 2)).toBe(0.5);
  expect(refusedShare([1, Number.NaN], 5)).toBe(0.5);
  expect(refusedShare([], 1)).toBeNull();
});

test('thresholdAtRefusal keeps the refused share at or below the rate', () => {
  const scores = Array.from({ length: 130 }, (_, i) => i);
  const t = thresholdAtRefusal(scores, 0.05);
  expect(refusedShare(scores, t)!).toBeLessThanOrEqual(0.05);
  expect(refusedShare(scores, t)!).toBeGreaterThan(0.03);
});

test('ECE: calibrated is 0, overconfident is the gap', () => {
  const p = Array.from({ length: 10 }, () => [0.9, 0.1]);
  expect(expectedCalibrationError(p, [0, 0, 0, 0, 0, 0, 0, 0, 0, 1])).toBeCloseTo(0, 12);
  expect(expectedCalibrationError(p, [0, 0, 0, 0, 0, 1, 1, 1, 1, 1])).toBeCloseTo(0.4, 12);
  expect(negativeLogLikelihood([[0.5, 0.5]], [1])).toBeCloseTo(Math.log(2), 12);
});

test('sureSplit counts right answers among sure ones only', () => {
  const s = sureSplit([
    { outcome: 'sure', top: 0, label: 0 }, { outcome: 'sure', top: 1, label: 0 },
    { outcome: 'unsure', top: 2, label: 2 }, { outcome: 'not-bean-leaf', top: 0, label: 0 },
  ]);
  expect(s).toEqual({ sure: 2, right: 1, photos: 4, precision: 0.5, share: 0.5 });
});
