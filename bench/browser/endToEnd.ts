// One backend through the engine's public API, as the app uses it: photo blob → loadPhoto → diagnose →
// heatmap.draw, a fresh photo handle every run (so no cached model outputs), plus memory before/after.
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
  try {
    for (let run = 0; run < config.warmup + config.runs; run++) {
      if (run === config.warmup) {
        before = await memorySample();
        liveBefore = engineDiagnostics(engine).liveOutputTensors;
      }
      const timed = run >= config.warmup;
      const t0 = performance.now();
      const photo = await engine.loadPhoto(photoBlob);
      const diagnosis = await engine.diagnose(photo, { method: config.method });
      const drawMs = await diagnosis.heatmap.draw(config.canvas, { colorMap: 'turbo', opacity: 0.5 });
      const total = performance.now() - t0;
      photo.close();
      if (!timed) continue;
      const t = diagnosis.timings;
      for (const [stage, ms] of Object.entries({
        'engine:decode': t.decodeMs, 'engine:preprocess': t.preprocessMs, 'engine:model': t.modelMs,
        'engine:kernels': t.kernelsMs, draw: drawMs, 'kernels+draw': t.kernelsMs + drawMs, end_to_end: total,
      })) (samples[stage] ??= []).push(ms);
      const h = jsHeap();
      if (h !== null) heap.push(h);
      log(`${backend} end-to-end run ${run + 1 - config.warmup}/${config.runs}: ${total.toFixed(1)} ms`);
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
