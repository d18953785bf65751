// npx tsx scripts/gen-color-maps.ts — writes src/engine/render/colorMapTables.ts: turbo and viridis sampled from
// d3-scale-chromatic at i/255, i = 0…255, as RGB hex. The app ships these 1.5 kB tables instead of d3's whole module
// (~42 kB of JS that builds every d3 scheme when it is imported, on the first screen's main thread).
// test/engine/render/colorMapTables.test.ts checks the file against d3, so it cannot drift from what this writes.
import { writeFileSync } from 'node:fs';
import { d3ColorTableHex, D3_COLOR_MAPS } from '../test/engine/render/d3ColorMaps';

const OUT = 'src/engine/render/colorMapTables.ts';
const lines = [
  '// Written by scripts/gen-color-maps.ts from d3-scale-chromatic (ISC licence; viridis is matplotlib\'s CC0 map);',
  '// do not edit. Entry i (six hex digits, RGB) is the colour of the value i/255.',
  'export const COLOR_MAP_TABLES = {',
  ...D3_COLOR_MAPS.map((name) => `  ${name}:\n${d3ColorTableHex(name).match(/.{1,96}/g)!.map((part) => `    '${part}'`).join(' +\n')},`),
  '} as const;',
  '',
];
writeFileSync(OUT, lines.join('\n'));
console.log(`wrote ${OUT}`);
