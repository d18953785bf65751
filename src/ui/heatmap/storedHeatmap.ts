// Redraws a heatmap saved in history (G×G values, no engine needed) over its thumbnail, on the CPU.
// Live diagnoses are drawn by the engine; this is only for reopening old entries, so it favours
// simplicity: colour maps are piecewise-linear through a few anchor colours.
import type { ColorMapName, DrawOptions, Heatmap } from '../../engine/types';

type Rgb = readonly [number, number, number];

/** Anchor colours at evenly spaced positions in [0, 1]. */
const ANCHORS: Record<ColorMapName, readonly Rgb[]> = {
  jet: [[0, 0, 143], [0, 0, 255], [0, 255, 255], [255, 255, 0], [255, 0, 0], [128, 0, 0]],
  viridis: [[68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141], [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37]],
  turbo: [[48, 18, 59], [68, 81, 191], [70, 134, 251], [39, 188, 236], [26, 228, 182], [100, 253, 106], [164, 252, 60], [225, 221, 55], [254, 165, 49], [239, 90, 17], [122, 4, 3]],
};

export function colorAt(map: ColorMapName, value: number): Rgb {
  const anchors = ANCHORS[map];
  const x = Math.min(1, Math.max(0, Number.isFinite(value) ? value : 0)) * (anchors.length - 1);
  const i = Math.min(anchors.length - 2, Math.floor(x));
  const f = x - i;
  const a = anchors[i]!;
  const b = anchors[i + 1]!;
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

/** Bilinear sample of a G×G grid at pixel centres of a W×H target (cell centres at (i + 0.5) / G). */
export function sampleGrid(values: ArrayLike<number>, grid: number, u: number, v: number): number {
  const x = Math.min(grid - 1, Math.max(0, u * grid - 0.5));
  const y = Math.min(grid - 1, Math.max(0, v * grid - 0.5));
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const x1 = Math.min(grid - 1, x0 + 1);
  const y1 = Math.min(grid - 1, y0 + 1);
  const fx = x - x0;
  const fy = y - y0;
  const at = (cx: number, cy: number) => values[cy * grid + cx] ?? 0;
  const top = at(x0, y0) * (1 - fx) + at(x1, y0) * fx;
  const bottom = at(x0, y1) * (1 - fx) + at(x1, y1) * fx;
  return top * (1 - fy) + bottom * fy;
}

export interface StoredHeatmapData {
  gridSize: number;
  values: number[];
  min: number;
  max: number;
}

/** A Heatmap over an already-loaded image (the entry's square thumbnail). */
export function storedHeatmap(data: StoredHeatmapData, image: CanvasImageSource & { width: number; height: number }): Heatmap {
  const values = Float32Array.from(data.values);
  return {
    gridSize: data.gridSize,
    values,
    min: data.min,
    max: data.max,
    async draw(canvas: HTMLCanvasElement | OffscreenCanvas, options: DrawOptions) {
      const start = performance.now();
      const context = canvas.getContext('2d') as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D | null;
      if (!context) throw new Error('2D canvas unavailable');
      const { width, height } = canvas;
      context.drawImage(image, 0, 0, width, height);
      const pixels = context.getImageData(0, 0, width, height);
      const alpha = Math.min(1, Math.max(0, options.opacity));
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const value = sampleGrid(values, data.gridSize, (x + 0.5) / width, (y + 0.5) / height);
          const [r, g, b] = colorAt(options.colorMap, value);
          const o = (y * width + x) * 4;
          pixels.data[o] = pixels.data[o]! * (1 - alpha) + r * alpha;
          pixels.data[o + 1] = pixels.data[o + 1]! * (1 - alpha) + g * alpha;
          pixels.data[o + 2] = pixels.data[o + 2]! * (1 - alpha) + b * alpha;
          pixels.data[o + 3] = 255;
        }
      }
      context.putImageData(pixels, 0, 0);
      return performance.now() - start;
    },
  };
}

/** The grid value under a point given as fractions (0..1) of the drawn square. */
export function valueAt(heatmap: Pick<Heatmap, 'gridSize' | 'values'>, u: number, v: number): number | null {
  if (!(u >= 0 && u < 1 && v >= 0 && v < 1)) return null;
  const g = heatmap.gridSize;
  return heatmap.values[Math.floor(v * g) * g + Math.floor(u * g)] ?? null;
}
