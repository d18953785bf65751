// 100 diagnoses in a row must not grow the JS heap or the number of live GPU buffers beyond a small bound.
// GPU buffers are counted by wrapping GPUDevice.prototype.createBuffer / GPUBuffer.prototype.destroy before the
// engine exists (ORT's buffers go through the same JS API). The heap is read through CDP after forced GCs.
import type { CDPSession } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startBrowserHarness, type BrowserHarness } from '../browser/harness';
import { FIXTURE_MODEL_DIR, imageBase64, openDriver, serveModel } from './support';

let harness: BrowserHarness;
let driver: Awaited<ReturnType<typeof openDriver>>;
let cdp: CDPSession;
let modelUrl: string;

beforeAll(async () => {
  harness = await startBrowserHarness();
  driver = await openDriver(harness);
  cdp = await driver.page.context().newCDPSession(driver.page);
  modelUrl = await serveModel(driver.page, harness.baseUrl, 'fixture', FIXTURE_MODEL_DIR);
  await driver.page.evaluate(() => {
    // Weak references, so a buffer dropped without destroy() stops counting once it is collected.
    const refs = new Set<WeakRef<GPUBuffer>>();
    const destroyed = new WeakSet<GPUBuffer>();
    const create = GPUDevice.prototype.createBuffer;
    GPUDevice.prototype.createBuffer = function (this: GPUDevice, descriptor: GPUBufferDescriptor) {
      const buffer = create.call(this, descriptor);
      refs.add(new WeakRef(buffer));
      return buffer;
    };
    const destroy = GPUBuffer.prototype.destroy;
    GPUBuffer.prototype.destroy = function (this: GPUBuffer) {
      destroyed.add(this);
      return destroy.call(this);
    };
    window.t.gpuBuffers = () => {
      for (const ref of [...refs]) {
        const buffer = ref.deref();
        if (!buffer || destroyed.has(buffer)) refs.delete(ref);
      }
      return { alive: refs.size };
    };
  });
});
afterAll(async () => {
  await driver?.close();
  await harness?.close();
});

async function heapMb(): Promise<number> {
  for (let i = 0; i < 3; i++) await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = await cdp.send('Runtime.getHeapUsage');
  return usedSize / 2 ** 20;
}

async function liveGpuBuffers(): Promise<number> {
  await cdp.send('HeapProfiler.collectGarbage');
  return driver.page.evaluate(() => (window.t.gpuBuffers as () => { alive: number })().alive);
}

test('WASM: 100 fresh photos diagnosed in a row keep the JS heap flat', async () => {
  const { page } = driver;
  const round = (count: number) => page.evaluate(async ({ url, img, count }) => {
    const api = window.leafLens;
    const engine = (window.t.wasm ??= await api.createEngine(url, { backend: 'wasm', modelCache: api.memoryFileCache() })) as Awaited<ReturnType<typeof api.createEngine>>;
    const bytes = Uint8Array.from(atob(img), (c) => c.charCodeAt(0));
    const methods = ['rollout', 'attention', 'relevance', 'lrp'] as const;
    for (let i = 0; i < count; i++) {
      const photo = await engine.loadPhoto(new Blob([bytes]));
      const d = await engine.diagnose(photo, { method: methods[i % methods.length]!, targetClass: i % 3 });
      if (d.heatmap.values.length !== 196) throw new Error('bad map');
      photo.close();
    }
    return api.engineDiagnostics(engine);
  }, { url: modelUrl, img: imageBase64('leaf-96x72.jpg'), count });
  await round(8); // warm-up: sessions, ORT arenas, JIT
  const before = await heapMb();
  const t0 = Date.now();
  const stats = await round(100);
  const seconds = (Date.now() - t0) / 1000;
  const after = await heapMb();
  console.log(`WASM 100 diagnoses: ${seconds.toFixed(1)} s, JS heap ${before.toFixed(2)} → ${after.toFixed(2)} MB, ${JSON.stringify(stats)}`);
  expect(stats.forwardRuns + stats.fullRuns + stats.lrpRuns).toBeGreaterThanOrEqual(100); // every photo was new: the model really ran
  expect(stats.cachedRuns).toBe(0); // closed photos leave nothing behind
  expect(stats.liveOutputTensors).toBe(0);
  expect(after - before).toBeLessThan(4);
}, 600_000);

test('WebGPU: 100 re-explanations and fresh model runs keep live GPU buffers and the JS heap bounded', async () => {
  const { page } = driver;
  const adapter = await page.evaluate(async () => Boolean(await navigator.gpu?.requestAdapter()));
  expect(adapter, 'no WebGPU adapter').toBe(true);
  const baseline = await liveGpuBuffers();
  // One full run and one lrp run, then 100 explanations from their cached GPU outputs (kernels only, every method).
  await page.evaluate(async ({ url, img }) => {
    const api = window.leafLens;
    const engine = await api.createEngine(url, { backend: 'webgpu', modelCache: api.memoryFileCache() });
    window.t.gpu = engine;
    window.t.photoA = await engine.loadPhoto(new Blob([Uint8Array.from(atob(img), (c) => c.charCodeAt(0))]));
    await engine.diagnose(window.t.photoA as Awaited<ReturnType<typeof engine.loadPhoto>>, { method: 'relevance' });
    await engine.diagnose(window.t.photoA as Awaited<ReturnType<typeof engine.loadPhoto>>, { method: 'lrp' });
  }, { url: modelUrl, img: imageBase64('leaf-96x72.jpg') });
  const explainRound = (count: number) => page.evaluate(async (count) => {
    const api = window.leafLens;
    const engine = window.t.gpu as Awaited<ReturnType<typeof api.createEngine>>;
    const photo = window.t.photoA as Awaited<ReturnType<typeof engine.loadPhoto>>;
    const steps = [{ method: 'rollout' }, { method: 'attention', headFusion: 'max' }, { method: 'relevance' }, { method: 'lrp' }, { method: 'rollout', discardRatio: 0.3, headFusion: 'min' }] as const;
    for (let i = 0; i < count; i++) {
      const d = await engine.diagnose(photo, steps[i % steps.length]!);
      if (d.timings.modelMs !== 0) throw new Error(`step ${i} re-ran the model`);
    }
    return api.engineDiagnostics(engine);
  }, count);
  await explainRound(10);
  const buffersBefore = await liveGpuBuffers();
  const heapBefore = await heapMb();
  const stats = await explainRound(100);
  const buffersAfter = await liveGpuBuffers();
  const heapAfter = await heapMb();
  console.log(`WebGPU 100 explanations: live GPU buffers ${baseline} → ${buffersBefore} → ${buffersAfter}, JS heap ${heapBefore.toFixed(2)} → ${heapAfter.toFixed(2)} MB, ${JSON.stringify(stats)}`);
  expect([stats.fullRuns, stats.lrpRuns]).toEqual([1, 1]);
  expect(buffersAfter - buffersBefore).toBeLessThanOrEqual(2);
  expect(heapAfter - heapBefore).toBeLessThan(3);

  // Fresh photos: each forward run leaves GPU outputs in the run cache (3 runs at most); older ones are disposed.
  const perPhoto: number[] = [];
  for (let i = 0; i < 4; i++) {
    await page.evaluate(async ({ img }) => {
      const engine = window.t.gpu as Awaited<ReturnType<typeof window.leafLens.createEngine>>;
      const photo = await engine.loadPhoto(new Blob([Uint8Array.from(atob(img), (c) => c.charCodeAt(0))]));
      await engine.diagnose(photo, { method: 'rollout' });
      (window.t.photos ??= [] as unknown[]) && (window.t.photos as unknown[]).push(photo);
    }, { img: imageBase64(i % 2 ? 'leaf.webp' : 'leaf-cmyk.jpg') });
    perPhoto.push(await liveGpuBuffers());
  }
  const final = await page.evaluate(() => window.leafLens.engineDiagnostics(window.t.gpu as Awaited<ReturnType<typeof window.leafLens.createEngine>>));
  console.log(`WebGPU fresh photos: live GPU buffers after each ${perPhoto.join(', ')}; ${JSON.stringify(final)}`);
  expect(final.forwardRuns).toBe(4);
  expect(final.cachedRuns).toBe(3);
  // Once the cache is full, a new run's outputs replace disposed ones: no growth from the 3rd to the 4th photo.
  expect(perPhoto[3]! - perPhoto[2]!).toBeLessThanOrEqual(2);
  // dispose() gives every buffer back.
  await page.evaluate(() => (window.t.gpu as { dispose(): void }).dispose());
  const afterDispose = await liveGpuBuffers();
  console.log(`after dispose: ${afterDispose} live GPU buffers (baseline ${baseline})`);
  expect(afterDispose).toBeLessThanOrEqual(baseline + 2);
}, 600_000);
