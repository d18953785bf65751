// Loads onnxruntime-web with its WASM files served from this app (never a CDN), so it works offline.
// Vite's `?url` turns each file into a served path in dev and a hashed, precacheable asset in a build.
//
// A device that runs the 'wasm' backend loads ORT's WASM-only build, and runs it in ORT's proxy worker: session
// creation (seconds of WebAssembly compilation and graph optimisation) and every model run then leave the page's
// main thread free (Lighthouse's total blocking time). A WebGPU device loads ORT's WebGPU build, which also runs
// the 'wasm' execution provider (on the main thread: the proxy cannot drive WebGPU), so a fall-back from WebGPU
// to WASM reuses it.
import asyncifyMjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import asyncifyWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import plainMjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.mjs?url';
import plainWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import type * as OrtModule from 'onnxruntime-web';
import { EngineError } from '../errors';
import type { BackendName } from '../types';

export type Ort = typeof OrtModule;

type BuildName = 'wasm' | 'webgpu';
const loaded = new Map<BuildName, Promise<Ort>>();

function absolute(url: string): string {
  return new URL(url, document.baseURI).href;
}

/** The ORT module for a backend, imported once per build. 'wasm' reuses the WebGPU build when that one is
 * already loaded (a fall-back after WebGPU failed, or a device lost). */
export function loadOrt(backend: BackendName = 'webgpu'): Promise<Ort> {
  const name: BuildName = backend === 'wasm' && loaded.has('webgpu') ? 'webgpu' : backend;
  let ort = loaded.get(name);
  if (!ort) {
    ort = importOrt(name);
    loaded.set(name, ort);
    ort.catch(() => loaded.delete(name));
  }
  return ort;
}

async function importOrt(name: BuildName): Promise<Ort> {
  let ort: Ort;
  try {
    ort = name === 'webgpu' ? await import('onnxruntime-web/webgpu') : await import('onnxruntime-web/wasm');
  } catch (error) {
    throw new EngineError('backend-unavailable', `import onnxruntime-web (${name} build) failed: ${String(error)}`, undefined, { cause: error });
  }
  ort.env.wasm.wasmPaths = name === 'webgpu'
    ? { mjs: absolute(asyncifyMjsUrl), wasm: absolute(asyncifyWasmUrl) }
    : { mjs: absolute(plainMjsUrl), wasm: absolute(plainWasmUrl) };
  // Threads need cross-origin isolation (vite.config sets COOP/COEP); without it ORT runs single-threaded.
  const cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency || 1 : 1;
  ort.env.wasm.numThreads = globalThis.crossOriginIsolated ? Math.max(1, Math.min(4, cores)) : 1;
  ort.env.logLevel = 'error';
  // The worker is ORT's own module started again (vite.config keeps that chunk free of the app's code).
  if (name === 'wasm' && typeof Worker !== 'undefined') ort.env.wasm.proxy = true;
  return ort;
}

/** Whether `backend`'s sessions on this module run in ORT's proxy worker (WASM build only). */
export function runsInWorker(ort: Ort, backend: BackendName): boolean {
  return backend === 'wasm' && ort.env.wasm.proxy === true;
}
