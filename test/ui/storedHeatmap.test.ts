// The CPU redraw of stored history heatmaps: colour maps, bilinear sampling, value under the pointer.
import { describe, expect, test } from 'vitest';
import { colorAt, sampleGrid, valueAt } from '../../src/ui/heatmap/storedHeatmap';
import { folderFromFiles } from '../../src/ui/localModel';

describe('colour maps', () => {
  test('ends of each map', () => {
    expect(colorAt('jet', 0)).toEqual([0, 0, 143]);
    expect(colorAt('jet', 1)).toEqual([128, 0, 0]);
    expect(colorAt('viridis', 0)).toEqual([68, 1, 84]);
    expect(colorAt('viridis', 1)).toEqual([253, 231, 37]);
  });
  test('out-of-range and NaN values are clamped', () => {
    expect(colorAt('turbo', -3)).toEqual(colorAt('turbo', 0));
    expect(colorAt('turbo', 7)).toEqual(colorAt('turbo', 1));
    expect(colorAt('turbo', Number.NaN)).toEqual(colorAt('turbo', 0));
  });
  test('viridis brightness rises monotonically (why it reads well in grey and for colour-blind users)', () => {
    const luma = (v: number) => { const [r, g, b] = colorAt('viridis', v); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
    for (let v = 0; v < 1; v += 0.05) expect(luma(v + 0.05)).toBeGreaterThan(luma(v));
  });
});

describe('grid sampling', () => {
  const grid = [0, 1, 2, 3]; // 2×2: row 0 = 0 1, row 1 = 2 3
  test('cell centres return the cell value', () => {
    expect(sampleGrid(grid, 2, 0.25, 0.25)).toBeCloseTo(0);
    expect(sampleGrid(grid, 2, 0.75, 0.25)).toBeCloseTo(1);
    expect(sampleGrid(grid, 2, 0.25, 0.75)).toBeCloseTo(2);
    expect(sampleGrid(grid, 2, 0.75, 0.75)).toBeCloseTo(3);
  });
  test('the middle is the mean of the four cells; edges clamp', () => {
    expect(sampleGrid(grid, 2, 0.5, 0.5)).toBeCloseTo(1.5);
    expect(sampleGrid(grid, 2, 0, 0)).toBeCloseTo(0);
    expect(sampleGrid(grid, 2, 1, 1)).toBeCloseTo(3);
  });
  test('value under the pointer: row-major cell lookup, null outside', () => {
    const heatmap = { gridSize: 2, values: Float32Array.from(grid) };
    expect(valueAt(heatmap, 0.9, 0.1)).toBe(1);
    expect(valueAt(heatmap, 0.1, 0.9)).toBe(2);
    expect(valueAt(heatmap, 1, 0.5)).toBeNull();
    expect(valueAt(heatmap, -0.1, 0.5)).toBeNull();
  });
});

describe('model folder from disk', () => {
  function file(path: string): File {
    const f = new File(['x'], path.split('/').at(-1)!);
    Object.defineProperty(f, 'webkitRelativePath', { value: path });
    return f;
  }
  test('keeps the files next to manifest.json, named by the folder', () => {
    const folder = folderFromFiles([
      file('exports/deit-tiny-beans/manifest.json'), file('exports/deit-tiny-beans/model.onnx'),
      file('exports/deit-tiny-beans/head.json'), file('exports/other/notes.txt'),
    ]);
    expect(folder?.name).toBe('deit-tiny-beans');
    expect(Object.keys(folder!.files).sort()).toEqual(['head.json', 'manifest.json', 'model.onnx']);
  });
  test('no manifest.json: null', () => {
    expect(folderFromFiles([file('x/model.onnx')])).toBeNull();
  });
});
