// Worker: ORT's wasm binary read from RUNTIME_CACHE or downloaded and stored there (runtimeBinary.ts), off the
// page's main thread; a Blob goes back (a handle: its bytes are not copied). Protocol (offThread.ts): 'ready', then
// one request, one reply.
import { describeFailure, fetchRuntimeBinary, type RuntimeBinaryRequest } from './runtimeBinary';

export type RuntimeBinaryReply =
  | { kind: 'ready' }
  | { kind: 'binary'; blob: Blob | undefined }
  | { kind: 'failed'; message: string };

const scope = self as unknown as DedicatedWorkerGlobalScope;

scope.onmessage = async (event: MessageEvent<RuntimeBinaryRequest>) => {
  try {
    scope.postMessage({ kind: 'binary', blob: await fetchRuntimeBinary(event.data) } satisfies RuntimeBinaryReply);
  } catch (error) {
    scope.postMessage({ kind: 'failed', message: describeFailure(error) } satisfies RuntimeBinaryReply);
  }
};
scope.postMessage({ kind: 'ready' } satisfies RuntimeBinaryReply);
