// Loads onnxruntime-web with its WASM files served from this app (never a CDN), so it works offline.
// Vite's `?url` turns each file into a served path in dev and a hashed, precacheable asset in a build.
import asyncifyMjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import asyncifyWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import plainMjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.mjs?url';
import plainWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import type * as OrtModule from 'onnxruntime-web';
import type { BackendName } from '../types';
import { EngineError } from '../errors';

export type Ort = typeof OrtModule;

const loaded = new Map<BackendName, Promise<Ort>>();

function absolute(url: string): string {
  return new URL(url, document.baseURI).href;
}

/** The WebGPU build (it also runs the 'wasm' EP) or the smaller WASM-only build; each is imported once. */
export function loadOrt(backend: BackendName): Promise<Ort> {
  let ort = loaded.get(backend);
  if (!ort) {
    ort = importOrt(backend);
    loaded.set(backend, ort);
    ort.catch(() => loaded.delete(backend));
  }
  return ort;
}

async function importOrt(backend: BackendName): Promise<Ort> {
  let ort: Ort;
  try {
    ort = backend === 'webgpu' ? await import('onnxruntime-web/webgpu') : await import('onnxruntime-web/wasm');
  } catch (error) {
    throw new EngineError('backend-unavailable', `import onnxruntime-web (${backend}) failed: ${String(error)}`, undefined, { cause: error });
  }
  ort.env.wasm.wasmPaths = backend === 'webgpu'
    ? { mjs: absolute(asyncifyMjsUrl), wasm: absolute(asyncifyWasmUrl) }
    : { mjs: absolute(plainMjsUrl), wasm: absolute(plainWasmUrl) };
  // Threads need cross-origin isolation (vite.config sets COOP/COEP); without it ORT runs single-threaded.
  const cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency || 1 : 1;
  ort.env.wasm.numThreads = globalThis.crossOriginIsolated ? Math.max(1, Math.min(4, cores)) : 1;
  ort.env.logLevel = 'error';
  return ort;
}
