// sha256 of a file's bytes: WebCrypto where it exists, else @noble/hashes (WebCrypto exists only in secure
// contexts; a phone on a plain-http LAN address still gets checked files). Used on the page and in hashWorker.ts.
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  let digest: Uint8Array;
  if (typeof crypto !== 'undefined' && crypto.subtle) {
    digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  } else {
    digest = nobleSha256(bytes);
  }
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}
