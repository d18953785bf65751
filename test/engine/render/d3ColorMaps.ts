// d3-scale-chromatic's turbo and viridis sampled at i/255: the source the app's colour tables are generated from
// (scripts/gen-color-maps.ts) and checked against (colorMapTables.test.ts). d3 runs only here, never in the app.
import { interpolateTurbo, interpolateViridis } from 'd3-scale-chromatic';

export const D3_COLOR_MAPS = ['turbo', 'viridis'] as const;

/** Parses d3's "#rrggbb" or "rgb(r, g, b)". */
function parseCssColor(css: string): [number, number, number] {
  if (css.startsWith('#') && css.length === 7) {
    return [1, 3, 5].map((i) => parseInt(css.slice(i, i + 2), 16)) as [number, number, number];
  }
  const match = /^rgb\((\d+),\s*(\d+),\s*(\d+)\)$/.exec(css);
  if (!match) throw new Error(`colour maps: cannot parse "${css}"`);
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

/** 256 RGB triples of a d3 map. */
export function d3ColorTable(name: (typeof D3_COLOR_MAPS)[number]): [number, number, number][] {
  const interpolate = name === 'turbo' ? interpolateTurbo : interpolateViridis;
  return Array.from({ length: 256 }, (_, i) => parseCssColor(interpolate(i / 255)));
}

export function d3ColorTableHex(name: (typeof D3_COLOR_MAPS)[number]): string {
  return d3ColorTable(name).map((rgb) => rgb.map((c) => c.toString(16).padStart(2, '0')).join('')).join('');
}
