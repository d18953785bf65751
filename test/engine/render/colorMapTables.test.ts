// The app's turbo and viridis tables are generated from d3-scale-chromatic (scripts/gen-color-maps.ts): every entry
// of the LUT the renderers use must still be d3's colour.
import { describe, expect, test } from 'vitest';
import { colorMapLut } from '../../../src/engine/render';
import { d3ColorTable, D3_COLOR_MAPS } from './d3ColorMaps';

describe('generated colour tables', () => {
  test.each(D3_COLOR_MAPS)('%s: all 256 entries are d3-scale-chromatic\'s colour at i/255', (name) => {
    const lut = colorMapLut(name);
    const expected = d3ColorTable(name);
    for (let i = 0; i < 256; i++) expect([...lut.subarray(i * 4, i * 4 + 4)], `entry ${i}`).toEqual([...expected[i]!, 255]);
  });
});
