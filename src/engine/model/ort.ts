// Loads onnxruntime-web with its WASM files served from this app (never a CDN), so it works offline.
// Vite's `?url` turns each file into a served path in dev and a hashed asset in a build.
//
// One runtime per device: a device that runs the 'wasm' backend loads ORT's WASM-only build (14 MB binary,
// ~3 MB brotli), and runs it in ORT's proxy worker: session creation (seconds of WebAssembly compilation and
// graph optimisation) and every model run then leave the page's main thread free (Lighthouse's total blocking
// time). A WebGPU device loads ORT's WebGPU build (27 MB, ~5 MB brotli), which also runs the 'wasm' execution
// provider (on the main thread: the proxy cannot drive WebGPU), so a fall-back from WebGPU to WASM reuses it and
// no device downloads both. The binary is kept in the Cache API (RUNTIME_CACHE) by the app itself (a worker), its one
// download; the service worker precaches neither binary, only their small glue files (vite.config.ts).
import asyncifyMjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import asyncifyWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import plainMjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.mjs?url';
import plainWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import type * as OrtModule from 'onnxruntime-web';
import { EngineError, describeError } from '../errors';
import type { BackendName } from '../types';
import { askWorker } from './offThread';
import { fetchRuntimeBinary, type RuntimeBinaryRequest } from './runtimeBinary';
import type { RuntimeBinaryReply } from './runtimeBinaryWorker';
import { RUNTIME_CACHE } from './runtimeCache';

export type Ort = typeof OrtModule;
export { RUNTIME_CACHE };

type BuildName = 'wasm' | 'webgpu';

/** Which ORT build a backend loads and the files it needs. */
export interface OrtBuild {
  name: BuildName;
  mjs: string;
  wasm: string;
}

export function ortBuildFor(name: BuildName): OrtBuild {
  return name === 'webgpu'
    ? { name, mjs: absolute(asyncifyMjsUrl), wasm: absolute(asyncifyWasmUrl) }
    : { name, mjs: absolute(plainMjsUrl), wasm: absolute(plainWasmUrl) };
}

const loaded = new Map<BuildName, Promise<Ort>>();

function absolute(url: string): string {
  return new URL(url, typeof document !== 'undefined' ? document.baseURI : globalThis.location?.href).href;
}

/** The ORT module for a backend, imported once per build. 'wasm' reuses the WebGPU build when that one is
 * already loaded (a fall-back after WebGPU failed, or a device lost), instead of downloading a second runtime. */
export function loadOrt(backend: BackendName = 'webgpu'): Promise<Ort> {
  const name: BuildName = backend === 'wasm' && loaded.has('webgpu') ? 'webgpu' : backend;
  let ort = loaded.get(name);
  if (!ort) {
    ort = importOrt(ortBuildFor(name));
    loaded.set(name, ort);
    ort.catch(() => loaded.delete(name));
  }
  return ort;
}

async function importOrt(build: OrtBuild): Promise<Ort> {
  let ort: Ort;
  try {
    ort = build.name === 'webgpu' ? await import('onnxruntime-web/webgpu') : await import('onnxruntime-web/wasm');
  } catch (error) {
    throw new EngineError('backend-unavailable', `import onnxruntime-web (${build.name} build) failed: ${String(error)}`, undefined, { cause: error });
  }
  // ORT reads the binary through an object URL of the cached Blob (kept for the page's life: ORT may start its
  // runtime again after a device loss); without one it fetches build.wasm itself (the service worker's route).
  const binary = await runtimeBinary(build);
  ort.env.wasm.wasmPaths = { mjs: build.mjs, wasm: binary ? URL.createObjectURL(binary) : build.wasm };
  const cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency || 1 : 1;
  ort.env.wasm.numThreads = wasmThreadCount(cores, globalThis.crossOriginIsolated === true);
  ort.env.logLevel = 'error';
  // The worker is ORT's own module started again (vite.config keeps that chunk free of the app's code).
  if (build.name === 'wasm' && typeof Worker !== 'undefined') ort.env.wasm.proxy = true;
  return ort;
}

/**
 * ORT's WASM threads on a device with `cores` logical cores: one per core, at most 4. onnxruntime-web runs its
 * sessions on a global thread pool whose threads spin (2^20 polls) after each parallel section and each run before
 * they sleep, and its WASM build offers no way to stop that (`session.intra_op.allow_spinning` and
 * `session.force_spinning_stop` act on per-session pools only, which it disables). One core fewer for ORT was
 * measured (docs/benchmarks.md, "CPU path on WASM"; `npm run bench -- --cores N`): on a busy 2-core machine one
 * thread halved every stage, on a quiet one two threads were faster in every stage (end to end 205 vs 329 ms,
 * kernels + draw 5.6 vs 8.7 ms), so each core gets a thread. Threads need cross-origin isolation (COOP/COEP:
 * vite.config, deploy/nginx.conf.template); without it ORT runs single-threaded.
 */
export function wasmThreadCount(cores: number, crossOriginIsolated: boolean): number {
  if (!crossOriginIsolated || !Number.isFinite(cores)) return 1;
  return Math.max(1, Math.min(4, Math.floor(cores)));
}

/** Whether `backend`'s sessions on this module run in ORT's proxy worker (WASM build only). */
export function runsInWorker(ort: Ort, backend: BackendName): boolean {
  return backend === 'wasm' && ort.env.wasm.proxy === true;
}

/** The build's wasm binary from RUNTIME_CACHE, or downloaded once and stored there, read in a worker where the
 * browser allows (runtimeBinary.ts). */
async function runtimeBinary(build: OrtBuild): Promise<Blob | undefined> {
  const request: RuntimeBinaryRequest = { url: build.wasm, current: (['webgpu', 'wasm'] as const).map((b) => ortBuildFor(b).wasm) };
  const reply = await askWorker<RuntimeBinaryReply>(
    () => new Worker(new URL('./runtimeBinaryWorker.ts', import.meta.url), { type: 'module', name: 'leaf-lens-ort-binary' }),
    request,
  ).catch((error: unknown) => ({ kind: 'failed', message: describeError(error) }) as const);
  if (reply?.kind === 'binary') return reply.blob;
  if (reply?.kind === 'failed') console.warn(`[leaf-lens] ORT runtime worker failed (${reply.message}); reading it on the page`);
  return fetchRuntimeBinary(request);
}
