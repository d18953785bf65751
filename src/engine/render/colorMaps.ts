// Colour maps as 256-entry RGBA8 lookup tables, shared by the CPU reference and the GPU kernel (uploaded as a
// buffer), so both sides colour with the same numbers. viridis and turbo are d3-scale-chromatic's, as tables generated
// from it (colorMapTables.ts; importing d3 itself would build all of its schemes on the first screen); jet is the
// classic piecewise-linear map (what OpenCV's COLORMAP_JET, used by the source material, approximates).
import type { ColorMapName } from '../types';
import { COLOR_MAP_TABLES } from './colorMapTables';

/** In the order the UI lists them; the index of each is also its place in the GPU's table (heatmapOverlay.wgsl's
 * `params.lutOffset`). */
export const COLOR_MAPS: readonly ColorMapName[] = ['turbo', 'viridis', 'jet'];
export const LUT_ENTRIES = 256;

/** jet: blue → cyan → yellow → red, each channel a clipped tent of value 4t. */
function jet(t: number): [number, number, number] {
  const channel = (centre: number) => Math.min(1, Math.max(0, 1.5 - Math.abs(4 * t - centre)));
  return [channel(3), channel(2), channel(1)].map((c) => Math.round(255 * c)) as [number, number, number];
}

/** Entry i of a generated table: its RGB from six hex digits. */
function tableColour(hex: string): (t: number) => [number, number, number] {
  return (t) => {
    const at = 6 * Math.round(t * (LUT_ENTRIES - 1));
    return [0, 2, 4].map((o) => parseInt(hex.slice(at + o, at + o + 2), 16)) as [number, number, number];
  };
}

const cache = new Map<ColorMapName, Uint8Array>();

/** 256 entries × RGBA8 (alpha 255); entry i is the colour of value i/255. */
export function colorMapLut(name: ColorMapName): Uint8Array {
  const hit = cache.get(name);
  if (hit) return hit;
  const colour: (t: number) => [number, number, number] =
    name === 'jet' ? jet
    : name === 'viridis' ? tableColour(COLOR_MAP_TABLES.viridis)
    : name === 'turbo' ? tableColour(COLOR_MAP_TABLES.turbo)
    : () => { throw new RangeError(`heatmap: unknown colour map "${String(name)}" (expected one of ${COLOR_MAPS.join(', ')})`); };
  const lut = new Uint8Array(LUT_ENTRIES * 4);
  for (let i = 0; i < LUT_ENTRIES; i++) {
    lut.set([...colour(i / (LUT_ENTRIES - 1)), 255], i * 4);
  }
  cache.set(name, lut);
  return lut;
}
