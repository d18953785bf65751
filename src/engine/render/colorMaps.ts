// Colour maps as 256-entry RGBA8 lookup tables, shared by the CPU reference and the GPU kernel (uploaded as a buffer).
import type { ColorMapName } from '../types';

export const COLOR_MAPS: readonly ColorMapName[] = ['jet', 'viridis', 'turbo'];

/** 256 entries × RGBA8; entry i is the colour of value i/255. */
export function colorMapLut(_name: ColorMapName): Uint8Array {
  throw new Error('colorMapLut: not implemented yet');
}
