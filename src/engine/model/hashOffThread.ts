// sha256 of large model files in a worker (hashWorker.ts), the bytes moved there and back (transferred, not
// copied). Small files, views into a larger buffer, and browsers without module workers hash on the page.
import { askWorker, type WorkerReady } from './offThread';
import { sha256Hex } from './sha256';

export interface HashRequest { bytes: Uint8Array<ArrayBuffer> }
export type HashReply =
  | WorkerReady
  | { kind: 'digest'; hex: string; bytes: Uint8Array<ArrayBuffer> }
  | { kind: 'failed'; message: string; bytes: Uint8Array<ArrayBuffer> };

/** A whole, non-shared ArrayBuffer: transferring a view of part of a buffer would take the rest along. */
function isMovable(bytes: Uint8Array): bytes is Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
}

/** Below this, starting a worker costs more than hashing on the page. */
export const OFF_THREAD_MIN_BYTES = 1 << 20;

export interface HashResult {
  hex: string;
  /** The same bytes: a new view when they went to the worker and back (the one passed in is then detached). */
  bytes: Uint8Array;
}

/** The digest of `bytes`. Large ones are moved to the worker: pass only bytes nobody else holds. */
export async function sha256OffMainThread(bytes: Uint8Array): Promise<HashResult> {
  if (!isMovable(bytes) || bytes.byteLength < OFF_THREAD_MIN_BYTES) return { hex: await sha256Hex(bytes), bytes };
  const reply = await askWorker<HashReply>(
    () => new Worker(new URL('./hashWorker.ts', import.meta.url), { type: 'module', name: 'leaf-lens-sha256' }),
    { bytes } satisfies HashRequest, [bytes.buffer],
  );
  if (!reply) return { hex: await sha256Hex(bytes), bytes };
  if (reply.kind === 'failed') throw new Error(`sha256 worker: ${reply.message}`);
  if (reply.kind !== 'digest') throw new Error('sha256 worker answered out of turn');
  return { hex: reply.hex, bytes: reply.bytes };
}
