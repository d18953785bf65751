// Loads onnxruntime-web with its WASM files served from this app (never a CDN), so it works offline.
// Vite's `?url` turns each file into a served path in dev and a hashed, precacheable asset in a build.
//
// One build serves both backends: ORT's WebGPU build also runs the 'wasm' (CPU) execution provider, as fast as
// the WASM-only build within measurement noise here, so the app ships and precaches one 27 MB binary instead of
// two (27 + 14 MB), and a device-loss fallback to WASM needs no second download.
import asyncifyMjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import asyncifyWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import type * as OrtModule from 'onnxruntime-web';
import { EngineError } from '../errors';
import type { BackendName } from '../types';

export type Ort = typeof OrtModule;

let loaded: Promise<Ort> | undefined;

function absolute(url: string): string {
  return new URL(url, document.baseURI).href;
}

/** The ORT module (imported once); both the 'webgpu' and the 'wasm' execution providers run on it.
 * The backend argument is accepted for callers written when each backend had its own build. */
export function loadOrt(_backend?: BackendName): Promise<Ort> {
  if (!loaded) {
    loaded = importOrt();
    loaded.catch(() => { loaded = undefined; });
  }
  return loaded;
}

async function importOrt(): Promise<Ort> {
  let ort: Ort;
  try {
    ort = await import('onnxruntime-web/webgpu');
  } catch (error) {
    throw new EngineError('backend-unavailable', `import onnxruntime-web failed: ${String(error)}`, undefined, { cause: error });
  }
  ort.env.wasm.wasmPaths = { mjs: absolute(asyncifyMjsUrl), wasm: absolute(asyncifyWasmUrl) };
  // Threads need cross-origin isolation (vite.config sets COOP/COEP); without it ORT runs single-threaded.
  const cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency || 1 : 1;
  ort.env.wasm.numThreads = globalThis.crossOriginIsolated ? Math.max(1, Math.min(4, cores)) : 1;
  ort.env.logLevel = 'error';
  return ort;
}
