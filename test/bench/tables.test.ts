import { expect, test } from 'vitest';
import { mergeBackend } from '../../bench/lib/merge';
import { summarize } from '../../bench/lib/stats';
import { cpuPathTableMarkdown, kernelsShareTableMarkdown, orderedStages, stageTableMarkdown, summaryTableMarkdown } from '../../bench/lib/tables';

const backend = mergeBackend({
  backend: 'wasm', adapter: 'CPU', adapter_info: null, model_bytes: 42, kernel_timing: 'cpu', errors: [],
  stages: { 'zz-extra': summarize([1]), forward: summarize([12.345, 10]), decode: summarize([2]), 'wgsl-wall:relevance': summarize([3]) },
}, null);

test('stages come in reading order, unknown ones after, wall-time duplicates hidden', () => {
  expect(orderedStages([backend])).toEqual(['decode', 'forward', 'zz-extra']);
});

test('stage table shows median (min–max) per backend and a dash where a backend lacks the stage', () => {
  const other = { ...backend, backend: 'webgpu' as const, stages: { decode: summarize([5]) } };
  const table = stageTableMarkdown([backend, other]).split('\n');
  expect(table[0]).toBe('| stage (ms) | wasm median (min–max) | webgpu median (min–max) |');
  expect(table[3]).toBe('| forward | 11.2 (10–12.3) | – |');
});

test('summary table prints missing figures as dashes, not zeros', () => {
  const row = summaryTableMarkdown([backend]).split('\n')[2]!;
  expect(row).toContain('| wasm | CPU | 11.2 | – | – |');
  expect(row).toContain('| 42 |');
});

test('CPU path table: reference and fast medians of the same run, with the speed-up', () => {
  const wasm = mergeBackend({
    backend: 'wasm', adapter: 'CPU', adapter_info: null, model_bytes: 1, kernel_timing: 'cpu', errors: [],
    stages: { 'ts:relevance': summarize([12]), 'cpu:relevance': summarize([3]), 'ts:lrp': summarize([10]) },
  }, null);
  const lines = cpuPathTableMarkdown(wasm).split('\n');
  expect(lines[2]).toBe('| relevance | 12 | 3 | 4.0× |');
  expect(lines[3]).toBe('| lrp | 10 | – | – |');
});

test('kernels share table: one column per run, dashes for missing figures', () => {
  const wasm = mergeBackend({ backend: 'wasm', adapter: 'CPU', adapter_info: null, model_bytes: 1, kernel_timing: 'cpu', errors: [], stages: {} }, null);
  const lines = kernelsShareTableMarkdown([{ label: 'before', wasm }, { label: 'after', wasm }]).split('\n');
  expect(lines[0]).toBe('| WASM diagnosis (median) | before | after |');
  expect(lines.at(-1)).toBe('| kernels_share | – | – |');
});
