// Runs in the test browser (test/engine-browser/wasmWorker.test.ts): one photo through a WASM engine (ORT in its
// proxy worker) and, on the page's main thread, the same graph in ORT's WebGPU build on its 'wasm' EP with the
// engine's own preprocessed pixels and head. Returns both so the test can compare logits and maps.
import { createEngine, memoryFileCache } from '../../src/engine/engine';
import { engineCachedOutputs } from '../../src/engine/probes';
import { explainOnCpu, withExplainDefaults } from '../../src/engine/explain/index';
import { decodePhoto } from '../../src/engine/image/decode';
import { preprocessBitmap } from '../../src/engine/image/preprocess';
import { loadOrt, runsInWorker } from '../../src/engine/model/ort';

interface Manifest { graphs: Record<string, string>; external_data: Record<string, string>; image_size: number; layers: number; heads: number; tokens: number; prefix_tokens: number; default_head: string }
interface HeadJson { weight: number[][]; bias: number[] }

export interface WorkerComparison {
  inWorker: boolean;
  mainThreadOrtInWorker: boolean;
  backend: string;
  runs: { graph: string; logits: number[] }[];
  worker: { probabilities: number[][]; map: number[]; logits: number[] };
  mainThread: { logits: number[]; map: number[] };
  /** Longest main-thread task seen while the engine was created and ran (PerformanceObserver 'longtask'). */
  longestTaskMs: number;
}

async function bytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

export async function compareWorkerWithMainThread(modelUrl: string, photoBase64: string): Promise<WorkerComparison> {
  let longestTaskMs = 0;
  const observer = new PerformanceObserver((list) => { for (const e of list.getEntries()) longestTaskMs = Math.max(longestTaskMs, e.duration); });
  observer.observe({ type: 'longtask', buffered: false });
  const blob = new Blob([Uint8Array.from(atob(photoBase64), (c) => c.charCodeAt(0))]);

  const engine = await createEngine(modelUrl, { backend: 'wasm', modelCache: memoryFileCache() });
  const wasmOrt = await loadOrt('wasm');
  const photo = await engine.loadPhoto(blob);
  // Relevance twice with another method between (the photo's pixels and the head's weights are fed again after
  // the proxy took its copies), then another class: a second full run with the same inputs.
  const first = await engine.diagnose(photo, { method: 'relevance' });
  const second = await engine.diagnose(photo, { method: 'rollout' });
  const other = await engine.diagnose(photo, { method: 'relevance', targetClass: (first.top + 1) % first.labels.length });
  const again = await engine.diagnose(photo, { method: 'relevance', targetClass: first.top });
  const runs = (await engineCachedOutputs(engine, photo)).map((r) => ({ graph: r.graph, logits: Array.from(r.logits) }));
  const outputs = (await engineCachedOutputs(engine, photo)).find((r) => r.graph === 'full' && r.target === first.top)!;
  observer.disconnect();

  // The same full graph on the main thread, on the engine's own preprocessed pixels.
  const manifest = (await (await fetch(`${modelUrl}manifest.json`)).json()) as Manifest;
  const head = (await (await fetch(`${modelUrl}${manifest.default_head}`)).json()) as HeadJson;
  const decoded = await decodePhoto(blob);
  const { pixels } = preprocessBitmap(decoded.bitmap, manifest.image_size);
  const ort = await loadOrt('webgpu');
  const file = manifest.graphs.full!;
  const session = await ort.InferenceSession.create(await bytes(`${modelUrl}${file}`), {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    externalData: [{ path: manifest.external_data[file]!, data: await bytes(`${modelUrl}${manifest.external_data[file]!}`) }],
  });
  const classes = head.bias.length;
  const target = new Float32Array(classes);
  target[first.top] = 1;
  const out = await session.run({
    pixels: new ort.Tensor('float32', pixels, [1, 3, manifest.image_size, manifest.image_size]),
    head_weight: new ort.Tensor('float32', Float32Array.from(head.weight.flat()), [classes, head.weight[0]!.length]),
    head_bias: new ort.Tensor('float32', Float32Array.from(head.bias), [classes]),
    target: new ort.Tensor('float32', target, [1, classes]),
  });
  const dims = { layers: manifest.layers, heads: manifest.heads, tokens: manifest.tokens, prefixTokens: manifest.prefix_tokens, gridSize: Math.sqrt(manifest.tokens - manifest.prefix_tokens) };
  const map = explainOnCpu(
    { attentions: out.attentions!.data as Float32Array, attentionGrads: out.attention_grads!.data as Float32Array },
    dims,
    withExplainDefaults({ method: 'relevance' }, dims, first.top),
  );
  await session.release();
  const result: WorkerComparison = {
    inWorker: runsInWorker(wasmOrt, 'wasm'),
    mainThreadOrtInWorker: runsInWorker(ort, 'wasm'),
    backend: engine.backend,
    runs,
    worker: {
      probabilities: [first, second, other, again].map((d) => Array.from(d.probabilities)),
      map: Array.from(first.heatmap.values),
      logits: Array.from(outputs.logits),
    },
    mainThread: { logits: Array.from(out.logits!.data as Float32Array), map: Array.from(map.values) },
    longestTaskMs,
  };
  photo.close();
  engine.dispose();
  decoded.bitmap.close();
  return result;
}
