// onnxruntime-web's wasm binary for one build: from RUNTIME_CACHE, or downloaded once and stored there, as a Blob.
// Runs in a worker (runtimeBinaryWorker.ts) where the browser allows: receiving 14-27 MB of a response body costs the
// thread that reads it tens of milliseconds on a desktop, several times that on a phone. ORT then reads the Blob
// through an object URL (ort.ts), in its proxy worker on WASM: handing it the bytes instead would copy them there on
// the page's main thread (structured clone).
import { RUNTIME_CACHE } from './runtimeCache';

// Plain messages: the engine's error module would bring its English strings (~20 kB) into the worker.
export const describeFailure = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

export interface RuntimeBinaryRequest {
  /** The binary's URL (hashed asset). */
  url: string;
  /** Every binary URL of this app version: other entries in the cache (earlier versions) are deleted. */
  current: string[];
}

const WASM_TYPE = 'application/wasm';

/** The binary, or undefined when it can be neither read from the cache nor downloaded (ORT then fetches it itself,
 * and reports the failure). Without the Cache API (or when it fails) it is still returned, only not stored. */
export async function fetchRuntimeBinary({ url, current }: RuntimeBinaryRequest): Promise<Blob | undefined> {
  let cache: Cache | undefined;
  if (typeof caches !== 'undefined') {
    try {
      cache = await caches.open(RUNTIME_CACHE);
      const cached = await cache.match(url);
      if (cached) return await wasmBlob(cached);
    } catch (error) {
      console.warn(`[leaf-lens] ORT runtime cache unreadable (${describeFailure(error)})`);
      cache = undefined;
    }
  }
  let response: Response;
  try {
    response = await fetch(url);
  } catch {
    return undefined; // offline and not cached: ORT's own fetch reports it
  }
  if (!response.ok) return undefined;
  const bytes = await response.arrayBuffer();
  if (cache) {
    try {
      await cache.put(url, new Response(bytes, { headers: response.headers }));
      // Binaries of earlier app versions (other hashes) are no use any more.
      const keep = new Set(current);
      for (const request of await cache.keys()) if (!keep.has(request.url)) await cache.delete(request);
    } catch (error) {
      // Over quota or private mode: this visit runs; the next one downloads the runtime again.
      console.warn(`[leaf-lens] ORT runtime not stored for offline use (${describeFailure(error)})`);
    }
  }
  return new Blob([bytes], { type: WASM_TYPE });
}

/** Typed application/wasm whatever the server sent, so that ORT's streaming compile accepts its object URL. */
async function wasmBlob(response: Response): Promise<Blob> {
  const blob = await response.blob();
  return blob.type === WASM_TYPE ? blob : new Blob([blob], { type: WASM_TYPE });
}
