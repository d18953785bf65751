// What a file really is, from its first bytes (names and MIME types from phones are often wrong),
// and its pixel size where the header says so cheaply (to downscale huge photos while decoding).

export type SniffedFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'bmp' | 'avif' | 'heif' | 'svg' | 'pdf' | 'text' | 'unknown';

/** Formats Chromium, Firefox and Safari all decode with createImageBitmap. */
export const DECODABLE_FORMATS: readonly SniffedFormat[] = ['jpeg', 'png', 'webp', 'gif', 'bmp', 'avif'];

/** How many leading bytes `sniffImageFormat` and `readHeaderSize` want (JPEG SOF may sit after big EXIF blocks). */
export const SNIFF_BYTES = 256 * 1024;

function ascii(bytes: Uint8Array, start: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(start, start + length));
}

function startsWith(bytes: Uint8Array, signature: readonly number[], offset = 0): boolean {
  return signature.every((b, i) => bytes[offset + i] === b);
}

// ISO-BMFF brands: HEIF/HEIC (iPhone photos) versus AVIF, which share the container.
const HEIF_BRANDS = ['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'hevm', 'hevs', 'mif1', 'msf1'];
const AVIF_BRANDS = ['avif', 'avis'];

function sniffIsoBmff(bytes: Uint8Array): SniffedFormat | undefined {
  if (bytes.length < 12 || ascii(bytes, 4, 4) !== 'ftyp') return undefined;
  const boxSize = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
  const end = Math.min(bytes.length, Math.max(16, boxSize));
  const brands = [ascii(bytes, 8, 4)];
  for (let o = 16; o + 4 <= end; o += 4) brands.push(ascii(bytes, o, 4));
  // 'mif1' alone is generic HEIF; an 'avif' compatible brand makes it AVIF.
  if (brands.some((b) => AVIF_BRANDS.includes(b))) return 'avif';
  if (brands.some((b) => HEIF_BRANDS.includes(b))) return 'heif';
  return 'unknown';
}

function looksLikeText(bytes: Uint8Array): boolean {
  const sample = bytes.subarray(0, 512);
  if (sample.length === 0) return false;
  let printable = 0;
  for (const b of sample) {
    if (b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127) || b >= 128) printable += 1;
    else if (b === 0) return false;
  }
  return printable === sample.length;
}

export function sniffImageFormat(bytes: Uint8Array): SniffedFormat {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a') return 'gif';
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return 'webp';
  if (ascii(bytes, 0, 2) === 'BM' && bytes.length >= 26) return 'bmp';
  const iso = sniffIsoBmff(bytes);
  if (iso) return iso;
  if (ascii(bytes, 0, 5) === '%PDF-') return 'pdf';
  if (looksLikeText(bytes)) {
    const head = new TextDecoder().decode(bytes.subarray(0, 1024)).replace(/^\uFEFF/, '').trimStart().toLowerCase();
    if (head.startsWith('<svg') || ((head.startsWith('<?xml') || head.startsWith('<!doctype svg')) && head.includes('<svg'))) return 'svg';
    return 'text';
  }
  return 'unknown';
}

function u16be(b: Uint8Array, o: number): number { return (b[o]! << 8) | b[o + 1]!; }
function u16le(b: Uint8Array, o: number): number { return b[o]! | (b[o + 1]! << 8); }
function u24le(b: Uint8Array, o: number): number { return b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16); }
function u32be(b: Uint8Array, o: number): number { return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0; }
function i32le(b: Uint8Array, o: number): number { return b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24); }

export interface HeaderSize {
  width: number;
  height: number;
}

/** Stored (pre-EXIF-rotation) pixel size from the header, or undefined when it is not in the bytes given. */
export function readHeaderSize(bytes: Uint8Array, format: SniffedFormat): HeaderSize | undefined {
  switch (format) {
    case 'png':
      return bytes.length >= 24 && ascii(bytes, 12, 4) === 'IHDR' ? { width: u32be(bytes, 16), height: u32be(bytes, 20) } : undefined;
    case 'gif':
      return bytes.length >= 10 ? { width: u16le(bytes, 6), height: u16le(bytes, 8) } : undefined;
    case 'bmp':
      return { width: Math.abs(i32le(bytes, 18)), height: Math.abs(i32le(bytes, 22)) };
    case 'webp':
      return readWebpSize(bytes);
    case 'jpeg':
      return readJpegSize(bytes);
    default:
      return undefined;
  }
}

function readWebpSize(b: Uint8Array): HeaderSize | undefined {
  if (b.length < 30) return undefined;
  const chunk = ascii(b, 12, 4);
  if (chunk === 'VP8X') return { width: u24le(b, 24) + 1, height: u24le(b, 27) + 1 };
  if (chunk === 'VP8L' && b[20] === 0x2f) {
    const bits = b[21]! | (b[22]! << 8) | (b[23]! << 16) | (b[24]! << 24);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8 ' && b[23] === 0x9d && b[24] === 0x01 && b[25] === 0x2a) {
    return { width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff };
  }
  return undefined;
}

// Start-of-frame markers carry the size; DHT (C4), JPG (C8) and DAC (CC) share the range but do not.
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

function readJpegSize(b: Uint8Array): HeaderSize | undefined {
  let o = 2;
  while (o + 9 < b.length) {
    if (b[o] !== 0xff) return undefined;
    const marker = b[o + 1]!;
    if (marker === 0xff) { o += 1; continue; } // fill byte
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) { o += 2; continue; }
    const length = u16be(b, o + 2);
    if (isStartOfFrame(marker)) return { width: u16be(b, o + 7), height: u16be(b, o + 5) };
    if (marker === 0xda || length < 2) return undefined; // image data began without a frame header
    o += 2 + length;
  }
  return undefined;
}
