// Colour maps as 256-entry RGBA8 lookup tables, shared by the CPU reference and the GPU kernel (uploaded as a
// buffer), so both sides colour with the same numbers. viridis and turbo come from d3-scale-chromatic; jet is
// the classic piecewise-linear map (what OpenCV's COLORMAP_JET, used by the source material, approximates).
import { interpolateTurbo, interpolateViridis } from 'd3-scale-chromatic';
import type { ColorMapName } from '../types';

/** In the order the UI lists them; the index of each is also its place in the GPU's table (heatmapOverlay.wgsl's
 * `params.lutOffset`). */
export const COLOR_MAPS: readonly ColorMapName[] = ['turbo', 'viridis', 'jet'];
export const LUT_ENTRIES = 256;

/** jet: blue → cyan → yellow → red, each channel a clipped tent of value 4t. */
function jet(t: number): [number, number, number] {
  const channel = (centre: number) => Math.min(1, Math.max(0, 1.5 - Math.abs(4 * t - centre)));
  return [channel(3), channel(2), channel(1)].map((c) => Math.round(255 * c)) as [number, number, number];
}

/** Parses d3's "#rrggbb" or "rgb(r, g, b)". */
function parseCssColor(css: string): [number, number, number] {
  if (css.startsWith('#') && css.length === 7) {
    return [1, 3, 5].map((i) => parseInt(css.slice(i, i + 2), 16)) as [number, number, number];
  }
  const match = /^rgb\((\d+),\s*(\d+),\s*(\d+)\)$/.exec(css);
  if (!match) throw new Error(`colour maps: cannot parse "${css}"`);
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

const cache = new Map<ColorMapName, Uint8Array>();

/** 256 entries × RGBA8 (alpha 255); entry i is the colour of value i/255. */
export function colorMapLut(name: ColorMapName): Uint8Array {
  const hit = cache.get(name);
  if (hit) return hit;
  const colour: (t: number) => [number, number, number] =
    name === 'jet' ? jet
    : name === 'viridis' ? (t) => parseCssColor(interpolateViridis(t))
    : name === 'turbo' ? (t) => parseCssColor(interpolateTurbo(t))
    : () => { throw new RangeError(`heatmap: unknown colour map "${String(name)}" (expected one of ${COLOR_MAPS.join(', ')})`); };
  const lut = new Uint8Array(LUT_ENTRIES * 4);
  for (let i = 0; i < LUT_ENTRIES; i++) {
    lut.set([...colour(i / (LUT_ENTRIES - 1)), 255], i * 4);
  }
  cache.set(name, lut);
  return lut;
}
