// The WASM backend runs onnxruntime in its proxy worker (src/engine/model/ort.ts): a diagnosis through the worker
// gives the logits and map that the same graph gives on the page's main thread (ORT's WebGPU build, 'wasm' EP),
// the worker really exists, and the photo's pixels and the head's weights survive being sent to it.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startBrowserHarness, type BrowserHarness } from '../browser/harness';
import { FIXTURE_MODEL_DIR, imageBase64, openDriver, serveModel } from './support';
import type { WorkerComparison } from './workerPage';

let harness: BrowserHarness;
beforeAll(async () => { harness = await startBrowserHarness(); });
afterAll(async () => { await harness?.close(); });

const maxDiff = (a: number[], b: number[]): number => {
  expect(a.length).toBe(b.length);
  return Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));
};

test('a WASM diagnosis through ORT\'s proxy worker equals the main-thread run of the same graph', async () => {
  const driver = await openDriver(harness);
  const url = await serveModel(driver.page, harness.baseUrl, 'fixture', FIXTURE_MODEL_DIR);
  // A string, not a function: vitest would rewrite a dynamic import() inside a function for node.
  const result = await driver.page.evaluate(
    `import('/test/engine-browser/workerPage.ts').then((m) => m.compareWorkerWithMainThread(${JSON.stringify(url)}, ${JSON.stringify(imageBase64('leaf-96x72.jpg'))}))`,
  ) as WorkerComparison;
  const workers = driver.page.workers().map((w) => w.url());
  await driver.close();
  console.log(JSON.stringify({ ...result, worker: { ...result.worker, map: result.worker.map.length }, mainThread: { ...result.mainThread, map: result.mainThread.map.length }, workers }));

  expect(result.backend).toBe('wasm');
  expect(result.inWorker).toBe(true);
  expect(result.mainThreadOrtInWorker).toBe(false);
  // ORT's proxy is its own module started as a worker (its threads, when the page is cross-origin isolated, are more).
  expect(workers.some((u) => /onnxruntime-web|ort-wasm/.test(u)), workers.join(', ')).toBe(true);

  // Same wasm kernels on both sides: logits within 1e-5 of each other, maps within 1e-4 (the engine's map comes
  // from the fast CPU path, the main-thread one from the reference).
  expect(maxDiff(result.worker.logits, result.mainThread.logits)).toBeLessThanOrEqual(1e-5);
  expect(maxDiff(result.worker.map, result.mainThread.map)).toBeLessThanOrEqual(1e-4);
  expect(result.worker.map.some((v) => v > 0)).toBe(true);

  // The four diagnoses of one photo agree on the probabilities: inputs were not detached or zeroed by the transfer.
  for (const p of result.worker.probabilities.slice(1)) expect(maxDiff(p, result.worker.probabilities[0]!)).toBeLessThanOrEqual(1e-6);
  // relevance (full run), rollout (reuses it), another class (a second full run), the top class again (cached).
  expect(result.runs.map((r) => r.graph).sort()).toEqual(['full', 'full']);
}, 300_000);
