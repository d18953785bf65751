// sha256 of large model files in a worker (hashWorker.ts), the bytes moved there and back (transferred, not
// copied). Small files, views into a larger buffer, and browsers without module workers hash on the page.
import { sha256Hex } from './sha256';

export interface HashRequest { bytes: Uint8Array<ArrayBuffer> }
export type HashReply =
  | { kind: 'ready' }
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
  if (!isMovable(bytes) || bytes.byteLength < OFF_THREAD_MIN_BYTES || typeof Worker === 'undefined') return { hex: await sha256Hex(bytes), bytes };
  let worker: Worker;
  try {
    worker = new Worker(new URL('./hashWorker.ts', import.meta.url), { type: 'module', name: 'leaf-lens-sha256' });
  } catch {
    return { hex: await sha256Hex(bytes), bytes };
  }
  try {
    // The bytes go over only once the worker runs: a worker that failed to load (blocked by a CSP without
    // worker-src 'self', say) would otherwise keep them, and the page hashes them itself instead.
    const started = await new Promise<boolean>((resolve) => {
      worker.onmessage = (event: MessageEvent<HashReply>) => resolve(event.data.kind === 'ready');
      worker.onerror = () => resolve(false);
    });
    if (!started) return { hex: await sha256Hex(bytes), bytes };
    const reply = await new Promise<HashReply>((resolve, reject) => {
      worker.onmessage = (event: MessageEvent<HashReply>) => resolve(event.data);
      worker.onerror = (event) => reject(new Error(`sha256 worker failed: ${event.message}`));
      worker.postMessage({ bytes } satisfies HashRequest, [bytes.buffer]);
    });
    if (reply.kind === 'failed') throw new Error(`sha256 worker: ${reply.message}`);
    if (reply.kind !== 'digest') throw new Error('sha256 worker answered out of turn');
    return { hex: reply.hex, bytes: reply.bytes };
  } finally {
    worker.terminate();
  }
}
