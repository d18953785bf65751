// The bench pages' engines: the app's own createEngine (model files checked as in the app, kept in memory, not in the
// Cache API), one per backend, and how reports name the backend each ran on.
import { createEngine, engineStages, memoryFileCache } from '../../src/engine/index';
import type { BackendName, Engine, EngineStages, WebGpuAdapterInfo } from '../../src/engine/index';
import type { AdapterReport } from '../lib/report';

export interface BenchEngine {
  engine: Engine;
  stages: EngineStages;
}

/** An engine on exactly `backend` (an engine that fell back to another backend is refused). */
export async function openBenchEngine(modelUrl: string, backend: BackendName): Promise<BenchEngine> {
  const engine = await createEngine(modelUrl, { backend, modelCache: memoryFileCache() });
  if (engine.backend !== backend) {
    engine.dispose();
    throw new Error(`asked for ${backend}, the engine opened ${engine.backend}`);
  }
  return { engine, stages: engineStages(engine) };
}

export function adapterReport(adapter: WebGpuAdapterInfo | null): AdapterReport | null {
  return adapter ? { ...adapter, features: [...adapter.features] } : null;
}

/** One line for tables: the WebGPU adapter, or the WASM build and its threads. */
export function adapterLabel(backend: BackendName, adapter: WebGpuAdapterInfo | null, wasmThreads: number): string {
  if (backend === 'wasm') return `CPU (onnxruntime-web WASM, SIMD, ${String(wasmThreads)} threads)`;
  return adapter ? `${adapter.description}${adapter.software ? ' (software WebGPU, correctness only)' : ''}` : 'no adapter';
}
