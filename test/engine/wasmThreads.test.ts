// How many threads onnxruntime-web's WASM backend gets (src/engine/model/ort.ts): one per core, at most 4 (one
// core fewer was measured slower on a quiet machine, docs/benchmarks.md).
import { expect, test } from 'vitest';
import { wasmThreadCount } from '../../src/engine/model/ort';

test('one thread per core, at most 4, at least 1', () => {
  expect([1, 2, 3, 4, 5, 8, 16, 2.5].map((cores) => wasmThreadCount(cores, true))).toEqual([1, 2, 3, 4, 4, 4, 4, 2]);
});

test('without cross-origin isolation (no SharedArrayBuffer) or a core count, one thread', () => {
  expect(wasmThreadCount(8, false)).toBe(1);
  expect(wasmThreadCount(0, true)).toBe(1);
  expect(wasmThreadCount(Number.NaN, true)).toBe(1);
});
