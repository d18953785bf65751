// Stored history heatmaps: redrawn by the engine's renderer (same colours as a live one), value under the pointer.
import { describe, expect, test } from 'vitest';
import { blendHeatmapOnto, colorMapLut } from '../../src/engine/render';
import { storedHeatmap, valueAt } from '../../src/ui/heatmap/storedHeatmap';
import { folderFromFiles } from '../../src/ui/localModel';

/** Just enough of a 2D canvas for the engine's canvas-2D renderer: drawImage paints the image's one colour. */
function fakeCanvas(width: number, height: number) {
  let stored = new Uint8ClampedArray(width * height * 4);
  const context = {
    imageSmoothingEnabled: false,
    imageSmoothingQuality: 'low',
    clearRect() { stored.fill(0); },
    drawImage(image: { colour: number[] }) {
      for (let i = 0; i < width * height; i++) stored.set([...image.colour, 255], i * 4);
    },
    getImageData() { return { width, height, data: new Uint8ClampedArray(stored) }; },
    putImageData(pixels: { data: Uint8ClampedArray }) { stored = new Uint8ClampedArray(pixels.data); },
  };
  return { width, height, getContext: () => context, pixels: () => stored };
}

describe('a stored heatmap is drawn by the engine renderer', () => {
  const data = { gridSize: 3, values: [0, 0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9, 1], min: -2, max: 5 };
  const image = { width: 12, height: 12, colour: [200, 180, 40] };
  test.each([['turbo', 0.5], ['viridis', 0.8], ['jet', 1]] as const)('%s at opacity %s: the reference blend, within 1 per channel', async (colorMap, opacity) => {
    const canvas = fakeCanvas(24, 24);
    const heatmap = storedHeatmap(data, image as unknown as CanvasImageSource & { width: number; height: number });
    expect([heatmap.gridSize, heatmap.min, heatmap.max]).toEqual([3, -2, 5]);
    await heatmap.draw(canvas as unknown as OffscreenCanvas, { colorMap, opacity });
    const expected = { width: 24, height: 24, data: new Uint8ClampedArray(24 * 24 * 4) };
    for (let i = 0; i < 24 * 24; i++) expected.data.set([...image.colour, 255], i * 4);
    blendHeatmapOnto(expected, Float32Array.from(data.values), 3, { colorMap, opacity });
    const got = canvas.pixels();
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - expected.data[i]!));
    expect(worst).toBeLessThanOrEqual(1);
    // The map is really there: the blended canvas is not the plain image.
    expect(got.some((v, i) => i % 4 !== 3 && v !== image.colour[i % 4])).toBe(true);
  });
  test('viridis brightness rises monotonically in the shared colour table (why it reads well in grey)', () => {
    const lut = colorMapLut('viridis');
    const luma = (i: number) => 0.2126 * lut[i * 4]! + 0.7152 * lut[i * 4 + 1]! + 0.0722 * lut[i * 4 + 2]!;
    for (let i = 8; i < 256; i += 8) expect(luma(i)).toBeGreaterThan(luma(i - 8));
  });
});

describe('value under the pointer', () => {
  const grid = [0, 1, 2, 3]; // 2×2: row 0 = 0 1, row 1 = 2 3
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
