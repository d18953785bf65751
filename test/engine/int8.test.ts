// The int8 download of the weights (docs/model-contract.md, "int8 weights"): the shipped model's layout passes,
// the rebuilt float32/float16 weights stay within the quantisation step of the exported ones, broken layouts are
// refused, and the loader downloads and caches the int8 file, not the weights it rebuilds.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { EngineError } from '../../src/engine/errors';
import { memoryFileCache } from '../../src/engine/model/fetcher';
import { float16Bits, rebuildWeights, validateInt8Layout, type Int8Layout } from '../../src/engine/model/int8';
import { loadGraphFile, loadGraphFiles } from '../../src/engine/model/loader';
import { validateManifest, type Manifest } from '../../src/engine/model/manifest';

const DIR = join(process.cwd(), 'public/models/deit-tiny-beans');
const read = (file: string) => new Uint8Array(readFileSync(join(DIR, file)));
const manifest: Manifest = validateManifest(JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')));
const layoutJson = () => JSON.parse(readFileSync(join(DIR, 'model.int8.json'), 'utf8')) as Int8Layout;
const blob = read('model.int8.weights');

/** The weights as loaded: bytes, or a Blob when a worker rebuilt them (in the browser). */
async function bytesOf(weights: Uint8Array | Blob): Promise<Uint8Array> {
  return weights instanceof Blob ? new Uint8Array(await weights.arrayBuffer()) : weights;
}

function codeOf(fn: () => unknown): string {
  try { fn(); } catch (error) { if (error instanceof EngineError) return error.code; throw error; }
  return 'accepted';
}

/** float16 bits → number (for comparisons only). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

describe('float16Bits (round to nearest even, as numpy astype(float16))', () => {
  test.each([
    [1, 0x3c00], [-2, 0xc000], [0, 0], [65504, 0x7bff], [65520, 0x7c00], [1e9, 0x7c00], [Infinity, 0x7c00],
    [2 ** -24, 1], [2 ** -25, 0], [3 * 2 ** -25, 2], [2 ** -14, 0x0400], [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02],
    [0.1, 0x2e66], [-0.000123, 0x8808],
  ])('%s → %s', (value, bits) => {
    expect(float16Bits(value)).toBe(bits);
  });
  test('NaN stays NaN', () => {
    expect(float16Bits(NaN) & 0x7c00).toBe(0x7c00);
    expect(float16Bits(NaN) & 0x3ff).not.toBe(0);
  });
  test('every value lands on the nearest half', () => {
    for (let i = 0; i < 20000; i++) {
      // A float32 input (what the rebuild converts), so "nearest" is exact, not after a double rounding.
      const v = Math.fround((Math.random() - 0.5) * 2 ** (Math.random() * 40 - 25));
      const h = float16Bits(v);
      const err = Math.abs(halfToFloat(h) - v);
      // The neighbours on the half grid (same sign, one step either way) are no closer.
      const neighbours = [h + 1, h - 1].filter((n) => (n & 0x7fff) !== 0x7fff && (n & 0x8000) === (h & 0x8000));
      for (const n of neighbours) expect(Math.abs(halfToFloat(n) - v)).toBeGreaterThanOrEqual(err);
    }
  });
});

describe('the shipped model\'s int8 weights', () => {
  const layout = validateInt8Layout(layoutJson(), manifest);

  test('are a quarter of the float32 download', () => {
    expect(blob.byteLength).toBe(layout.bytes);
    expect(blob.byteLength).toBeLessThan(0.3 * read('model.weights').byteLength);
    expect(layout.tensors.filter((t) => t.encoding === 'int8').length).toBeGreaterThanOrEqual(manifest.layers * 4);
  });

  test('rebuild model.weights within half a quantisation step of the exported float32 weights', () => {
    const rebuilt = rebuildWeights(blob, layout, 'model.weights');
    const original = read('model.weights');
    expect(rebuilt.byteLength).toBe(original.byteLength);
    const a = new Float32Array(rebuilt.buffer);
    const b = new Float32Array(original.buffer, original.byteOffset, original.byteLength / 4);
    const scales = new DataView(blob.buffer, blob.byteOffset);
    for (const t of layout.tensors) {
      const start = t.targets['model.weights']!.offset / 4;
      const count = t.shape.reduce((x, y) => x * y, 1);
      let bound = 0;
      if (t.encoding === 'int8') {
        for (let c = 0; c < t.shape[t.axis!]!; c++) bound = Math.max(bound, scales.getFloat32(t.scales! + 4 * c, true));
        bound = bound / 2 * 1.0001;
      }
      let worst = 0;
      for (let i = start; i < start + count; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
      expect(worst, t.name).toBeLessThanOrEqual(bound);
    }
  });

  test('rebuild model.fp16.weights: the float16 of the rebuilt float32, close to the exported float16', { timeout: 120_000 }, () => {
    const half = rebuildWeights(blob, layout, 'model.fp16.weights');
    const full = new Float32Array(rebuildWeights(blob, layout, 'model.weights').buffer);
    const exported = read('model.fp16.weights');
    expect(half.byteLength).toBe(exported.byteLength);
    const h = new Uint16Array(half.buffer);
    const e = new Uint16Array(exported.buffer, exported.byteOffset, exported.byteLength / 2);
    expect(h.length).toBe(full.length);
    const asFloat = Float32Array.from({ length: 65536 }, (_, bits) => halfToFloat(bits));
    let worst = 0;
    let differing = 0;
    for (let i = 0; i < h.length; i++) {
      if (h[i] !== float16Bits(full[i]!)) differing += 1;
      const d = Math.abs(asFloat[h[i]!]! - asFloat[e[i]!]!);
      if (d > worst) worst = d;
    }
    expect(differing).toBe(0);
    expect(worst).toBeLessThan(0.01);
  });

  type Patch = (l: Int8Layout & Record<string, unknown>) => void;
  const broken: [string, Patch][] = [
    ['another format', (l) => { l.format = 'gguf'; }],
    ['a newer version', (l) => { l.version = 2; }],
    ['no tensors', (l) => { delete (l as Record<string, unknown>).tensors; }],
    ['a gap in a target', (l) => { l.tensors.splice(3, 1); }],
    ['an overlap in a target', (l) => { l.tensors[2]!.targets['model.weights']!.offset -= 4; }],
    ['data beyond the file', (l) => { l.tensors.at(-1)!.offset = l.bytes; }],
    ['scales beyond the file', (l) => { const t = l.tensors.find((x) => x.encoding === 'int8')!; t.scales = l.bytes; }],
    ['an unknown encoding', (l) => { l.tensors[0]!.encoding = 'int4' as 'int8'; }],
    ['a target that is no weights file', (l) => { l.targets['evil.bin'] = { bytes: 4, dtype: 'float32' }; }],
    ['a target of the wrong size', (l) => { l.targets['model.weights']!.bytes += 4; }],
    ['another file than the manifest names', (l) => { l.file = 'other.weights'; }],
  ];
  test.each(broken)('a layout with %s is refused (model-contract)', (_name, patch) => {
    const l = layoutJson() as Int8Layout & Record<string, unknown>;
    patch(l);
    expect(codeOf(() => validateInt8Layout(l, manifest))).toBe('model-contract');
  });

  // Two float32 tensors of 4 values in a weights file, the second at `second` (the exporter aligns tensors to 64 bytes).
  const paddedPair = (second: number) => {
    const files = [{ path: 'model.int8.weights', bytes: 32, sha256: '0'.repeat(64) }, { path: 'model.weights', bytes: second + 16, sha256: '0'.repeat(64) }];
    const small = { ...manifest, files, external_data: { 'model.onnx': 'model.weights' } } as Manifest;
    const tensor = (name: string, offset: number, at: number) => ({ name, shape: [4], encoding: 'float32', offset, targets: { 'model.weights': { offset: at, dtype: 'float32' } } });
    const layout = { format: layoutJson().format, version: layoutJson().version, file: 'model.int8.weights', bytes: 32, source: 'model.weights',
      targets: { 'model.weights': { bytes: second + 16, dtype: 'float32' } }, tensors: [tensor('a', 0, 0), tensor('b', 16, second)] };
    return { small, layout };
  };

  test('the weights file\'s alignment padding is accepted and rebuilt as zeros; other gaps are refused', () => {
    const { small, layout } = paddedPair(64);
    const values = new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]).buffer);
    const rebuilt = new Float32Array(rebuildWeights(values, validateInt8Layout(layout, small), 'model.weights').buffer);
    expect(Array.from(rebuilt.subarray(0, 4))).toEqual([1, 2, 3, 4]);
    expect(Array.from(rebuilt.subarray(4, 16))).toEqual(new Array(12).fill(0));
    expect(Array.from(rebuilt.subarray(16))).toEqual([5, 6, 7, 8]);
    for (const second of [32, 128]) { // a gap before an unaligned tensor; a gap as long as the alignment
      const bad = paddedPair(second);
      expect(codeOf(() => validateInt8Layout(bad.layout, bad.small))).toBe('model-contract');
    }
  });

  test('a manifest naming an unlisted int8 file is refused', () => {
    const m = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    m.weights_int8 = { file: 'missing.weights', layout: 'model.int8.json' };
    expect(codeOf(() => validateManifest(m))).toBe('model-contract');
  });
});

describe('loadGraphFiles with an int8 download', () => {
  afterEach(() => vi.unstubAllGlobals());

  test('downloads and caches the int8 file and layout, never model.weights, and hands ORT the rebuilt weights', { timeout: 120_000 }, async () => {
    const requested: string[] = [];
    vi.stubGlobal('fetch', vi.fn(async (url: string) => {
      const file = new URL(url).pathname.split('/').pop()!;
      requested.push(file);
      return new Response(read(file), { status: 200, headers: { 'content-type': 'application/octet-stream' } });
    }));
    const stored = new Map<string, number>();
    const memory = memoryFileCache();
    const cache = { ...memory, put: async (key: string, bytes: Uint8Array) => { stored.set(key.split('#')[0]!.split('/').pop()!, bytes.byteLength); await memory.put(key, bytes); } };
    const files = await loadGraphFiles(manifest, { baseUrl: 'https://leaf.test/models/deit-tiny-beans/', cache }, false);
    // The lrp graph is not on the way to the first diagnosis: named, fetched later (loadGraphFile).
    expect(requested.sort()).toEqual(['model.forward.onnx', 'model.int8.json', 'model.int8.weights', 'model.onnx']);
    expect(files.lrpFile).toBe('model.lrp.onnx');
    expect([...stored.keys()].sort()).toEqual(requested);
    expect(stored.get('model.int8.weights')).toBe(blob.byteLength);
    expect(files.weightsPath).toBe('model.weights');
    // Buffer.equals: a deep toEqual over 22 M array elements takes minutes.
    const expected = rebuildWeights(blob, validateInt8Layout(layoutJson(), manifest), 'model.weights');
    const weights = await bytesOf(files.weights);
    expect(Buffer.from(weights.buffer, weights.byteOffset, weights.byteLength).equals(Buffer.from(expected.buffer))).toBe(true);
    const downloaded = requested.reduce((sum, f) => sum + read(f).byteLength, 0);
    expect(files.totalBytes).toBe(downloaded + read('model.lrp.onnx').byteLength);
    const lrp = await loadGraphFile(manifest, { baseUrl: 'https://leaf.test/models/deit-tiny-beans/', cache }, files.lrpFile!);
    expect(requested.at(-1)).toBe('model.lrp.onnx');
    expect(Buffer.from(lrp.bytes).equals(read('model.lrp.onnx'))).toBe(true);
    expect(stored.has('model.lrp.onnx')).toBe(true);
    requested.length = 0;

    // fp16: the same int8 file (now from the cache), rebuilt as float16 for the fp16 graphs.
    const half = await loadGraphFiles(manifest, { baseUrl: 'https://leaf.test/models/deit-tiny-beans/', cache }, true);
    expect(requested.sort()).toEqual(['model.forward.fp16.onnx', 'model.fp16.onnx']);
    expect(half.lrpFile).toBe('model.lrp.fp16.onnx');
    expect(half.weightsPath).toBe('model.fp16.weights');
    expect((await bytesOf(half.weights)).byteLength).toBe(read('model.fp16.weights').byteLength);
  });
});
