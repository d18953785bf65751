// The heatmap renderer's CPU reference: colour tables, resampling, blending, validation.
import { describe, expect, test } from 'vitest';
import { blendHeatmapOnto, colorMapLut, COLOR_MAPS, renderHeatmapCpu, type PixelImage } from '../../../src/engine/render';
import { seededRandom } from '../explain/randomTensors';

function randomPhoto(width: number, height: number, seed: number, opaque = true): PixelImage {
  const random = seededRandom(seed);
  const data = new Uint8ClampedArray(width * height * 4).map((_, i) => (opaque && i % 4 === 3 ? 255 : Math.floor(random() * 256)));
  return { width, height, data };
}
const pixel = (img: PixelImage, x: number, y: number) => Array.from(img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 4));
const lutColour = (name: 'jet' | 'viridis' | 'turbo', i: number) => Array.from(colorMapLut(name).subarray(i * 4, i * 4 + 4));

describe('colour tables', () => {
  test('256 opaque RGBA entries per map, with the known end colours', () => {
    for (const name of COLOR_MAPS) {
      const lut = colorMapLut(name);
      expect(lut.length).toBe(1024);
      for (let i = 3; i < 1024; i += 4) expect(lut[i]).toBe(255);
    }
    // jet: dark blue → dark red; viridis: purple → yellow (#440154, #fde725).
    expect(lutColour('jet', 0)).toEqual([0, 0, 128, 255]);
    expect(lutColour('jet', 255)).toEqual([128, 0, 0, 255]);
    // t = 128/255: 4t ≈ 2.0078, so r = 1.5 − 0.9922, g = 1 (clipped), b = 1.5 − 1.0078; ×255 and rounded.
    expect(lutColour('jet', 128)).toEqual([130, 255, 126, 255]);
    expect(lutColour('viridis', 0)).toEqual([0x44, 0x01, 0x54, 255]);
    expect(lutColour('viridis', 255)).toEqual([0xfd, 0xe7, 0x25, 255]);
    // turbo: dark at both ends, bright in the middle.
    const brightness = (i: number) => lutColour('turbo', i).slice(0, 3).reduce((a, b) => a + b);
    expect(brightness(128)).toBeGreaterThan(2 * brightness(0));
    expect(brightness(128)).toBeGreaterThan(2 * brightness(255));
  });

  test('viridis gets lighter monotonically (it is perceptually ordered)', () => {
    const luma = (i: number) => { const [r, g, b] = lutColour('viridis', i); return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!; };
    for (let i = 1; i < 256; i++) expect(luma(i)).toBeGreaterThanOrEqual(luma(i - 1) - 0.5);
  });
});

describe('renderHeatmapCpu', () => {
  const values = new Float32Array([0, 0.25, 0.5, 1]);

  test('opacity 0 at the photo size reproduces the photo (opaque)', () => {
    const photo = randomPhoto(9, 7, 1);
    const out = renderHeatmapCpu(values, 2, photo, { width: 9, height: 7 }, { colorMap: 'jet', opacity: 0 });
    expect(out.data).toEqual(photo.data);
  });

  test('opacity 1 shows only the colour map, bilinearly upsampled from cell centres', () => {
    const photo = randomPhoto(3, 3, 2);
    // G = 2 with columns 0 and 1: output x = 0..3 at width 4 samples u = -0.25→0, 0.25, 0.75, 1.25→1.
    const columns = new Float32Array([0, 1, 0, 1]);
    const out = renderHeatmapCpu(columns, 2, photo, { width: 4, height: 2 }, { colorMap: 'viridis', opacity: 1 });
    expect(pixel(out, 0, 0)).toEqual(lutColour('viridis', 0));
    expect(pixel(out, 3, 1)).toEqual(lutColour('viridis', 255));
    // 0.25 · 255 = 63.75: between entries 63 and 64.
    const lo = lutColour('viridis', 63);
    const hi = lutColour('viridis', 64);
    expect(pixel(out, 1, 0)).toEqual(lo.map((v, c) => Math.round(v * 0.25 + hi[c]! * 0.75)));
  });

  test('transparent photo pixels are composited over white; output is opaque', () => {
    const photo: PixelImage = { width: 1, height: 1, data: new Uint8ClampedArray([10, 20, 30, 0]) };
    const out = renderHeatmapCpu(new Float32Array([0]), 1, photo, { width: 2, height: 2 }, { colorMap: 'jet', opacity: 0 });
    expect(Array.from(out.data)).toEqual(new Array(4).fill([255, 255, 255, 255]).flat());
    const half = renderHeatmapCpu(new Float32Array([0]), 1, photo, { width: 1, height: 1 }, { colorMap: 'jet', opacity: 0.5 });
    expect(pixel(half, 0, 0)).toEqual([128, 128, 192, 255]); // white·0.5 + (0, 0, 128)·0.5
  });

  test('photoRect crops the region the map covers', () => {
    const photo = randomPhoto(10, 8, 3);
    const out = renderHeatmapCpu(values, 2, photo, { width: 4, height: 3 }, { colorMap: 'turbo', opacity: 0, photoRect: { x: 5, y: 2, width: 4, height: 3 } });
    for (let y = 0; y < 3; y++) for (let x = 0; x < 4; x++) expect(pixel(out, x, y)).toEqual(pixel(photo, x + 5, y + 2));
  });

  test('blendHeatmapOnto equals renderHeatmapCpu when the photo is already at the output size', () => {
    const photo = randomPhoto(13, 11, 4);
    const map = new Float32Array(9).map((_, i) => (i * 7) % 9 / 8);
    const rendered = renderHeatmapCpu(map, 3, photo, { width: 13, height: 11 }, { colorMap: 'turbo', opacity: 0.6 });
    const blended = { ...photo, data: photo.data.slice() };
    blendHeatmapOnto(blended, map, 3, { colorMap: 'turbo', opacity: 0.6 });
    expect(blended.data).toEqual(rendered.data);
    expect(blended.data).not.toEqual(photo.data);
  });

  test.each([
    [{ colorMap: 'jet', opacity: 1.5 }, 4, /opacity/],
    [{ colorMap: 'grey', opacity: 0.5 }, 4, /colour map/],
    [{ colorMap: 'jet', opacity: 0.5 }, 3, /values/],
    [{ colorMap: 'jet', opacity: 0.5, photoRect: { x: 1, y: 0, width: 5, height: 2 } }, 4, /photoRect/],
  ])('refuses %o', (options, length, message) => {
    const run = () => renderHeatmapCpu(new Float32Array(length), 2, randomPhoto(5, 5, 5), { width: 4, height: 4 }, options as never);
    expect(run).toThrow(message);
  });
});
