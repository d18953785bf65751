// The WASM path's fast explanation maths against the CPU reference (reference.ts stays the oracle).
// Tolerances: the fast path sums in float64 where the reference rounds each step to float32, so
// - normalised map values: max abs difference ≤ 1e-5 (of a [0, 1] range);
// - raw map and its min/max: ≤ 1e-5 relative to the largest |raw| value;
// - the most relevant patch is the same one whenever the reference's top two differ by more than that.
// Rollout with a discard fuses heads in the reference's float32 order, so it zeroes exactly the same entries.
import { describe, expect, test } from 'vitest';
import { explainOnCpu, type ExplainDims } from '../../../src/engine/explain';
import { explainOnCpuFast } from '../../../src/engine/explain/cpuFast';
import type { ExplainResult } from '../../../src/engine/explain/result';
import type { ExplainOptions } from '../../../src/engine/types';
import { fixtureDims, randomTensors } from './randomTensors';

const opts = (o: Partial<Required<ExplainOptions>> & Pick<ExplainOptions, 'method'>): Required<ExplainOptions> => ({
  targetClass: 0, startLayer: 0, headFusion: 'mean', discardRatio: 0, ...o,
});

const VALUE_TOLERANCE = 1e-5;
const RAW_TOLERANCE = 1e-5;

function expectClose(fast: ExplainResult, ref: ExplainResult): void {
  expect(fast.values.length).toBe(ref.values.length);
  let valueDiff = 0;
  let rawDiff = 0;
  let scale = 0;
  for (let p = 0; p < ref.values.length; p++) {
    valueDiff = Math.max(valueDiff, Math.abs(fast.values[p]! - ref.values[p]!));
    rawDiff = Math.max(rawDiff, Math.abs(fast.raw[p]! - ref.raw[p]!));
    scale = Math.max(scale, Math.abs(ref.raw[p]!));
  }
  expect(valueDiff).toBeLessThanOrEqual(VALUE_TOLERANCE);
  expect(rawDiff).toBeLessThanOrEqual(RAW_TOLERANCE * scale);
  expect(Math.abs(fast.min - ref.min)).toBeLessThanOrEqual(RAW_TOLERANCE * scale);
  expect(Math.abs(fast.max - ref.max)).toBeLessThanOrEqual(RAW_TOLERANCE * scale);
  const order = [...ref.values.keys()].sort((a, b) => ref.values[b]! - ref.values[a]!);
  if (ref.values[order[0]!]! - ref.values[order[1]!]! > VALUE_TOLERANCE) {
    expect(fast.values.indexOf(Math.max(...fast.values))).toBe(order[0]);
  }
}

const shapes: [string, ExplainDims][] = [
  ['DeiT-tiny (G 14, 1 prefix, L 12, H 3)', fixtureDims(14, 1, 12, 3)],
  ['distilled (G 4, 2 prefix, L 3, H 2)', fixtureDims(4, 2, 3, 2)],
  ['one block (G 3, L 1, H 4)', fixtureDims(3, 1, 1, 4)],
];

describe.each(shapes)('%s', (_name, dims) => {
  const tensors = randomTensors(dims, 11);
  const cases: Required<ExplainOptions>[] = [
    opts({ method: 'relevance' }),
    opts({ method: 'relevance', startLayer: dims.layers - 1 }),
    opts({ method: 'lrp', startLayer: Math.min(1, dims.layers - 1) }),
    opts({ method: 'lrp' }),
    opts({ method: 'attention' }),
    opts({ method: 'attention', headFusion: 'max' }),
    opts({ method: 'attention', headFusion: 'min' }),
    opts({ method: 'rollout' }),
    opts({ method: 'rollout', headFusion: 'max' }),
    opts({ method: 'rollout', headFusion: 'min', startLayer: dims.layers - 1 }),
    opts({ method: 'rollout', discardRatio: 0.5 }),
    opts({ method: 'rollout', discardRatio: 0.9, headFusion: 'max' }),
    opts({ method: 'rollout', discardRatio: 0.9, headFusion: 'min', startLayer: dims.layers - 1 }),
  ];
  test.each(cases.map((o) => [`${o.method}/${o.headFusion}/discard ${o.discardRatio}/start ${o.startLayer}`, o] as const))('%s matches the reference', (_label, o) => {
    expectClose(explainOnCpuFast(tensors, dims, o), explainOnCpu(tensors, dims, o));
  });
});

describe('same refusals as the reference', () => {
  const dims = fixtureDims(3, 1, 2, 2);
  const tensors = randomTensors(dims, 3);
  test('a missing tensor is named', () => {
    const { attentionGrads: _dropped, ...withoutGrads } = tensors;
    expect(() => explainOnCpuFast(withoutGrads, dims, opts({ method: 'relevance' }))).toThrow(/attentionGrads/);
    expect(() => explainOnCpu(withoutGrads, dims, opts({ method: 'relevance' }))).toThrow(/attentionGrads/);
  });
  test('a tensor of the wrong length is refused', () => {
    const short = { ...tensors, attentions: tensors.attentions.subarray(1) };
    expect(() => explainOnCpuFast(short, dims, opts({ method: 'rollout' }))).toThrow(RangeError);
  });
  test('bad options are refused', () => {
    expect(() => explainOnCpuFast(tensors, dims, opts({ method: 'rollout', discardRatio: 1 }))).toThrow(/discardRatio/);
    expect(() => explainOnCpuFast(tensors, dims, opts({ method: 'relevance', startLayer: 2 }))).toThrow(/startLayer/);
  });
  test('a flat map normalises to zeros, as in the reference', () => {
    const zeros = { ...tensors, attentionGrads: new Float32Array(tensors.attentions.length) };
    const fast = explainOnCpuFast(zeros, dims, opts({ method: 'relevance' }));
    expect(Array.from(fast.values)).toEqual(Array.from(explainOnCpu(zeros, dims, opts({ method: 'relevance' })).values));
    expect(fast.values.every((v) => v === 0)).toBe(true);
  });
});
