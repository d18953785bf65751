// Verified downloads: size and sha256 checks, progress, cache reuse and repair, merged duplicate loads,
// non-fatal cache failures, and the offline copy of manifest/head JSON. `fetch` is a stub serving fixture bytes.
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { EngineError } from '../../src/engine/errors';
import { cacheApiFileCache, fetchJson, fetchVerified, memoryFileCache, PROGRESS_STEPS, sha256Hex } from '../../src/engine/model/fetcher';

const BYTES = new Uint8Array(Array.from({ length: 100_000 }, (_, i) => (i * 7919) & 0xff));
const ENTRY = { path: 'model.weights', bytes: BYTES.length, sha256: createHash('sha256').update(BYTES).digest('hex') };
const URL_ = 'https://example.test/models/m/model.weights';

/** Serves `body` in 4 chunks; counts calls. */
function stubFetch(body: Uint8Array | (() => Response) | Error) {
  const calls: string[] = [];
  vi.stubGlobal('fetch', vi.fn(async (url: string) => {
    calls.push(url);
    if (body instanceof Error) throw body;
    if (typeof body === 'function') return body();
    const quarter = Math.ceil(body.length / 4);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let o = 0; o < body.length; o += quarter) controller.enqueue(body.slice(o, o + quarter));
        controller.close();
      },
    });
    return new Response(stream, { status: 200, headers: { 'content-type': 'application/octet-stream' } });
  }));
  return calls;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try { await promise; return 'accepted'; } catch (e) { if (e instanceof EngineError) return e.code; throw e; }
}

afterEach(() => { vi.unstubAllGlobals(); vi.restoreAllMocks(); });

describe('fetchVerified', () => {
  test('sha256Hex matches node:crypto', async () => {
    expect(await sha256Hex(BYTES)).toBe(ENTRY.sha256);
  });

  test('downloads, reports monotonic progress ending at the total, then serves from the cache', async () => {
    const calls = stubFetch(BYTES);
    const cache = memoryFileCache();
    const progress: number[] = [];
    const first = await fetchVerified(URL_, ENTRY, { cache, onProgress: (p) => progress.push(p.loaded) });
    expect(first).toEqual(BYTES);
    expect(progress.at(-1)).toBe(BYTES.length);
    expect(progress.every((v, i) => i === 0 || v >= progress[i - 1]!)).toBe(true);
    const fromCache: boolean[] = [];
    expect(await fetchVerified(URL_, ENTRY, { cache, onProgress: (p) => fromCache.push(p.fromCache) })).toEqual(BYTES);
    expect(calls).toHaveLength(1);
    expect(fromCache).toEqual([true]);
  });

  test('a download in many small chunks reports progress in steps of ≥ 1 %, ending at the total', async () => {
    // 1000 chunks of 100 bytes: one event each would re-render the page 1000 times.
    vi.stubGlobal('fetch', vi.fn(async () => new Response(new ReadableStream<Uint8Array>({
      start(controller) {
        for (let o = 0; o < BYTES.length; o += 100) controller.enqueue(BYTES.slice(o, o + 100));
        controller.close();
      },
    }), { status: 200 })));
    const progress: number[] = [];
    expect(await fetchVerified(URL_, ENTRY, { cache: memoryFileCache(), onProgress: (p) => progress.push(p.loaded) })).toEqual(BYTES);
    expect(progress[0]).toBe(0); // the start
    expect(progress.at(-1)).toBe(BYTES.length);
    expect(progress.length).toBeLessThanOrEqual(PROGRESS_STEPS + 2);
    expect(progress.length).toBeGreaterThanOrEqual(PROGRESS_STEPS / 2);
    for (let i = 2; i < progress.length; i++) expect(progress[i]! - progress[i - 1]!).toBeGreaterThanOrEqual(BYTES.length / PROGRESS_STEPS);
  });

  test('simultaneous loads of one file share one download', async () => {
    const calls = stubFetch(BYTES);
    const cache = memoryFileCache();
    const [a, b] = await Promise.all([fetchVerified(URL_, ENTRY, { cache }), fetchVerified(URL_, ENTRY, { cache })]);
    expect(a).toBe(b);
    expect(calls).toHaveLength(1);
  });

  test('a Cache API that fails (over quota) is logged, not fatal', async () => {
    const calls = stubFetch(BYTES);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const quota = () => Promise.reject(new DOMException('over quota', 'QuotaExceededError'));
    vi.stubGlobal('caches', { open: async () => ({ match: async () => undefined, put: quota, delete: async () => true }) });
    const cache = cacheApiFileCache('leaf-lens-test');
    expect(await fetchVerified(URL_, ENTRY, { cache })).toEqual(BYTES);
    expect(warn.mock.calls.flat().join(' ')).toMatch(/cache write failed/);
    // Reads failing too: still downloads.
    vi.stubGlobal('caches', { open: quota });
    expect(await fetchVerified(URL_, ENTRY, { cache: cacheApiFileCache('leaf-lens-test-2') })).toEqual(BYTES);
    expect(calls).toHaveLength(2);
  });

  test('a damaged cached copy is thrown away and downloaded again', async () => {
    const calls = stubFetch(BYTES);
    const cache = memoryFileCache();
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    await cache.put(`${URL_}#sha256=${ENTRY.sha256}`, BYTES.map((b, i) => (i === 5 ? b ^ 1 : b)));
    expect(await fetchVerified(URL_, ENTRY, { cache })).toEqual(BYTES);
    expect(calls).toHaveLength(1);
    expect(await cache.match(`${URL_}#sha256=${ENTRY.sha256}`)).toEqual(BYTES);
  });

  test('short, long and altered downloads → model-checksum', async () => {
    stubFetch(BYTES.subarray(0, 1000));
    expect(await codeOf(fetchVerified(URL_, ENTRY, { cache: memoryFileCache() }))).toBe('model-checksum');
    stubFetch(new Uint8Array([...BYTES, 1, 2, 3]));
    expect(await codeOf(fetchVerified(URL_, ENTRY, { cache: memoryFileCache() }))).toBe('model-checksum');
    stubFetch(BYTES.map((b, i) => (i === 99_999 ? b ^ 0x80 : b)));
    expect(await codeOf(fetchVerified(URL_, ENTRY, { cache: memoryFileCache() }))).toBe('model-checksum');
  });

  test('404, an HTML fallback page and an unreachable network → model-missing; an abort → aborted', async () => {
    stubFetch(() => new Response('nope', { status: 404 }));
    expect(await codeOf(fetchVerified(URL_, ENTRY, { cache: memoryFileCache() }))).toBe('model-missing');
    stubFetch(() => new Response('<!doctype html><html></html>', { status: 200, headers: { 'content-type': 'text/html' } }));
    expect(await codeOf(fetchVerified(URL_, ENTRY, { cache: memoryFileCache() }))).toBe('model-missing');
    stubFetch(new TypeError('Failed to fetch'));
    expect(await codeOf(fetchVerified(URL_, ENTRY, { cache: memoryFileCache() }))).toBe('model-missing');
    const controller = new AbortController();
    controller.abort();
    stubFetch(BYTES);
    expect(await codeOf(fetchVerified(URL_, ENTRY, { cache: memoryFileCache(), signal: controller.signal }))).toBe('aborted');
  });
});

describe('fetchJson', () => {
  const MANIFEST_URL = 'https://example.test/models/m/manifest.json';
  test('keeps the last good copy and uses it only when the network is unreachable', async () => {
    const cache = memoryFileCache();
    stubFetch(() => new Response('{"a":1}', { status: 200, headers: { 'content-type': 'application/json' } }));
    expect(await fetchJson(MANIFEST_URL, 'manifest.json', undefined, cache)).toEqual({ a: 1 });
    stubFetch(new TypeError('Failed to fetch'));
    expect(await fetchJson(MANIFEST_URL, 'manifest.json', undefined, cache)).toEqual({ a: 1 });
    // A 404 is an answer, not an outage: the model is gone.
    stubFetch(() => new Response('gone', { status: 404 }));
    expect(await codeOf(fetchJson(MANIFEST_URL, 'manifest.json', undefined, cache))).toBe('model-missing');
    // Without a stored copy, offline is model-missing.
    stubFetch(new TypeError('Failed to fetch'));
    expect(await codeOf(fetchJson(MANIFEST_URL, 'manifest.json', undefined, memoryFileCache()))).toBe('model-missing');
  });
  test('while the browser says it is offline, the stored copy is used without a request', async () => {
    const cache = memoryFileCache();
    stubFetch(() => new Response('{"a":2}', { status: 200, headers: { 'content-type': 'application/json' } }));
    expect(await fetchJson(MANIFEST_URL, 'manifest.json', undefined, cache)).toEqual({ a: 2 });
    const calls = stubFetch(new TypeError('Failed to fetch'));
    vi.stubGlobal('navigator', { onLine: false });
    try {
      expect(await fetchJson(MANIFEST_URL, 'manifest.json', undefined, cache)).toEqual({ a: 2 });
      expect(calls).toHaveLength(0);
      // Nothing stored: it still asks the network (navigator.onLine can be wrong), and says what failed.
      expect(await codeOf(fetchJson(MANIFEST_URL, 'manifest.json', undefined, memoryFileCache()))).toBe('model-missing');
      expect(calls).toHaveLength(1);
    } finally {
      vi.unstubAllGlobals();
    }
  });
  test('invalid JSON → model-corrupt', async () => {
    stubFetch(() => new Response('{"a":', { status: 200, headers: { 'content-type': 'application/json' } }));
    expect(await codeOf(fetchJson(MANIFEST_URL, 'manifest.json'))).toBe('model-corrupt');
  });
});
