// Worker: the weights rebuilt from the int8 download (int8.ts) off the page's main thread, sent back as a Blob.
// Protocol (offThread.ts): 'ready' once loaded; then one request in, the rebuilt weights or the error back.
import { EngineError, describeError } from '../errors';
import { rebuildWeights } from './int8';
import type { RebuildReply, RebuildRequest } from './int8OffThread';

const scope = self as unknown as DedicatedWorkerGlobalScope;

scope.onmessage = (event: MessageEvent<RebuildRequest>) => {
  const { blob, layout, target } = event.data;
  let reply: RebuildReply;
  try {
    // A Blob, not the bytes: the page hands it to ORT, whose proxy worker reads it itself; posting 22 MB of bytes
    // from the page would copy them there on the main thread (structured clone) for every session.
    reply = { kind: 'weights', weights: new Blob([rebuildWeights(blob, layout, target)]) };
  } catch (error) {
    reply = error instanceof EngineError
      ? { kind: 'failed', code: error.code, detail: error.detail }
      : { kind: 'failed', code: 'internal', detail: describeError(error) };
  }
  scope.postMessage(reply);
};
scope.postMessage({ kind: 'ready' } satisfies RebuildReply);
