// onnxruntime outside the browser: onnxruntime-web's WebGPU EP on Dawn's Node binding, onnxruntime-node's
// native WebGPU EP, and its CPU EP for comparison. Each attempt reports honestly whether it ran.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { OrtInNodeReport } from '../lib/report';
import { summarize } from '../lib/stats';
import { fixtureFeeds, readModel, type ManifestLite } from '../lib/modelFiles';

interface TensorCtor { new (type: 'float32', data: Float32Array, dims: number[]): unknown }
interface Session {
  inputNames: readonly string[];
  run(feeds: Record<string, unknown>): Promise<Record<string, unknown>>;
  release(): Promise<void>;
}
interface OrtLike {
  Tensor: TensorCtor;
  InferenceSession: { create(model: string | Uint8Array, options: Record<string, unknown>): Promise<Session> };
  env: Record<string, unknown> & { wasm: Record<string, unknown> };
}

export type OrtPrecision = 'fp32' | 'fp16';
export interface OrtBenchOptions { warmup: number; runs: number; log?: (line: string) => void; precision?: OrtPrecision }

type TimedKey = 'forward_ms' | 'explain_ms' | 'lrp_ms';

/** The graph files timed for one precision (forward, full = forward + gradients, lrp); empty if the model has none. */
export function timedGraphs(manifest: ManifestLite, precision: OrtPrecision = 'fp32'): [TimedKey, string][] {
  const { graphs } = manifest;
  const picked: [TimedKey, string | undefined][] = precision === 'fp16'
    ? [['forward_ms', graphs.forward_fp16], ['explain_ms', graphs.full_fp16], ['lrp_ms', graphs.lrp_fp16]]
    : [['forward_ms', graphs.forward], ['explain_ms', graphs.full], ['lrp_ms', graphs.lrp]];
  return picked.filter((entry): entry is [TimedKey, string] => Boolean(entry[1]));
}

async function timeGraphs(
  ort: OrtLike,
  open: (graph: string) => Promise<Session>,
  modelDir: string,
  options: OrtBenchOptions,
): Promise<Pick<OrtInNodeReport, TimedKey>> {
  const { manifest, head } = readModel(modelDir);
  const raw = fixtureFeeds(manifest, head);
  const out: Pick<OrtInNodeReport, TimedKey> = {};
  const graphs = timedGraphs(manifest, options.precision);
  // fp16 graphs take and give float32 (docs/model-contract.md), so one feed serves both precisions.
  if (graphs.length === 0) throw new Error(`the model in ${modelDir} has no ${options.precision ?? 'fp32'} graphs`);
  for (const [key, graph] of graphs) {
    options.log?.(`${graph}: session, ${options.warmup} warm-up and ${options.runs} timed runs`);
    const session = await open(graph);
    try {
      const feeds: Record<string, unknown> = {};
      for (const name of session.inputNames) {
        const input = raw[name];
        if (!input) throw new Error(`graph ${graph} wants unknown input ${name}`);
        feeds[name] = new ort.Tensor('float32', input.data, input.dims);
      }
      const times: number[] = [];
      for (let i = 0; i < options.warmup + options.runs; i++) {
        const t0 = performance.now();
        await session.run(feeds);
        if (i >= options.warmup) times.push(performance.now() - t0);
      }
      out[key] = summarize(times);
    } finally {
      await session.release();
    }
  }
  return out;
}

/** onnxruntime-web (the browser package) in Node with `navigator.gpu` from Dawn. */
export async function benchOrtWebOnDawn(gpu: GPU, modelDir: string, options: OrtBenchOptions): Promise<OrtInNodeReport> {
  const runtime = 'onnxruntime-web (WebGPU EP on Dawn node)' as const;
  try {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu, userAgent: 'node', hardwareConcurrency: 1 }, configurable: true });
    const ort = (await import('onnxruntime-web/webgpu')) as unknown as OrtLike;
    const require = createRequire(import.meta.url);
    const dist = dirname(require.resolve('onnxruntime-web/webgpu'));
    ort.env.wasm.wasmBinary = readFileSync(join(dist, 'ort-wasm-simd-threaded.jsep.wasm'));
    ort.env.wasm.numThreads = 1;
    const { manifest } = readModel(modelDir);
    const open = async (graph: string): Promise<Session> => {
      const weights = manifest.external_data[graph];
      return ort.InferenceSession.create(readFileSync(join(modelDir, graph)), {
        executionProviders: ['webgpu'],
        externalData: weights ? [{ path: weights, data: readFileSync(join(modelDir, weights)) }] : [],
      });
    };
    const timings = await timeGraphs(ort, open, modelDir, options);
    return { runtime, status: 'ok', detail: 'ran with executionProviders ["webgpu"]', ...timings };
  } catch (err) {
    return { runtime, status: 'failed', detail: String(err instanceof Error ? err.message : err).slice(0, 400) };
  }
}

/** onnxruntime-node with the given EP ('webgpu' = its own bundled Dawn, 'cpu'). */
export async function benchOrtNode(ep: 'webgpu' | 'cpu', modelDir: string, options: OrtBenchOptions): Promise<OrtInNodeReport> {
  const runtime = ep === 'webgpu' ? ('onnxruntime-node (native WebGPU EP)' as const) : ('onnxruntime-node (CPU EP)' as const);
  // Reports without the field are fp32 (what bench:node has always timed).
  const precision = options.precision ? { precision: options.precision } : {};
  try {
    const ort = (await import('onnxruntime-node')) as unknown as OrtLike;
    const open = (graph: string): Promise<Session> =>
      ort.InferenceSession.create(join(modelDir, graph), { executionProviders: [ep] });
    const timings = await timeGraphs(ort, open, modelDir, options);
    return { runtime, ...precision, status: 'ok', detail: `ran with executionProviders ["${ep}"]`, ...timings };
  } catch (err) {
    return { runtime, ...precision, status: 'failed', detail: String(err instanceof Error ? err.message : err).slice(0, 400) };
  }
}
