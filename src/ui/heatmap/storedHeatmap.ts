// Heatmaps saved in history, redrawn over the entry's thumbnail by the engine's renderer (the same colour tables and
// blend as a live diagnosis), and the value under a pointer for both kinds.
import { heatmapFromValues } from '../../engine/index';
import type { Heatmap } from '../../engine/types';

export interface StoredHeatmapData {
  gridSize: number;
  values: number[];
  min: number;
  max: number;
}

/** A Heatmap over an already-loaded image (the entry's square thumbnail). */
export function storedHeatmap(data: StoredHeatmapData, image: CanvasImageSource & { width: number; height: number }): Heatmap {
  return heatmapFromValues(data, image);
}

/** The grid value under a point given as fractions (0..1) of the drawn square. */
export function valueAt(heatmap: Pick<Heatmap, 'gridSize' | 'values'>, u: number, v: number): number | null {
  if (!(u >= 0 && u < 1 && v >= 0 && v < 1)) return null;
  const g = heatmap.gridSize;
  return heatmap.values[Math.floor(v * g) * g + Math.floor(u * g)] ?? null;
}
