// The engine's public entry point: the UI and the store import only from here.
export * from './types';
export { EngineError, isEngineError } from './errors';
export { createEngine, engineCachedOutputs, engineDevice, engineDiagnostics, memoryFileCache, DEFAULT_CACHE_NAME } from './engine';
export type { CachedOutputs, EngineDiagnostics } from './engine';
