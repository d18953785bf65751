// Magic-byte sniffing and header sizes on the committed test images (made with ImageMagick, see
// test/fixtures/images/README.md) and on hand-made byte strings.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { readHeaderSize, sniffImageFormat, type SniffedFormat } from '../../src/engine/image/sniff';
import { centreSquare, rgbaToPlanar } from '../../src/engine/image/preprocess';

const image = (name: string) => new Uint8Array(readFileSync(join(process.cwd(), 'test/fixtures/images', name)));

describe('sniffImageFormat', () => {
  const cases: [string, SniffedFormat][] = [
    ['leaf-96x72.jpg', 'jpeg'],
    ['leaf-cmyk.jpg', 'jpeg'],
    ['orient6-60x40.jpg', 'jpeg'],
    ['alpha-64.png', 'png'],
    ['tiny-1x1.png', 'png'],
    ['leaf.webp', 'webp'],
    ['leaf.gif', 'gif'],
    ['leaf.bmp', 'bmp'],
    ['leaf.avif', 'avif'],
    ['leaf.heic', 'heif'],
    ['drawing.svg', 'svg'],
    ['notes.txt', 'text'],
  ];
  test.each(cases)('%s is %s', (name, format) => {
    expect(sniffImageFormat(image(name))).toBe(format);
  });

  test('hand-made signatures', () => {
    const bytes = (...parts: (string | number[])[]) => new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? [...p].map((c) => c.charCodeAt(0)) : p)));
    expect(sniffImageFormat(bytes([0, 0, 0, 0x18], 'ftypmif1', [0, 0, 0, 0], 'mif1heic'))).toBe('heif');
    expect(sniffImageFormat(bytes([0, 0, 0, 0x18], 'ftypmif1', [0, 0, 0, 0], 'mif1avif'))).toBe('avif');
    expect(sniffImageFormat(bytes([0xef, 0xbb, 0xbf], '  <svg xmlns="x"/>'))).toBe('svg');
    expect(sniffImageFormat(bytes('%PDF-1.7\n'))).toBe('pdf');
    expect(sniffImageFormat(bytes([0, 1, 2, 3, 0, 0, 0, 9]))).toBe('unknown');
    expect(sniffImageFormat(new Uint8Array(0))).toBe('unknown');
    // A JPEG signature alone is still a JPEG by its bytes; decoding decides whether it is whole.
    expect(sniffImageFormat(bytes([0xff, 0xd8, 0xff, 0xe0]))).toBe('jpeg');
  });
});

describe('readHeaderSize', () => {
  const sizes: [string, SniffedFormat, number, number][] = [
    ['leaf-96x72.jpg', 'jpeg', 96, 72],
    ['leaf-cmyk.jpg', 'jpeg', 96, 72],
    ['orient6-60x40.jpg', 'jpeg', 60, 40], // stored size: EXIF rotation is applied by the decoder
    ['orient6-2400x1600.jpg', 'jpeg', 2400, 1600],
    ['alpha-64.png', 'png', 64, 64],
    ['tiny-1x1.png', 'png', 1, 1],
    ['leaf.webp', 'webp', 96, 72],
    ['leaf.gif', 'gif', 96, 72],
    ['leaf.bmp', 'bmp', 96, 72],
  ];
  test.each(sizes)('%s header says %s %i×%i', (name, format, width, height) => {
    expect(readHeaderSize(image(name), format)).toEqual({ width, height });
  });
  test('a JPEG cut before its frame header has no size', () => {
    expect(readHeaderSize(image('leaf-96x72.jpg').subarray(0, 30), 'jpeg')).toBeUndefined();
  });
});

describe('preprocess helpers', () => {
  test('centreSquare takes the middle of the longer side', () => {
    expect(centreSquare(100, 60)).toEqual({ x: 20, y: 0, width: 60, height: 60 });
    expect(centreSquare(61, 100)).toEqual({ x: 0, y: 19, width: 61, height: 61 });
  });
  test('rgbaToPlanar makes NCHW planes in [0,1] and drops alpha', () => {
    const rgba = new Uint8ClampedArray([255, 0, 51, 7, 0, 102, 255, 255, 10, 20, 30, 0, 40, 50, 60, 128]);
    const out = rgbaToPlanar(rgba, 2);
    expect(Array.from(out)).toEqual([255, 0, 10, 40, 0, 102, 20, 50, 51, 255, 30, 60].map((v) => Math.fround(v / 255)));
  });
});
