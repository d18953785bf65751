import { expect, test } from 'vitest';
import { accuracy, aggregateCurves, bestRollout, confidenceSummary, roundRobin, topPatchAgreement, type EvalCase, type PhotoRecord } from '../../bench/lib/evalAggregate';

const fractions = [0.1, 0.5, 0.9];
const cases: EvalCase[] = [
  { name: 'rollout (discard 0)', method: 'rollout', options: { discardRatio: 0 } },
  { name: 'rollout (discard 0.9)', method: 'rollout', options: { discardRatio: 0.9 } },
];

function record(path: string, label: number, predicted: number, a: boolean[], b: boolean[], top: Record<string, { wasm: number; webgpu?: number }> = {}): PhotoRecord {
  return {
    path, label, predicted,
    kept: { 'rollout (discard 0)': { positive: a, negative: [true, true, true] }, 'rollout (discard 0.9)': { positive: b, negative: [true, true, false] } },
    topPatch: top,
  };
}

test('curves are the share of photos keeping their class; AUCs follow', () => {
  const records = [
    record('p1', 0, 0, [true, false, false], [true, true, false]),
    record('p2', 1, 2, [true, true, false], [true, true, true]),
  ];
  const [r0, r9] = aggregateCurves(records, cases, fractions);
  expect(r0!.positive).toEqual([1, 0.5, 0]);
  expect(r0!.negative).toEqual([1, 1, 1]);
  expect(r0!.positive_auc).toBeCloseTo(0.5, 12); // trapezoid over [0.1,0.9] of 1, .5, 0 = 0.4 / 0.8
  expect(r9!.positive).toEqual([1, 1, 0.5]);
  expect(r9!.negative_auc).toBeCloseTo(0.75, 12); // 1, 1, 0 → (0.4 + 0.2) / 0.8
  // discard 0: gap 1 − 0.5 = 0.5; discard 0.9: gap 0.75 − 0.875 < 0
  expect(bestRollout([r0!, r9!])!.name).toBe('rollout (discard 0)');
  expect(accuracy(records)).toBe(0.5);
});

test('aggregation refuses mismatched curve lengths and cases with no data', () => {
  expect(() => aggregateCurves([record('p', 0, 0, [true], [true, true, true])], cases, fractions)).toThrow(/points/);
  expect(() => aggregateCurves([record('p', 0, 0, [true, true, true], [true, true, true])], [{ name: 'lrp', method: 'lrp', options: {} }], fractions)).toThrow(/no photo/);
});

test('top-patch agreement counts only photos where both paths ran', () => {
  const records = [
    record('a', 0, 0, [true, true, true], [true, true, true], { relevance: { wasm: 3, webgpu: 3 } }),
    record('b', 0, 0, [true, true, true], [true, true, true], { relevance: { wasm: 3, webgpu: 4 } }),
    record('c', 0, 0, [true, true, true], [true, true, true], { relevance: { wasm: 3 } }),
  ];
  expect(topPatchAgreement(records)).toEqual({ relevance: { same: 1, compared: 2 } });
});

test('round robin covers every group before repeating one', () => {
  expect(roundRobin([[1, 2, 3], [10, 20], [100]], 4)).toEqual([1, 10, 100, 2]);
  expect(roundRobin([[1], [2]], 10)).toEqual([1, 2]);
});

test("the app's sure / not-sure rule splits the photos, and each side's accuracy is counted", () => {
  const withProbabilities = (label: number, probabilities: number[]): PhotoRecord => ({ ...record('p', label, 0, [], []), probabilities });
  const summary = confidenceSummary([
    withProbabilities(0, [0.9, 0.05, 0.05]), // sure, right
    withProbabilities(1, [0.85, 0.1, 0.05]), // sure, wrong
    withProbabilities(2, [0.3, 0.3, 0.4]), // not sure (top < 0.6), right
    withProbabilities(0, [0.62, 0.33, 0.05]), // top ≥ 0.6 but entropy 0.76 > 0.7: not sure, right
    withProbabilities(-1, [1, 0, 0]), // unlabelled: not counted
    record('no-probabilities', 0, 0, [], []), // older record: not counted
  ]);
  expect(summary).toMatchObject({ photos: 4, sure: { photos: 2, right: 1 }, unsure: { photos: 2, right: 2 } });
  expect(summary!.rule).toMatch(/0\.6.*0\.7.*domain\.ts/);
  expect(confidenceSummary([record('p', 0, 0, [], [])])).toBeNull();
});
