// One backend through the engine's public API, as the app uses it: photo blob → loadPhoto → diagnose →
// heatmap.draw, a fresh photo handle every run (so no cached model outputs); then memory over as many untimed runs.
import { createEngine, engineDiagnostics, memoryFileCache, describeError } from '../../src/engine/index';
import type { BackendName, ExplainMethod } from '../../src/engine/index';
import type { MemorySample } from '../lib/report';
import { slopePerStep, summarize, type Summary } from '../lib/stats';

export interface EndToEndConfig {
  modelUrl: string;
  photoUrl: string;
  backend: BackendName;
  method: ExplainMethod;
  warmup: number;
  runs: number;
  canvas: HTMLCanvasElement;
  log: (line: string) => void;
}

export interface EndToEndResult {
  backend: BackendName;
  stages: Record<string, Summary>;
  memory: { before: MemorySample; after: MemorySample; js_heap_growth_per_run_bytes: number | null; samples: number[] };
  live_output_tensors: { before: number; after: number };
  errors: string[];
}

/** JS heap in use after a full GC when the browser exposes gc() (--js-flags=--expose-gc), else as is. */
function jsHeap(): number | null {
  (globalThis as { gc?: () => void }).gc?.();
  const memory = (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory;
  return memory ? memory.usedJSHeapSize : null;
}

/** measureUserAgentSpecificMemory (cross-origin isolated pages only) can wait for a GC; give it 20 s. */
async function uaMemory(): Promise<number | null> {
  const measure = (performance as Performance & { measureUserAgentSpecificMemory?: () => Promise<{ bytes: number }> }).measureUserAgentSpecificMemory;
  if (!measure || !globalThis.crossOriginIsolated) return null;
  const timeout = new Promise<null>((resolve) => setTimeout(() => resolve(null), 20_000));
  try {
    const result = await Promise.race([measure.call(performance), timeout]);
    return result ? result.bytes : null;
  } catch {
    return null;
  }
}

async function memorySample(): Promise<MemorySample> {
  return { js_heap_bytes: jsHeap(), ua_memory_bytes: await uaMemory() };
}

export async function runEndToEnd(config: EndToEndConfig): Promise<EndToEndResult> {
  const { backend, log } = config;
  const engine = await createEngine(config.modelUrl, { backend, modelCache: memoryFileCache() });
  if (engine.backend !== backend) throw new Error(`asked for ${backend}, the engine opened ${engine.backend}`);
  const photoBlob = await (await fetch(config.photoUrl)).blob();
  const samples: Record<string, number[]> = {};
  const heap: number[] = [];
  const errors: string[] = [];
  let before: MemorySample = { js_heap_bytes: null, ua_memory_bytes: null };
  let liveBefore = 0;
  const diagnoseAndDraw = async () => {
    const t0 = performance.now();
    const photo = await engine.loadPhoto(photoBlob);
    const diagnosis = await engine.diagnose(photo, { method: config.method });
    const drawMs = await diagnosis.heatmap.draw(config.canvas, { colorMap: 'turbo', opacity: 0.5 });
    const total = performance.now() - t0;
    photo.close();
    return { timings: diagnosis.timings, drawMs, total };
  };
  try {
    for (let run = 0; run < config.warmup; run++) await diagnoseAndDraw();
    // Timed runs without heap samples: a forced GC between runs (gc()) shrinks V8's heap limits to the live size,
    // so each next run's model outputs (~11 MB) start a marking whose finalisation lands in the explanation and
    // draw: kernels + draw median 15.5 ms with a gc() after each run, 8.75 ms without (quiet machine, 15 runs).
    for (let run = 0; run < config.runs; run++) {
      const { timings: t, drawMs, total } = await diagnoseAndDraw();
      for (const [stage, ms] of Object.entries({
        'engine:decode': t.decodeMs, 'engine:preprocess': t.preprocessMs, 'engine:model': t.modelMs,
        'engine:kernels': t.kernelsMs, draw: drawMs, 'kernels+draw': t.kernelsMs + drawMs, end_to_end: total,
      })) (samples[stage] ??= []).push(ms);
      log(`${backend} end-to-end run ${run + 1}/${config.runs}: ${total.toFixed(1)} ms`);
    }
    // Memory: as many runs again, untimed, each followed by a forced GC and a heap sample (growth per run).
    before = await memorySample();
    liveBefore = engineDiagnostics(engine).liveOutputTensors;
    for (let run = 0; run < config.runs; run++) {
      await diagnoseAndDraw();
      const h = jsHeap();
      if (h !== null) heap.push(h);
    }
  } catch (err) {
    errors.push(describeError(err));
  }
  const after = await memorySample();
  const liveAfter = engineDiagnostics(engine).liveOutputTensors;
  engine.dispose();
  const stages: Record<string, Summary> = {};
  for (const [stage, values] of Object.entries(samples)) stages[stage] = summarize(values);
  return {
    backend,
    stages,
    memory: { before, after, js_heap_growth_per_run_bytes: heap.length >= 2 ? slopePerStep(heap) : null, samples: heap },
    live_output_tensors: { before: liveBefore, after: liveAfter },
    errors,
  };
}
