// Photos move between data URLs (JSON exports, schema-1 databases) and Blobs (the thumbnails store). The
// decode is synchronous because a schema upgrade may only wait on IndexedDB itself.

/** A data URL's bytes as a Blob, or null when the text is not a data URL. */
export function dataUrlToBlob(url: string): Blob | null {
  const match = /^data:([^,;]*)((?:;[^,;]*)*),/.exec(url);
  if (!match) return null;
  const type = match[1] || 'application/octet-stream';
  const payload = url.slice(match[0].length);
  try {
    if (/;base64/i.test(match[2] ?? '')) return new Blob([base64ToBytes(payload) as BlobPart], { type });
    return new Blob([decodeURIComponent(payload)], { type });
  } catch {
    return null;
  }
}

function base64ToBytes(text: string): Uint8Array {
  const native = (Uint8Array as unknown as { fromBase64?: (s: string) => Uint8Array }).fromBase64;
  if (typeof native === 'function') return native(text);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function bytesToBase64(bytes: Uint8Array): string {
  // Native where the browser has it (Uint8Array.prototype.toBase64): several times faster on big exports.
  const native = (bytes as Uint8Array & { toBase64?: () => string }).toBase64;
  if (typeof native === 'function') return native.call(bytes);
  let binary = '';
  const step = 0x8000;
  for (let i = 0; i < bytes.length; i += step) binary += String.fromCharCode(...bytes.subarray(i, i + step));
  return btoa(binary);
}

export async function blobToDataUrl(blob: Blob): Promise<string> {
  return `data:${blob.type || 'application/octet-stream'};base64,${bytesToBase64(new Uint8Array(await blob.arrayBuffer()))}`;
}
