import { expect, test } from 'vitest';
import { mergeBackend, type EndToEndPart, type StagesPart } from '../../bench/lib/merge';
import { summarize } from '../../bench/lib/stats';

const stages: StagesPart = {
  backend: 'webgpu', adapter: 'gpu', adapter_info: null, model_bytes: 1000, kernel_timing: 'timestamp-query', errors: [],
  stages: { forward: summarize([10, 12, 11]), 'forward+gradients': summarize([20, 25, 21]), 'wgsl:relevance': summarize([0.2]) },
};
const e2e: EndToEndPart = {
  backend: 'webgpu', errors: ['late error'],
  stages: { end_to_end: summarize([40, 50, 60]), 'kernels+draw': summarize([1, 2, 3]) },
  memory: { before: { js_heap_bytes: 1, ua_memory_bytes: null }, after: { js_heap_bytes: 1, ua_memory_bytes: null }, js_heap_growth_per_run_bytes: 0, samples: [1, 1] },
};

test('derived figures: ratio of medians and share of end-to-end', () => {
  const merged = mergeBackend(stages, e2e);
  expect(merged.forward_ms).toBe(11);
  expect(merged.explain_ms).toBe(21);
  expect(merged.explain_over_forward).toBeCloseTo(21 / 11, 12);
  expect(merged.kernels_ms).toBe(2);
  expect(merged.kernels_share).toBeCloseTo(2 / 50, 12);
  expect(merged.end_to_end_ms).toBe(50);
  expect(Object.keys(merged.stages)).toEqual(['forward', 'forward+gradients', 'wgsl:relevance', 'end_to_end', 'kernels+draw']);
  expect(merged.errors).toEqual(['late error']);
});

test('missing parts give nulls, not invented numbers; mismatched backends are refused', () => {
  const only = mergeBackend(stages, null);
  expect(only.end_to_end_ms).toBeNull();
  expect(only.kernels_share).toBeNull();
  expect(only.explain_over_forward).not.toBeNull();
  expect(() => mergeBackend(stages, { ...e2e, backend: 'wasm' })).toThrow();
  expect(() => mergeBackend(null, null)).toThrow();
});
