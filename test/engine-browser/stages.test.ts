// The measuring API the benchmarks use (engineStages, GpuKernels, modelInput), on the fixture model: each stage run on
// its own must give what diagnose() gives for the same photo, on WASM and WebGPU (SwiftShader here), and the WGSL
// kernels on uploaded tensors (a device of their own) must match the CPU reference.
import { expect, test } from 'vitest';
import { fixtureDriverPerFile, imageBase64 } from './support';

const fixture = fixtureDriverPerFile();

interface BackendCheck {
  backend: string;
  graphs: string[];
  adapter: { software: boolean } | null;
  hasKernels: boolean;
  pixels: number;
  imageSize: number;
  cropSquare: boolean;
  runMs: number;
  logitsGap: number;
  referenceGap: number;
  kernelGap: number | null;
  gpuTensorsOnWasm: boolean | null;
  logitsOnlyKeys: string[];
  drawMs: number;
}

test('engineStages: model input, one graph run and its explanations agree with diagnose on both backends', async () => {
  const result = await fixture.driver.page.evaluate(async ({ url, img }) => {
    const api = window.leafLens;
    const blob = new Blob([Uint8Array.from(atob(img), (c) => c.charCodeAt(0))], { type: 'image/jpeg' });
    const gap = (a: ArrayLike<number>, b: ArrayLike<number>) => {
      if (a.length !== b.length) return Infinity;
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
      return worst;
    };
    const out: Record<string, unknown> = {};
    for (const backend of ['wasm', 'webgpu'] as const) {
      const engine = await api.createEngine(url, { backend, modelCache: api.memoryFileCache() });
      const stages = api.engineStages(engine);
      const photo = await engine.loadPhoto(blob);
      const diagnosis = await engine.diagnose(photo, { method: 'relevance' });
      const input = stages.modelInput(photo.bitmap);
      const run = await stages.runGraph('full', input.pixels);
      const options = api.withExplainDefaults({ method: 'relevance' }, stages.dims, diagnosis.top);
      const cpu = await run.cpuTensors();
      const reference = api.explainOnCpu(cpu, stages.dims, options);
      const kernels = stages.kernels();
      let kernelGap: number | null = null;
      if (kernels) {
        const onGpu = await kernels.explain(run.gpuTensors()!, options);
        kernelGap = gap(onGpu.values, reference.values);
        kernels.destroy();
      }
      const gpuTensorsOnWasm = backend === 'wasm' ? run.gpuTensors() !== null : null;
      run.dispose();
      const logitsOnly = await stages.runGraph('forward', input.pixels, { outputs: ['logits'] });
      const logitsOnlyKeys = Object.keys(await logitsOnly.cpuTensors());
      logitsOnly.dispose();
      const canvas = new OffscreenCanvas(64, 48);
      const drawMs = await stages.drawOverlay(canvas, reference.values, { bitmap: photo.bitmap, crop: input.crop }, { colorMap: 'turbo', opacity: 0.5 });
      out[backend] = {
        backend: stages.backend,
        graphs: stages.graphs,
        adapter: stages.adapter,
        hasKernels: kernels !== null,
        pixels: input.pixels.length,
        imageSize: stages.imageSize,
        cropSquare: input.crop.width === input.crop.height && input.crop.width === Math.min(photo.width, photo.height),
        runMs: run.ms,
        logitsGap: gap(run.logits!, diagnosis.logits),
        referenceGap: gap(reference.values, diagnosis.heatmap.values),
        kernelGap,
        gpuTensorsOnWasm,
        logitsOnlyKeys,
        drawMs,
      };
      photo.close();
      engine.dispose();
    }
    return out;
  }, { url: fixture.modelUrl, img: imageBase64('leaf-96x72.jpg') }) as Record<'wasm' | 'webgpu', BackendCheck>;

  for (const backend of ['wasm', 'webgpu'] as const) {
    const r = result[backend];
    expect(r.backend).toBe(backend);
    expect(r.graphs).toEqual(expect.arrayContaining(['forward', 'full']));
    expect(r.pixels).toBe(3 * r.imageSize * r.imageSize);
    expect(r.cropSquare).toBe(true);
    expect(r.runMs).toBeGreaterThan(0);
    // The same photo, head and graph: the same logits and, on the CPU reference, the map diagnose drew.
    expect(r.logitsGap).toBeLessThan(1e-4);
    expect(r.referenceGap).toBeLessThan(1e-4);
    expect(r.logitsOnlyKeys).toEqual([]);
    expect(r.drawMs).toBeGreaterThanOrEqual(0);
  }
  expect(result.wasm.adapter).toBeNull();
  expect(result.wasm.hasKernels).toBe(false);
  expect(result.wasm.gpuTensorsOnWasm).toBe(false);
  expect(result.webgpu.adapter?.software).toBe(true);
  expect(result.webgpu.hasKernels).toBe(true);
  expect(result.webgpu.kernelGap).toBeLessThan(1e-4);
}, 300_000);

test('GpuKernels on a device of their own: uploaded tensors give the CPU reference map; engineStages refuses a stranger', async () => {
  const result = await fixture.driver.page.evaluate(async ({ url, img }) => {
    const api = window.leafLens;
    const blob = new Blob([Uint8Array.from(atob(img), (c) => c.charCodeAt(0))], { type: 'image/jpeg' });
    const engine = await api.createEngine(url, { backend: 'wasm', modelCache: api.memoryFileCache() });
    const stages = api.engineStages(engine);
    const photo = await engine.loadPhoto(blob);
    const run = await stages.runGraph('full', stages.modelInput(photo.bitmap).pixels);
    const cpu = await run.cpuTensors();
    run.dispose();
    const kernels = await api.GpuKernels.open(stages.dims);
    const gaps: Record<string, number> = {};
    for (const method of ['attention', 'rollout', 'relevance'] as const) {
      const options = api.withExplainDefaults({ method }, stages.dims, 0);
      const reference = api.explainOnCpu(cpu, stages.dims, options).values;
      const onGpu = (await kernels.explain(kernels.upload(cpu), options)).values;
      gaps[method] = Math.max(...Array.from(onGpu, (v, i) => Math.abs(v - reference[i]!)));
    }
    const adapter = kernels.adapter;
    kernels.destroy();
    let stranger = '';
    try { api.engineStages({} as never); } catch (error) { stranger = String(error); }
    photo.close();
    engine.dispose();
    return { gaps, adapter, stranger };
  }, { url: fixture.modelUrl, img: imageBase64('leaf-96x72.jpg') });
  expect(Object.keys(result.gaps)).toEqual(['attention', 'rollout', 'relevance']);
  for (const g of Object.values(result.gaps)) expect(g).toBeLessThan(1e-4);
  expect(result.adapter?.description).toBeTruthy();
  expect(result.stranger).toMatch(/not an engine from createEngine/);
}, 300_000);
