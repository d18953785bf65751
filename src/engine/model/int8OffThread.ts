// The int8 weights rebuilt in a worker (int8Worker.ts): 22 MB of float32 for the shipped model, hundreds of
// milliseconds of a frozen page on a phone when done on the main thread. The int8 bytes are copied there (the
// caller's array may be shared by other loads); the rebuilt weights come back as a Blob, which ORT reads itself
// (in its proxy worker on WASM) and which passes between threads without copying its bytes. Without module
// workers the page rebuilds them itself.
import { EngineError } from '../errors';
import type { EngineErrorCode } from '../types';
import { rebuildWeights, type Int8Layout } from './int8';
import { askWorker, type WorkerReady } from './offThread';

export interface RebuildRequest { blob: Uint8Array; layout: Int8Layout; target: string }
export type RebuildReply =
  | WorkerReady
  | { kind: 'weights'; weights: Blob }
  | { kind: 'failed'; code: EngineErrorCode; detail: string };

/** rebuildWeights(blob, layout, target), off the main thread where the browser allows. */
export async function rebuildWeightsOffMainThread(blob: Uint8Array, layout: Int8Layout, target: string): Promise<Uint8Array | Blob> {
  const reply = await askWorker<RebuildReply>(
    () => new Worker(new URL('./int8Worker.ts', import.meta.url), { type: 'module', name: 'leaf-lens-int8' }),
    { blob, layout, target } satisfies RebuildRequest,
  );
  if (!reply) return rebuildWeights(blob, layout, target);
  if (reply.kind === 'failed') throw new EngineError(reply.code, reply.detail);
  if (reply.kind !== 'weights') throw new EngineError('internal', 'int8 worker answered out of turn');
  return reply.weights;
}
