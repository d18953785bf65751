// For tests, benchmarks and evaluations, not for the UI: what an engine made by createEngine has inside (counters,
// cached outputs, its GPU device) and its stages one at a time.
import type { GraphKind } from './model/contract';
import { LeafLensEngine } from './engine';
import type { CachedOutputs } from './runCache';
import type { EngineStages } from './stages';
import type { Engine, PhotoHandle } from './types';

/** Counters for tests and the benchmark; not part of the UI's API. */
export interface EngineDiagnostics {
  forwardRuns: number;
  fullRuns: number;
  lrpRuns: number;
  cachedRuns: number;
  liveOutputTensors: number;
  deviceGeneration: number;
  usesF16: boolean;
  /** Graphs whose ORT session is open (or being created) on the current backend. */
  sessions: GraphKind[];
}

function own(engine: Engine): LeafLensEngine {
  if (!(engine instanceof LeafLensEngine)) throw new TypeError('not an engine from createEngine');
  return engine;
}

/** Counters (model runs, cached runs, live tensors) of an engine made by createEngine; for tests and benchmarks. */
export function engineDiagnostics(engine: Engine): EngineDiagnostics {
  return own(engine).diagnostics();
}

/** Model outputs cached for `photo`, downloaded to the CPU; for tests. */
export function engineCachedOutputs(engine: Engine, photo: PhotoHandle): Promise<CachedOutputs[]> {
  return own(engine).cachedOutputs(photo.id);
}

/** The stages of a diagnosis one at a time on this engine's backend and active head; for benchmarks and evaluations. */
export function engineStages(engine: Engine): EngineStages {
  return own(engine).stages();
}

/** The engine's own GPUDevice, or undefined on WASM; for tests that simulate device loss. */
export function engineDevice(engine: Engine): GPUDevice | undefined {
  return own(engine).runtime.current.gpu?.device;
}
