// A class taught on the phone is explained like any other on WebGPU (SwiftShader here) and WASM: the head is a
// graph input, so relevance, LRP and rollout of the taught class work, also on a photo of another class. Uses the
// random-weights fixture model with synthetic base statistics (the maths is tested in test/engine/taught.test.ts;
// this checks the engine path: embed → teachClass → setHead → diagnose with the taught class as target).
import { expect, test } from 'vitest';
import { fixtureDriverPerFile, imageBase64 } from './support';

const fixture = fixtureDriverPerFile();

interface MethodResult {
  method: string;
  explained: [number, number];
  mapGap: number;
  referenceGap: number;
  spread: [number, number];
}

test('relevance, lrp and rollout explain a taught class on WebGPU and WASM, on a photo of another class', async () => {
  const { page } = fixture.driver;
  const adapter = await page.evaluate(async () => Boolean(await navigator.gpu?.requestAdapter()));
  expect(adapter, 'no WebGPU adapter: Chromium needs --enable-unsafe-webgpu').toBe(true);

  const result = await page.evaluate(async ({ url, taughtImg, otherImg }) => {
    const api = window.leafLens;
    const gpu = await api.createEngine(url, { backend: 'webgpu', modelCache: api.memoryFileCache() });
    const cpu = await api.createEngine(url, { backend: 'wasm', modelCache: api.memoryFileCache() });
    const blob = (b64: string) => new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], { type: 'image/jpeg' });
    const F = cpu.model.backbone.features;
    // Synthetic statistics for the shipped labels, 20 photos each: class 0's mean is the other photo's own
    // (normalised) features, so that photo is of a shipped class; the others are unit vectors.
    const shipped = cpu.headJson('shipped') as Record<string, unknown> & { labels: string[] };
    const C = shipped.labels.length;
    const photoC = await cpu.loadPhoto(blob(otherImg));
    const otherFeatures = Array.from((await cpu.embed(photoC)).features);
    const norm = Math.hypot(...otherFeatures);
    const means = shipped.labels.map((_, c) => (c === 0 ? otherFeatures.map((v) => v / norm) : Array.from({ length: F }, (_, f) => (f === c ? 1 : 0))));
    const scatter = Array.from({ length: F }, (_, i) => Array.from({ length: F }, (_, j) => (i === j ? 0.5 : 0)));
    const base = { ...shipped, statistics: { feature_norm: 'l2', class_means: means, class_counts: means.map(() => 20), scatter, shrinkage: 0.1 } };
    // The taught class: the features of one photo and of its mirror image (two "photos" of the new class).
    const taughtPhoto = await cpu.loadPhoto(blob(taughtImg));
    const bitmap = taughtPhoto.bitmap;
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d')!;
    ctx.scale(-1, 1);
    ctx.drawImage(bitmap, -bitmap.width, 0);
    const mirrored = await cpu.loadPhoto(await canvas.convertToBlob({ type: 'image/png' }));
    const features = [(await cpu.embed(taughtPhoto)).features, (await cpu.embed(mirrored)).features];
    const taught = api.teachClass(base, cpu.model.backbone, { label: 'Ugonjwa mpya', note: 'ushauri', features });
    const infoG = await gpu.setHead(taught, 'taught');
    const infoC = await cpu.setHead(taught, 'taught');
    const index = infoC.labels.indexOf('Ugonjwa mpya');
    const taughtTop = (await cpu.embed(taughtPhoto)).top;

    const photoG = await gpu.loadPhoto(blob(otherImg));
    const maxGap = (a: ArrayLike<number>, b: ArrayLike<number>) => {
      let m = 0;
      for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
      return a.length === b.length ? m : Infinity;
    };
    const dims = { layers: gpu.model.layers, heads: gpu.model.heads, tokens: gpu.model.tokens, prefixTokens: gpu.model.prefixTokens, gridSize: gpu.model.gridSize };
    const out = [];
    for (const method of ['relevance', 'lrp', 'rollout'] as const) {
      const g = await gpu.diagnose(photoG, { method, targetClass: index });
      const c = await cpu.diagnose(photoC, { method, targetClass: index });
      const cached = await api.engineCachedOutputs(gpu, photoG);
      const run = cached.find((r) => method === 'rollout' || r.target === index)!;
      const reference = api.explainOnCpu(run.tensors, dims, g.options);
      out.push({
        method,
        explained: [g.explainedClass, c.explainedClass],
        mapGap: maxGap(g.heatmap.values, c.heatmap.values),
        referenceGap: maxGap(g.heatmap.values, reference.values),
        spread: [g.heatmap.max - g.heatmap.min, c.heatmap.max - c.heatmap.min],
      });
    }
    const otherTop = (await cpu.diagnose(photoC, { method: 'rollout' })).top;
    return { labels: [infoG.labels, infoC.labels], index, classes: C, taughtTop, otherTop, out, methods: gpu.model.methods };
  }, { url: fixture.modelUrl, taughtImg: imageBase64('leaf-96x72.jpg'), otherImg: imageBase64('leaf-cmyk.jpg') }) as {
    labels: [string[], string[]]; index: number; classes: number; taughtTop: number; otherTop: number; out: MethodResult[]; methods: string[];
  };

  console.log(JSON.stringify(result));
  expect(result.labels[0]).toEqual(result.labels[1]);
  expect(result.index).toBe(result.classes);
  expect(result.labels[1][result.index]).toBe('Ugonjwa mpya');
  // The photo it was taught from is recognised as the taught class.
  expect(result.taughtTop).toBe(result.index);
  // The other photo is answered as a shipped class, and the taught class is still explained on it.
  expect(result.otherTop).toBe(0);
  expect(result.out.map((r) => r.method)).toEqual(['relevance', 'lrp', 'rollout']);
  expect(result.methods).toContain('lrp');
  for (const r of result.out) {
    expect(r.explained, r.method).toEqual([result.index, result.index]);
    expect(r.mapGap, `${r.method}: WebGPU vs WASM map`).toBeLessThanOrEqual(1e-3);
    expect(r.referenceGap, `${r.method}: WebGPU map vs CPU reference`).toBeLessThanOrEqual(1e-4);
    expect(r.spread[0], `${r.method}: a flat map`).toBeGreaterThan(0);
    expect(r.spread[1], `${r.method}: a flat map`).toBeGreaterThan(0);
  }
}, 600_000);
