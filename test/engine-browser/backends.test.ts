// One photo through the fixture model on WebGPU (SwiftShader here) and on WASM: same probabilities (≤ 1e-4) and maps
// (≤ 1e-3) for every method; the WebGPU map equals the CPU reference on the tensors ORT left on the GPU; switching
// method or class re-runs the model only when needed; a lost device is rebuilt and the photo and last result survive.
// SwiftShader needs ~15 s per forward run and ~30 s per full run of the micro fixture, so runs are counted and few.
import { expect, test } from 'vitest';
import { fixtureDriverPerFile, imageBase64 } from './support';

const fixture = fixtureDriverPerFile();

interface Step {
  method: 'relevance' | 'rollout' | 'attention' | 'lrp';
  targetClass?: number | 'other';
  headFusion?: 'mean' | 'max' | 'min';
  discardRatio?: number;
  startLayer?: number;
}

interface StepResult {
  step: Step;
  probsGap: number;
  mapGap: number;
  /** WebGPU map vs explainOnCpu on the WebGPU run's own tensors. */
  referenceGap: number;
  explainedClass: [number, number];
  runs: { gpu: [number, number, number]; cpu: [number, number, number] };
  modelMs: [number, number];
  backend: [string, string];
}

test('WebGPU and WASM agree for every method; cached outputs are reused', async () => {
  const { page } = fixture.driver;
  // Probes adapter support first: this test must fail (not skip) without WebGPU.
  const adapter = await page.evaluate(async () => Boolean(await navigator.gpu?.requestAdapter()));
  expect(adapter, 'no WebGPU adapter: Chromium needs --enable-unsafe-webgpu').toBe(true);

  const steps: Step[] = [
    { method: 'relevance' },                              // full run (top class)
    { method: 'rollout' },                                // reuses the full run's attentions
    { method: 'attention', headFusion: 'max' },           // same
    { method: 'lrp' },                                    // the lrp graph: its own run (the full graph has no relevance)
    { method: 'rollout', headFusion: 'min', discardRatio: 0.5, startLayer: 1 },
    { method: 'relevance', targetClass: 'other' },        // another class: a new full run
    { method: 'lrp', targetClass: 'other' },              // and a new lrp run
    { method: 'attention', targetClass: 'other' },        // attention ignores the class: no run
  ];
  const results = await page.evaluate(async ({ url, img, steps }) => {
    const api = window.leafLens;
    const statuses: unknown[] = [];
    const gpu = await api.createEngine(url, { backend: 'webgpu', modelCache: api.memoryFileCache(), onStatus: (s) => statuses.push(s) });
    const cpu = await api.createEngine(url, { backend: 'wasm', modelCache: api.memoryFileCache() });
    window.t.gpu = gpu;
    window.t.cpu = cpu;
    window.t.statuses = statuses;
    const blob = new Blob([Uint8Array.from(atob(img), (c) => c.charCodeAt(0))], { type: 'image/jpeg' });
    const photoG = await gpu.loadPhoto(blob);
    const photoC = await cpu.loadPhoto(blob);
    window.t.photoG = photoG;
    const maxGap = (a: ArrayLike<number>, b: ArrayLike<number>) => {
      if (a.length !== b.length) return Infinity;
      let m = 0;
      for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
      return m;
    };
    const runsOf = (e: typeof gpu): [number, number, number] => { const d = api.engineDiagnostics(e); return [d.forwardRuns, d.fullRuns, d.lrpRuns]; };
    const out = [];
    let other = -1;
    for (const step of steps) {
      const options = { ...step, targetClass: step.targetClass === 'other' ? other : step.targetClass };
      const g = await gpu.diagnose(photoG, options);
      const c = await cpu.diagnose(photoC, options);
      if (other < 0) other = (g.top + 1) % g.labels.length;
      // The CPU reference on the exact tensors the WebGPU run produced (downloaded from the GPU for the check only).
      const cached = await api.engineCachedOutputs(gpu, photoG);
      const needsTarget = options.method === 'relevance' || options.method === 'lrp';
      const run = cached.find((r) => !needsTarget || r.target === g.explainedClass)!;
      const reference = api.explainOnCpu(run.tensors, { layers: gpu.model.layers, heads: gpu.model.heads, tokens: gpu.model.tokens, prefixTokens: gpu.model.prefixTokens, gridSize: gpu.model.gridSize }, g.options);
      out.push({
        step,
        probsGap: maxGap(g.probabilities, c.probabilities),
        mapGap: maxGap(g.heatmap.values, c.heatmap.values),
        referenceGap: maxGap(g.heatmap.values, reference.values),
        explainedClass: [g.explainedClass, c.explainedClass],
        runs: { gpu: runsOf(gpu), cpu: runsOf(cpu) },
        modelMs: [g.timings.modelMs, c.timings.modelMs],
        backend: [g.backend, c.backend],
      });
    }
    return out;
  }, { url: fixture.modelUrl, img: imageBase64('leaf-96x72.jpg'), steps }) as StepResult[];

  console.log(results.map((r) => `${JSON.stringify(r.step)} probs Δ${r.probsGap.toExponential(1)} map Δ${r.mapGap.toExponential(1)} ref Δ${r.referenceGap.toExponential(1)} runs gpu ${r.runs.gpu} cpu ${r.runs.cpu} modelMs ${r.modelMs.map((m) => m.toFixed(0))}`).join('\n'));
  for (const r of results) {
    expect(r.backend).toEqual(['webgpu', 'wasm']);
    expect(r.probsGap, `probabilities ${JSON.stringify(r.step)}`).toBeLessThanOrEqual(1e-4);
    expect(r.mapGap, `map ${JSON.stringify(r.step)}`).toBeLessThanOrEqual(1e-3);
    expect(r.referenceGap, `WebGPU map vs CPU reference ${JSON.stringify(r.step)}`).toBeLessThanOrEqual(1e-4);
    expect(r.explainedClass[0]).toBe(r.explainedClass[1]);
  }
  // [forward, full, lrp runs] after each step, identical on both backends: relevance runs the full graph, lrp the lrp
  // graph; rollout and attention reuse whichever run is cached.
  const expectedRuns = [[0, 1, 0], [0, 1, 0], [0, 1, 0], [0, 1, 1], [0, 1, 1], [0, 2, 1], [0, 2, 2], [0, 2, 2]];
  expect(results.map((r) => r.runs.gpu)).toEqual(expectedRuns);
  expect(results.map((r) => r.runs.cpu)).toEqual(expectedRuns);
  expect(results.map((r) => r.modelMs[0] > 0)).toEqual([true, false, false, true, false, true, true, false]);

  // A new photo asked for rollout runs only the forward graph.
  const forwardOnly = await page.evaluate(async ({ img }) => {
    const api = window.leafLens;
    const cpu = window.t.cpu as Awaited<ReturnType<typeof api.createEngine>>;
    const photo = await cpu.loadPhoto(new Blob([Uint8Array.from(atob(img), (c) => c.charCodeAt(0))]));
    await cpu.diagnose(photo, { method: 'rollout' });
    const after = api.engineDiagnostics(cpu);
    await cpu.diagnose(photo, { method: 'attention' });
    const again = api.engineDiagnostics(cpu);
    photo.close();
    return [after.forwardRuns, after.fullRuns, again.forwardRuns, again.fullRuns];
  }, { img: imageBase64('leaf-cmyk.jpg') });
  expect(forwardOnly).toEqual([1, 2, 1, 2]);
}, 600_000);

test('a destroyed GPUDevice is rebuilt; the photo handle and the last heatmap stay usable', async () => {
  const { page } = fixture.driver;
  const outcome = await page.evaluate(async () => {
    const api = window.leafLens;
    const gpu = window.t.gpu as Awaited<ReturnType<typeof api.createEngine>>;
    const photo = window.t.photoG as Awaited<ReturnType<typeof gpu.loadPhoto>>;
    const statuses = window.t.statuses as { kind: string; backend?: string }[];
    const before = await gpu.diagnose(photo, { method: 'rollout' }); // cached: no run
    const oldDevice = api.engineDevice(gpu)!;
    const statusCount = statuses.length;
    oldDevice.destroy();
    // The loss is reported asynchronously; the next call waits for the rebuilt backend.
    await new Promise((r) => setTimeout(r, 100));
    const after = await gpu.diagnose(photo, { method: 'rollout' });
    const newDevice = api.engineDevice(gpu);
    // The pre-loss heatmap still draws (through the new device).
    const canvas = new OffscreenCanvas(96, 72);
    const drawMs = await before.heatmap.draw(canvas, { colorMap: 'turbo', opacity: 0.5 });
    const bitmap = canvas.transferToImageBitmap();
    const probe = new OffscreenCanvas(96, 72).getContext('2d')!;
    probe.drawImage(bitmap, 0, 0);
    const pixels = probe.getImageData(0, 0, 96, 72).data;
    let lit = 0;
    for (let i = 0; i < pixels.length; i += 4) if (pixels[i]! + pixels[i + 1]! + pixels[i + 2]! > 0) lit++;
    let gap = 0;
    for (let i = 0; i < before.heatmap.values.length; i++) gap = Math.max(gap, Math.abs(before.heatmap.values[i]! - after.heatmap.values[i]!));
    let pGap = 0;
    for (let i = 0; i < before.probabilities.length; i++) pGap = Math.max(pGap, Math.abs(before.probabilities[i]! - after.probabilities[i]!));
    return {
      newStatuses: statuses.slice(statusCount).map((s) => s.kind + (s.backend ? `:${s.backend}` : '')),
      sameDevice: newDevice === oldDevice,
      backend: after.backend,
      modelMs: after.timings.modelMs,
      gap,
      pGap,
      drawMs,
      litFraction: lit / (96 * 72),
      generation: api.engineDiagnostics(gpu).deviceGeneration,
    };
  });
  console.log(JSON.stringify(outcome));
  expect(outcome.newStatuses).toEqual(['recovering', 'ready:webgpu']);
  expect(outcome.sameDevice).toBe(false);
  expect(outcome.generation).toBe(2);
  expect(outcome.backend).toBe('webgpu');
  expect(outcome.modelMs).toBeGreaterThan(0); // GPU outputs died with the device: the model ran again
  expect(outcome.pGap).toBeLessThanOrEqual(1e-5);
  expect(outcome.gap).toBeLessThanOrEqual(1e-4);
  expect(outcome.drawMs).toBeGreaterThanOrEqual(0);
  expect(outcome.litFraction).toBeGreaterThan(0.9);
}, 400_000);

test('nothing above wrote an error to the console (ORT warnings, WebGPU validation errors, uncaught rejections)', () => {
  // The page's own favicon request is the only 404 the driver page makes.
  const errors = fixture.driver.errors.filter((e) => !/Failed to load resource.*404/.test(e));
  expect(errors).toEqual([]);
});
