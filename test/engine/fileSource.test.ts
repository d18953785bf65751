// The engine's file source (EngineOptions.files): a model folder served without the network, as the app does with a
// folder loaded from disk. The random-weights fixture folder is read from disk; `fetch` is stubbed to fail the test
// if anything still goes to the network. Every file is still checked against the manifest's sizes and sha256.
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { EngineError } from '../../src/engine/errors';
import { memoryFileCache } from '../../src/engine/model/fetcher';
import { loadDefaultHead, loadGraphFiles, loadManifest, type LoaderContext } from '../../src/engine/model/loader';
import type { ModelFileSource } from '../../src/engine/types';

const FOLDER = 'public/models/fixture-deit-micro';
// Simultaneous loads of one URL share a download (fetcher.ts), even across tests where a failed load leaves the
// others running: each test names its folder differently.
let BASE_URL = '';
let folderCount = 0;
const onDisk = (path: string) => new Uint8Array(readFileSync(`${FOLDER}/${path}`));

/** Serves the fixture folder; records each path asked for. `change` may replace a file's answer. */
function folderSource(change: (path: string, bytes: Uint8Array) => Awaited<ReturnType<ModelFileSource>> = (_p, b) => b) {
  const asked: string[] = [];
  const source: ModelFileSource = async (path) => {
    asked.push(path);
    let bytes: Uint8Array;
    try { bytes = onDisk(path); } catch { return undefined; }
    return change(path, bytes);
  };
  return { source, asked };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try { await promise; return 'accepted'; } catch (e) { if (e instanceof EngineError) return e.code; throw e; }
}

beforeEach(() => {
  BASE_URL = `https://leaf.test/local-model/fixture-${++folderCount}/`;
  vi.stubGlobal('fetch', vi.fn(async (url: string) => { throw new Error(`network used for ${url}`); }));
});
afterEach(() => { vi.unstubAllGlobals(); });

describe('a model folder from a file source', () => {
  test('manifest, head, graphs and weights come from the source, byte for byte, and nothing from the network', async () => {
    const { source, asked } = folderSource();
    const ctx: LoaderContext = { baseUrl: BASE_URL, cache: memoryFileCache(), files: source };
    const manifest = await loadManifest(ctx);
    const head = await loadDefaultHead(manifest, ctx);
    const files = await loadGraphFiles(manifest, ctx, false);
    expect(head.labels.length).toBeGreaterThan(1);
    expect(files.weights).toEqual(onDisk(files.weightsPath));
    expect(files.graphs.full.bytes).toEqual(onDisk(files.graphs.full.file));
    expect(files.graphs.forward.bytes).toEqual(onDisk(files.graphs.forward.file));
    // Paths are relative to the folder, never URLs.
    expect(asked).toContain('manifest.json');
    expect(asked).toContain(files.weightsPath);
    expect(asked.every((p) => !p.includes(':') && !p.startsWith('/'))).toBe(true);
    expect(fetch).not.toHaveBeenCalled();
  });

  test('a Response or a Blob answer is read as well as bytes', async () => {
    const asResponse = folderSource((path, bytes) => (path.endsWith('.json')
      ? new Response(new Blob([bytes as Uint8Array<ArrayBuffer>]), { status: 200 })
      : new Blob([bytes as Uint8Array<ArrayBuffer>])));
    const ctx: LoaderContext = { baseUrl: BASE_URL, cache: memoryFileCache(), files: asResponse.source };
    const manifest = await loadManifest(ctx);
    const files = await loadGraphFiles(manifest, ctx, false);
    expect(files.weights).toEqual(onDisk(files.weightsPath));
  });

  test('a file missing from the folder is model-missing and names the file', async () => {
    const manifest = await loadManifest({ baseUrl: BASE_URL, cache: memoryFileCache(), files: folderSource().source });
    const weights = manifest.external_data[manifest.graphs.full]!;
    const { source } = folderSource((path, bytes) => (path === weights ? undefined : bytes));
    const error = await loadGraphFiles(manifest, { baseUrl: BASE_URL, cache: memoryFileCache(), files: source }, false).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineError);
    expect((error as EngineError).code).toBe('model-missing');
    expect((error as EngineError).detail).toContain(weights);
  });

  test('a folder without manifest.json is model-missing; a 404 answer too', async () => {
    const none: ModelFileSource = async () => undefined;
    expect(await codeOf(loadManifest({ baseUrl: BASE_URL, cache: memoryFileCache(), files: none }))).toBe('model-missing');
    const notFound: ModelFileSource = async () => new Response('no', { status: 404, statusText: 'Not Found' });
    expect(await codeOf(loadManifest({ baseUrl: BASE_URL, cache: memoryFileCache(), files: notFound }))).toBe('model-missing');
  });

  test('a changed file in the folder fails its sha256 check', async () => {
    const manifest = await loadManifest({ baseUrl: BASE_URL, cache: memoryFileCache(), files: folderSource().source });
    const forward = manifest.graphs.forward;
    const { source } = folderSource((path, bytes) => {
      if (path !== forward) return bytes;
      const changed = bytes.slice();
      const middle = changed.length >> 1;
      changed[middle] = (changed[middle] ?? 0) ^ 0xff;
      return changed;
    });
    expect(await codeOf(loadGraphFiles(manifest, { baseUrl: BASE_URL, cache: memoryFileCache(), files: source }, false))).toBe('model-checksum');
  });

  test('verified files are cached under their URL: a second load does not read them from the source again', async () => {
    const cache = memoryFileCache();
    const first = folderSource();
    const manifest = await loadManifest({ baseUrl: BASE_URL, cache, files: first.source });
    await loadGraphFiles(manifest, { baseUrl: BASE_URL, cache, files: first.source }, false);
    const second = folderSource();
    const files = await loadGraphFiles(manifest, { baseUrl: BASE_URL, cache, files: second.source }, false);
    expect(second.asked).toEqual([]);
    expect(files.weights).toEqual(onDisk(files.weightsPath));
  });

  test('a source that throws is a model-missing error with its reason, not a crash', async () => {
    const broken: ModelFileSource = async () => { throw new Error('disk unplugged'); };
    const error = await loadManifest({ baseUrl: BASE_URL, cache: memoryFileCache(), files: broken }).catch((e: unknown) => e);
    expect((error as EngineError).code).toBe('model-missing');
    expect((error as EngineError).detail).toContain('disk unplugged');
  });
});
