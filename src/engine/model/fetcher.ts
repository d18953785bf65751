// Downloads model files with progress, verifies size and sha256, and keeps them in a cache.
// A cache failure (quota, private mode, no Cache API) is logged and the download still counts.
import { EngineError, describeError, throwIfAborted } from '../errors';
import { nextTask } from '../nextTask';
import type { ModelFileCache, ModelFileSource } from '../types';
import { sha256OffMainThread } from './hashOffThread';
import type { ModelFileEntry } from './manifest';
import { sha256Hex } from './sha256';

export type { ModelFileCache, ModelFileSource };

export function memoryFileCache(): ModelFileCache {
  const entries = new Map<string, Uint8Array>();
  return {
    // A copy: verification may move the bytes it is given to a worker (hashOffThread.ts), and the kept ones
    // must stay whole for the next engine.
    async match(key) { return entries.get(key)?.slice(); },
    async put(key, bytes) { entries.set(key, bytes); },
    async delete(key) { entries.delete(key); },
  };
}

/** The Cache API (persists across visits, works offline); falls back to memory where it is missing. */
export function cacheApiFileCache(cacheName: string): ModelFileCache {
  if (typeof caches === 'undefined') {
    console.warn(`[leaf-lens] Cache API unavailable; model files are kept in memory only`);
    return memoryFileCache();
  }
  let opened: Promise<Cache> | undefined;
  const open = () => (opened ??= caches.open(cacheName));
  return {
    async match(key) {
      try {
        const response = await (await open()).match(key);
        return response ? new Uint8Array(await response.arrayBuffer()) : undefined;
      } catch (error) {
        console.warn(`[leaf-lens] model cache read failed for ${key}: ${describeError(error)}`);
        return undefined;
      }
    },
    async put(key, bytes) {
      try {
        const body = new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' });
        await (await open()).put(key, new Response(body, { headers: { 'Content-Length': String(bytes.byteLength) } }));
      } catch (error) {
        // Running over quota must not stop the diagnosis: the bytes are already in memory.
        console.warn(`[leaf-lens] model cache write failed for ${key}: ${describeError(error)}`);
      }
    },
    async delete(key) {
      try { await (await open()).delete(key); } catch { /* nothing to clean up */ }
    },
  };
}

export { sha256Hex };

/** Opens one model file as a Response; throws model-missing (with the reason) when it cannot be had. */
export type FileOpener = (url: string, what: string, signal?: AbortSignal) => Promise<Response>;

/** Over the network. */
export const networkOpener: FileOpener = async (url, what, signal) => {
  let response: Response;
  try {
    response = await fetch(url, { signal, cache: 'no-cache' });
  } catch (error) {
    if (signal?.aborted) throw new EngineError('aborted', `${what}: download aborted`);
    throw new EngineError('model-missing', `${what}: fetch ${url} failed (${describeError(error)}); offline and not cached?`, undefined, { cause: error });
  }
  return checkResponse(response, url, what);
};

/** From a file source given to the engine; `folderUrl` (absolute, ending in '/') names the folder, so a file's
 * path is its URL less that prefix. Cache keys stay URLs, as for a downloaded model. */
export function sourceOpener(source: ModelFileSource, folderUrl: string): FileOpener {
  return async (url, what, signal) => {
    if (!url.startsWith(folderUrl)) throw new EngineError('model-missing', `${what}: ${url} is outside the model folder ${folderUrl}`);
    const path = decodeURIComponent(url.slice(folderUrl.length).split(/[?#]/)[0] ?? '');
    let answer: Awaited<ReturnType<ModelFileSource>>;
    try {
      answer = await source(path, signal);
    } catch (error) {
      if (signal?.aborted) throw new EngineError('aborted', `${what}: reading aborted`);
      throw new EngineError('model-missing', `${what}: reading ${path} from the model folder failed (${describeError(error)})`, undefined, { cause: error });
    }
    if (answer === undefined) throw new EngineError('model-missing', `${what}: ${path} is not in the model folder`);
    if (answer instanceof Response) return checkResponse(answer, url, what);
    const body = answer instanceof Uint8Array ? new Blob([answer as Uint8Array<ArrayBuffer>]) : answer;
    return new Response(body, { status: 200, headers: { 'Content-Length': String(body.size) } });
  };
}

function checkResponse(response: Response, url: string, what: string): Response {
  if (!response.ok) {
    throw new EngineError('model-missing', `${what}: GET ${url} → HTTP ${response.status} ${response.statusText}`);
  }
  // Dev servers and SPA hosts answer unknown paths with index.html: no model file is HTML, so it is missing.
  if ((response.headers.get('content-type') ?? '').includes('text/html')) {
    void response.body?.cancel();
    throw new EngineError('model-missing', `${what}: ${url} returned an HTML page (SPA fallback), not the file`);
  }
  return response;
}

function parseJson(text: string, url: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new EngineError('model-corrupt', `${what}: ${url} is not valid JSON (${describeError(error)})`, undefined, { cause: error });
  }
}

/** Fetches and parses a small JSON file (manifest, head). 404 → model-missing, bad JSON → model-corrupt.
 * With a cache, the last good copy is kept and used when the network is unreachable (offline use). */
export async function fetchJson(url: string, what: string, signal?: AbortSignal, cache?: ModelFileCache, open: FileOpener = networkOpener): Promise<unknown> {
  const key = `${url}#last-good`;
  // Known offline: the stored copy without a request that can only fail (and log an error).
  if (cache && typeof navigator !== 'undefined' && navigator.onLine === false) {
    const stored = await cache.match(key);
    if (stored) return parseJson(new TextDecoder().decode(stored), url, what);
  }
  let response: Response;
  try {
    response = await open(url, what, signal);
  } catch (error) {
    // Only an unreachable network falls back to the stored copy; a 404 means the model is gone.
    const offline = error instanceof EngineError && error.code === 'model-missing' && /fetch .* failed/.test(error.detail);
    const stored = offline && cache ? await cache.match(key) : undefined;
    if (!stored) throw error;
    return parseJson(new TextDecoder().decode(stored), url, what);
  }
  const text = await response.text();
  const json = parseJson(text, url, what);
  await cache?.put(key, new TextEncoder().encode(text));
  return json;
}

export interface DownloadProgress {
  file: string;
  loaded: number;
  total: number;
  fromCache: boolean;
}

export interface FetchVerifiedOptions {
  cache: ModelFileCache;
  onProgress?: (p: DownloadProgress) => void;
  onVerify?: (file: string) => void;
  signal?: AbortSignal;
  /** Where the bytes come from when they are not cached; the network by default. */
  open?: FileOpener;
}

/** Progress events per downloaded file, at most (plus the final one). */
export const PROGRESS_STEPS = 100;
const READ_SLICE_MS = 12;

async function readBody(response: Response, entry: ModelFileEntry, url: string, onChunk: (loaded: number) => void, signal?: AbortSignal): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array(await response.arrayBuffer());
  const out = new Uint8Array(entry.bytes);
  let loaded = 0;
  let overflow = 0;
  // Progress in steps of at least 1 % of the file (and at its end): a chunk per event would re-render the page
  // hundreds of times per file on a fast network, blocking the main thread for nothing a reader can see.
  const step = Math.max(1, Math.ceil(entry.bytes / PROGRESS_STEPS));
  let reported = 0;
  // When the bytes arrive faster than they are read (a fast network, a local server) every read resolves at once
  // and the whole file would be copied, with its progress renders, in one main-thread task: yield now and then.
  let sliceStart = performance.now();
  const reader = response.body.getReader();
  try {
    for (;;) {
      throwIfAborted(signal, `download ${entry.path}`);
      if (performance.now() - sliceStart > READ_SLICE_MS) {
        await nextTask();
        sliceStart = performance.now();
      }
      const { done, value } = await reader.read();
      if (done) break;
      const room = Math.max(0, entry.bytes - loaded);
      out.set(value.subarray(0, room), loaded);
      overflow += Math.max(0, value.byteLength - room);
      loaded += Math.min(room, value.byteLength);
      if (loaded - reported >= step || loaded >= entry.bytes) {
        reported = loaded;
        onChunk(loaded);
      }
    }
  } catch (error) {
    if (error instanceof EngineError) throw error;
    throw new EngineError('model-checksum', `${entry.path}: download from ${url} broke off after ${loaded} bytes (${describeError(error)})`, undefined, { cause: error });
  } finally {
    reader.releaseLock();
  }
  if (loaded !== entry.bytes || overflow > 0) {
    throw new EngineError('model-checksum', `${entry.path}: got ${loaded + overflow} bytes, manifest says ${entry.bytes} (truncated or replaced file)`);
  }
  return out;
}

/** Checks size and sha256 (large files in a worker); returns the bytes, which may have moved to a new view. */
async function verify(bytes: Uint8Array, entry: ModelFileEntry): Promise<Uint8Array> {
  if (bytes.byteLength !== entry.bytes) {
    throw new EngineError('model-checksum', `${entry.path}: ${bytes.byteLength} bytes, manifest says ${entry.bytes}`);
  }
  const { hex, bytes: checked } = await sha256OffMainThread(bytes);
  if (hex !== entry.sha256) {
    throw new EngineError('model-checksum', `${entry.path}: sha256 ${hex} != manifest ${entry.sha256}`);
  }
  return checked;
}

const inFlight = new Map<string, Promise<Uint8Array>>();

/** Downloads one listed file (or takes it from the cache), verifying size and sha256 either way.
 * Simultaneous requests for the same file share one download. */
export function fetchVerified(url: string, entry: ModelFileEntry, options: FetchVerifiedOptions): Promise<Uint8Array> {
  const key = `${url}#sha256=${entry.sha256}`;
  const running = inFlight.get(key);
  if (running) return running;
  const task = downloadAndVerify(url, key, entry, options).finally(() => inFlight.delete(key));
  inFlight.set(key, task);
  return task;
}

async function downloadAndVerify(url: string, key: string, entry: ModelFileEntry, options: FetchVerifiedOptions): Promise<Uint8Array> {
  const { cache, onProgress, onVerify, signal, open = networkOpener } = options;
  const cached = await cache.match(key);
  if (cached) {
    onVerify?.(entry.path);
    try {
      const checked = await verify(cached, entry);
      onProgress?.({ file: entry.path, loaded: entry.bytes, total: entry.bytes, fromCache: true });
      return checked;
    } catch {
      console.warn(`[leaf-lens] cached ${entry.path} failed verification; downloading again`);
      await cache.delete(key);
    }
  }
  throwIfAborted(signal, `download ${entry.path}`);
  const response = await open(url, entry.path, signal);
  onProgress?.({ file: entry.path, loaded: 0, total: entry.bytes, fromCache: false });
  const bytes = await readBody(response, entry, url, (loaded) => onProgress?.({ file: entry.path, loaded, total: entry.bytes, fromCache: false }), signal);
  onVerify?.(entry.path);
  const checked = await verify(bytes, entry);
  await cache.put(key, checked);
  return checked;
}
