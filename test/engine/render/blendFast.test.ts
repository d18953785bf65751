// The WASM path's fast overlay blend against the reference blend (reference.ts stays the oracle).
// Tolerance: every channel within 1 of 255, alpha always 255, and at most 2 % of channels off by 1. The off-by-ones
// are values that land on a rounding tie (x.5) in exact arithmetic, which each side's float order rounds its own
// way: most at opacity 0.5, where half of every odd photo byte is such a tie (~1.2 %; ~0.1–0.5 % at other opacities).
import { describe, expect, test } from 'vitest';
import { blendHeatmapOnto, COLOR_MAPS, type PixelImage } from '../../../src/engine/render';
import { blendHeatmapOntoFast } from '../../../src/engine/render/blendFast';
import { seededRandom } from '../explain/randomTensors';

function randomPhoto(width: number, height: number, seed: number, opaque: boolean): PixelImage {
  const random = seededRandom(seed);
  const data = new Uint8ClampedArray(width * height * 4).map((_, i) => (opaque && i % 4 === 3 ? 255 : Math.floor(random() * 256)));
  return { width, height, data };
}

function randomMap(gridSize: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  // Some values outside [0, 1] too: both sides clamp after upsampling.
  return Float32Array.from({ length: gridSize * gridSize }, () => random() * 1.2 - 0.1);
}

function compare(width: number, height: number, gridSize: number, opaque: boolean, colorMap: (typeof COLOR_MAPS)[number], opacity: number, seed: number) {
  const photo = randomPhoto(width, height, seed, opaque);
  const values = randomMap(gridSize, seed + 1);
  const ref = { ...photo, data: new Uint8ClampedArray(photo.data) };
  const fast = { ...photo, data: new Uint8ClampedArray(photo.data) };
  blendHeatmapOnto(ref, values, gridSize, { colorMap, opacity });
  blendHeatmapOntoFast(fast, values, gridSize, { colorMap, opacity });
  let maxDiff = 0;
  let off = 0;
  let notOpaque = 0;
  for (let i = 0; i < ref.data.length; i++) {
    const d = Math.abs(ref.data[i]! - fast.data[i]!);
    maxDiff = Math.max(maxDiff, d);
    if (d > 0) off++;
    if (i % 4 === 3 && fast.data[i] !== 255) notOpaque++;
  }
  return { maxDiff, offShare: off / ref.data.length, notOpaque };
}

describe('blendHeatmapOntoFast matches blendHeatmapOnto', () => {
  const cases: [number, number, number, boolean][] = [
    [448, 448, 14, true], // the bench canvas and DeiT-tiny's map
    [301, 173, 14, true], // odd sizes, wider than tall
    [97, 211, 7, false], // photo with alpha: composited over white
    [5, 3, 14, true], // smaller than the map
    [1, 1, 1, true],
  ];
  for (const [width, height, grid, opaque] of cases) {
    for (const colorMap of COLOR_MAPS) {
      for (const opacity of [0, 0.35, 0.5, 1]) {
        test(`${width}×${height}, G ${grid}, ${opaque ? 'opaque' : 'with alpha'}, ${colorMap}, opacity ${opacity}`, () => {
          const { maxDiff, offShare, notOpaque } = compare(width, height, grid, opaque, colorMap, opacity, width * 7 + height);
          expect(maxDiff).toBeLessThanOrEqual(1);
          expect(offShare).toBeLessThanOrEqual(0.02);
          expect(notOpaque).toBe(0);
        });
      }
    }
  }
});

test('refuses what the reference refuses', () => {
  const photo = randomPhoto(4, 4, 1, true);
  expect(() => blendHeatmapOntoFast(photo, new Float32Array(3), 2, { colorMap: 'jet', opacity: 0.5 })).toThrow(/gridSize²/);
  expect(() => blendHeatmapOntoFast(photo, new Float32Array(4), 2, { colorMap: 'jet', opacity: 1.5 })).toThrow(/opacity/);
  expect(() => blendHeatmapOntoFast(photo, new Float32Array(4), 2, { colorMap: 'plasma' as 'jet', opacity: 0.5 })).toThrow(/colour map/);
});
