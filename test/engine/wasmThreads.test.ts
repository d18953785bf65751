// How many threads onnxruntime-web's WASM backend gets (src/engine/model/ort.ts): one core is left to the page,
// because ORT's pool threads spin after each run while the page explains and draws.
import { expect, test } from 'vitest';
import { wasmThreadCount } from '../../src/engine/model/ort';

test('one core is left to the page, at most 4 threads, at least 1', () => {
  expect([1, 2, 3, 4, 5, 8, 16].map((cores) => wasmThreadCount(cores, true))).toEqual([1, 1, 2, 3, 4, 4, 4]);
});

test('without cross-origin isolation (no SharedArrayBuffer) or a core count, one thread', () => {
  expect(wasmThreadCount(8, false)).toBe(1);
  expect(wasmThreadCount(0, true)).toBe(1);
  expect(wasmThreadCount(Number.NaN, true)).toBe(1);
});
