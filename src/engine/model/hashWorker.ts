// Worker: the sha256 of a model file off the page's main thread. Handing 22 MB to WebCrypto copies it there
// (and @noble/hashes, without WebCrypto, hashes it there): hundreds of milliseconds of a frozen page on a phone.
// Protocol (hashOffThread.ts): 'ready' once loaded; then one { bytes } in, the digest and the same bytes back.
import { sha256Hex } from './sha256';
import type { HashReply, HashRequest } from './hashOffThread';

const scope = self as unknown as DedicatedWorkerGlobalScope;

scope.onmessage = async (event: MessageEvent<HashRequest>) => {
  const { bytes } = event.data;
  let reply: HashReply;
  try {
    reply = { kind: 'digest', hex: await sha256Hex(bytes), bytes };
  } catch (error) {
    reply = { kind: 'failed', message: String(error), bytes };
  }
  scope.postMessage(reply, [bytes.buffer]);
};
scope.postMessage({ kind: 'ready' } satisfies HashReply);
