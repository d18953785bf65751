// Runs in the browser (loaded by test/gpu/kernels.test.ts): the overlay kernel, the WebGPU canvas path and the
// 2D-canvas path vs renderHeatmapCpu. Returns the largest per-channel difference of each case.
import { drawHeatmap2d, GpuHeatmapRenderer, renderHeatmapCpu, ScaledPhotoCache, type PixelImage, type RenderOptions } from '../../src/engine/render';
import type { ColorMapName } from '../../src/engine/types';
import { seededRandom } from '../engine/explain/randomTensors';
import { requireDevice } from './explainPage';

export interface RenderCase {
  name: string;
  maxChannelDiff: number;
  /** Pixels whose colour differs from the bare photo: proves the heatmap was drawn at all. */
  changedPixels: number;
  /** The first pixel, got and wanted, to make a failure readable. */
  firstPixel: { got: number[]; want: number[] };
}

function randomPhoto(width: number, height: number, seed: number, withAlpha: boolean): PixelImage {
  const random = seededRandom(seed);
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < data.length; i++) data[i] = i % 4 === 3 && !withAlpha ? 255 : Math.floor(random() * 256);
  return { width, height, data };
}

/** A photo of slow gradients (opaque): any decent scaler gives nearly the same pixels. */
function smoothPhoto(width: number, height: number): PixelImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      data.set([Math.round((255 * x) / width), Math.round((255 * y) / height), Math.round(128 + 100 * Math.sin(x / 40)), 255], (y * width + x) * 4);
    }
  }
  return { width, height, data };
}

function randomMap(gridSize: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  return new Float32Array(gridSize * gridSize).map(() => random());
}

function compare(name: string, got: Uint8ClampedArray | Uint8Array, want: PixelImage, photoAlone: PixelImage): RenderCase {
  let maxChannelDiff = got.length === want.data.length ? 0 : Infinity;
  let changedPixels = 0;
  for (let i = 0; i < want.data.length; i += 4) {
    let changed = false;
    for (let c = 0; c < 4; c++) {
      maxChannelDiff = Math.max(maxChannelDiff, Math.abs(got[i + c]! - want.data[i + c]!));
      if (Math.abs(got[i + c]! - photoAlone.data[i + c]!) > 2) changed = true;
    }
    if (changed) changedPixels++;
  }
  return { name, maxChannelDiff, changedPixels, firstPixel: { got: Array.from(got.subarray(0, 4)), want: Array.from(want.data.subarray(0, 4)) } };
}

async function readTexture(device: GPUDevice, texture: GPUTexture): Promise<Uint8Array> {
  const bytesPerRow = Math.ceil((texture.width * 4) / 256) * 256;
  const buffer = device.createBuffer({ label: 'test.readback', size: bytesPerRow * texture.height, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
  const encoder = device.createCommandEncoder({ label: 'test.readTexture' });
  encoder.copyTextureToBuffer({ texture }, { buffer, bytesPerRow }, [texture.width, texture.height]);
  device.queue.submit([encoder.finish()]);
  await buffer.mapAsync(GPUMapMode.READ);
  const padded = new Uint8Array(buffer.getMappedRange());
  const out = new Uint8Array(texture.width * texture.height * 4);
  for (let y = 0; y < texture.height; y++) out.set(padded.subarray(y * bytesPerRow, y * bytesPerRow + texture.width * 4), y * texture.width * 4);
  buffer.unmap();
  buffer.destroy();
  return out;
}

export async function compareRenderers(): Promise<RenderCase[]> {
  let stage = 'device';
  try {
    return await compareRenderersIn((s) => { stage = s; });
  } catch (e) {
    throw new Error(`compareRenderers failed at "${stage}": ${String(e)}`);
  }
}

async function compareRenderersIn(setStage: (stage: string) => void): Promise<RenderCase[]> {
  const device = await requireDevice();
  const errors: string[] = [];
  device.addEventListener('uncapturederror', (e) => errors.push((e as GPUUncapturedErrorEvent).error.message));
  setStage('renderer');
  const renderer = await GpuHeatmapRenderer.create(device);
  const cases: RenderCase[] = [];
  const gridSize = 14;
  try {
    // 1. The kernel into a storage texture: a photo with alpha, resampled (up in x, down in y), cropped.
    const photo = randomPhoto(41, 90, 11, true);
    const map = randomMap(gridSize, 12);
    const size = { width: 53, height: 37 };
    const target = device.createTexture({ label: 'test.target', size: [size.width, size.height], format: 'rgba8unorm', usage: GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.COPY_SRC });
    for (const colorMap of ['jet', 'viridis', 'turbo'] as ColorMapName[]) {
      for (const [label, extra] of [['whole photo', {}], ['photoRect', { photoRect: { x: 3, y: 10, width: 30, height: 70 } }]] as const) {
        const options: RenderOptions = { colorMap, opacity: 0.55, ...extra };
        setStage(`overlay ${colorMap} ${label}`);
        renderer.renderToTexture(target, map, gridSize, photo, options);
        const got = await readTexture(device, target);
        const want = renderHeatmapCpu(map, gridSize, photo, size, options);
        cases.push(compare(`overlay kernel, ${colorMap}, ${label}`, got, want, renderHeatmapCpu(map, gridSize, photo, size, { ...options, opacity: 0 })));
      }
    }
    target.destroy();

    // 2. GpuHeatmapRenderer.draw into a WebGPU canvas, from an ImageBitmap.
    const canvasPhoto = randomPhoto(80, 60, 13, false);
    setStage('bitmap');
    const bitmap = await createImageBitmap(new ImageData(canvasPhoto.data, canvasPhoto.width, canvasPhoto.height));
    const gpuCanvas = document.createElement('canvas');
    gpuCanvas.width = 64;
    gpuCanvas.height = 48;
    for (const colorMap of ['jet', 'turbo'] as ColorMapName[]) {
      const options: RenderOptions = { colorMap, opacity: 0.7 };
      setStage(`canvas ${colorMap}`);
      // Headless Chromium here cannot read a WebGPU canvas back (drawImage gives transparent black even for a
      // plain clear), so copy the canvas texture while it is current, through draw's onFrame.
      let copied: Promise<Uint8Array> | undefined;
      await renderer.draw(gpuCanvas, map, gridSize, bitmap, options, (frame) => { copied = readTexture(device, frame); });
      const got = await copied!;
      const want = renderHeatmapCpu(map, gridSize, canvasPhoto, { width: 64, height: 48 }, options);
      cases.push(compare(`WebGPU canvas, ${colorMap}`, got, want, renderHeatmapCpu(map, gridSize, canvasPhoto, { width: 64, height: 48 }, { ...options, opacity: 0 })));
    }
    bitmap.close();

    // 2b. A photo much larger than the canvas is pre-scaled by the browser: a smooth photo must come out as the
    // bilinear reference does, up to the two scalers' differences.
    setStage('canvas downscaled');
    const big = smoothPhoto(320, 240);
    const bigBitmap = await createImageBitmap(new ImageData(big.data, big.width, big.height));
    {
      const options: RenderOptions = { colorMap: 'viridis', opacity: 0.5, photoRect: { x: 40, y: 0, width: 240, height: 240 } };
      gpuCanvas.width = 48;
      gpuCanvas.height = 48;
      let copied: Promise<Uint8Array> | undefined;
      await renderer.draw(gpuCanvas, map, gridSize, bigBitmap, options, (frame) => { copied = readTexture(device, frame); });
      const want = renderHeatmapCpu(map, gridSize, big, { width: 48, height: 48 }, options);
      cases.push(compare('WebGPU canvas, 5× downscaled photo', await copied!, want, renderHeatmapCpu(map, gridSize, big, { width: 48, height: 48 }, { ...options, opacity: 0 })));
    }
    bigBitmap.close();

    // 3. drawHeatmap2d (the WASM path): photo at the canvas size, so the browser's scaling is an exact copy.
    const canvas2d = document.createElement('canvas');
    canvas2d.width = canvasPhoto.width;
    canvas2d.height = canvasPhoto.height;
    const options: RenderOptions = { colorMap: 'viridis', opacity: 0.4 };
    setStage('2d');
    await drawHeatmap2d(canvas2d, map, gridSize, canvasPhoto, options);
    const got = canvas2d.getContext('2d')!.getImageData(0, 0, canvas2d.width, canvas2d.height).data;
    cases.push(compare('2D canvas, viridis', got, renderHeatmapCpu(map, gridSize, canvasPhoto, canvasPhoto, options), canvasPhoto));
    if (errors.length) throw new Error(`WebGPU validation: ${errors.join('; ')}`);
  } finally {
    renderer.destroy();
    device.destroy();
  }
  return cases;
}

export interface RedrawStep {
  name: string;
  /** Largest channel difference from the same draw without a cache (0: the cached photo is what a read gives). */
  maxDiffFromUncached: number;
  /** Times the photo was scaled and read back so far. */
  reads: number;
}

/** drawHeatmap2d with a ScaledPhotoCache over a series of redraws (options, map, canvas size, photo region). */
/** A photo prepared for a canvas size (as the engine does while the model runs), then drawn: the draw reads the
 * photo no more and gives the pixels of an uncached draw; a draw at another size scales the photo itself. */
export async function comparePreparedDraw(): Promise<RedrawStep[]> {
  const photo = smoothPhoto(120, 90);
  const bitmap = await createImageBitmap(new ImageData(new Uint8ClampedArray(photo.data), photo.width, photo.height));
  const cache = new ScaledPhotoCache();
  const square = { x: 15, y: 0, width: 90, height: 90 };
  const steps: RedrawStep[] = [];
  const drawAndCompare = async (name: string, size: number) => {
    const options: RenderOptions = { colorMap: 'turbo', opacity: 0.6, photoRect: square };
    const values = randomMap(14, 9);
    const canvas = document.createElement('canvas');
    canvas.width = size;
    canvas.height = size;
    await drawHeatmap2d(canvas, values, 14, bitmap, options, cache);
    const got = canvas.getContext('2d')!.getImageData(0, 0, size, size).data;
    const fresh = document.createElement('canvas');
    fresh.width = size;
    fresh.height = size;
    await drawHeatmap2d(fresh, values, 14, bitmap, options);
    const want = fresh.getContext('2d')!.getImageData(0, 0, size, size).data;
    let maxDiffFromUncached = 0;
    for (let i = 0; i < want.length; i++) maxDiffFromUncached = Math.max(maxDiffFromUncached, Math.abs(got[i]! - want[i]!));
    steps.push({ name, maxDiffFromUncached, reads: cache.reads });
  };
  try {
    cache.prepare(bitmap, 64, 64, square);
    cache.prepare(bitmap, 64, 64, square);
    steps.push({ name: 'prepared twice for 64', maxDiffFromUncached: 0, reads: cache.reads });
    await drawAndCompare('drawn at the prepared size', 64);
    await drawAndCompare('drawn at another size', 40);
  } finally {
    bitmap.close();
  }
  return steps;
}

export async function compareCanvas2dRedraws(): Promise<RedrawStep[]> {
  const photo = smoothPhoto(120, 90);
  const bitmap = await createImageBitmap(new ImageData(new Uint8ClampedArray(photo.data), photo.width, photo.height));
  const cache = new ScaledPhotoCache();
  const canvas = document.createElement('canvas');
  const steps: RedrawStep[] = [];
  const step = async (name: string, size: number, values: Float32Array, gridSize: number, options: RenderOptions) => {
    if (canvas.width !== size) { canvas.width = size; canvas.height = size; }
    await drawHeatmap2d(canvas, values, gridSize, bitmap, options, cache);
    const got = canvas.getContext('2d')!.getImageData(0, 0, size, size).data;
    const fresh = document.createElement('canvas');
    fresh.width = size;
    fresh.height = size;
    await drawHeatmap2d(fresh, values, gridSize, bitmap, options);
    const want = fresh.getContext('2d')!.getImageData(0, 0, size, size).data;
    let maxDiffFromUncached = 0;
    for (let i = 0; i < want.length; i++) maxDiffFromUncached = Math.max(maxDiffFromUncached, Math.abs(got[i]! - want[i]!));
    steps.push({ name, maxDiffFromUncached, reads: cache.reads });
  };
  const square = { x: 15, y: 0, width: 90, height: 90 };
  try {
    const whole = { x: 0, y: 0, width: 90, height: 90 };
    await step('first draw', 64, randomMap(14, 5), 14, { colorMap: 'viridis', opacity: 0.4, photoRect: square });
    await step('other opacity and colour map', 64, randomMap(14, 5), 14, { colorMap: 'turbo', opacity: 0.7, photoRect: square });
    await step('other map (another method)', 64, randomMap(7, 6), 7, { colorMap: 'jet', opacity: 0.5, photoRect: square });
    await step('other opacity again', 64, randomMap(7, 6), 7, { colorMap: 'jet', opacity: 0.9, photoRect: square });
    await step('canvas resized', 40, randomMap(14, 5), 14, { colorMap: 'viridis', opacity: 0.4, photoRect: square });
    await step('other photo region', 40, randomMap(14, 5), 14, { colorMap: 'viridis', opacity: 0.4, photoRect: whole });
    await step('same region redrawn', 40, randomMap(14, 5), 14, { colorMap: 'turbo', opacity: 0.4, photoRect: whole });
    await step('and again', 40, randomMap(14, 5), 14, { colorMap: 'turbo', opacity: 0.6, photoRect: whole });
  } finally {
    bitmap.close();
  }
  return steps;
}
