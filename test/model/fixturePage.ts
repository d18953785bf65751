// Runs in the browser (loaded from the Vite server by test/model/fixture-web.test.ts): one committed fixture
// model folder (public/models/fixture-*) in onnxruntime-web, loaded the way the engine loads it (graph bytes +
// `externalData: [{ path: 'model.weights', data }]`), against PyTorch's expected outputs in test/fixtures/.
// Returns measured errors, not booleans, so the test can report them. logPlacements() prints ORT's node placements.
import { loadOrt } from '../../src/engine/model/ort';
import type { BackendName } from '../../src/engine/types';

interface TensorEntry { file: string; shape: number[] }
interface FixtureIndex {
  tensors: Record<string, TensorEntry>;
  cases: Record<string, { target: number[]; inputs: Record<string, string>; outputs: Record<string, string> }>;
}
interface Manifest { graphs: Record<string, string>; external_data: Record<string, string> }

export interface GraphResult {
  role: string;
  backend: BackendName;
  outputNames: string[];
  /** case → output → max |web − PyTorch| / max |PyTorch| (and the magnitude, for the absolute view). */
  errors: Record<string, Record<string, { relative: number; absolute: number; magnitude: number }>>;
  runMs: number;
}

async function bytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function floats(url: string): Promise<Float32Array> {
  const raw = await bytes(url);
  return new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
}

export async function runFixtureGraph(model: string, role: string, backend: BackendName): Promise<GraphResult> {
  if (backend === 'webgpu' && !(await navigator.gpu?.requestAdapter())) {
    throw new Error('no WebGPU adapter (navigator.gpu missing or requestAdapter() returned null)');
  }
  const modelDir = `/public/models/${model}`;
  const fixtureDir = `/test/fixtures/${model}`;
  const manifest = (await (await fetch(`${modelDir}/manifest.json`)).json()) as Manifest;
  const index = (await (await fetch(`${fixtureDir}/index.json`)).json()) as FixtureIndex;
  const file = manifest.graphs[role];
  if (!file) throw new Error(`${model} has no ${role} graph`);
  const weightsFile = manifest.external_data[file]!;
  const ort = await loadOrt();
  const session = await ort.InferenceSession.create(await bytes(`${modelDir}/${file}`), {
    executionProviders: [backend],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    externalData: [{ path: weightsFile, data: await bytes(`${modelDir}/${weightsFile}`) }],
  });
  const errors: GraphResult['errors'] = {};
  let runMs = 0;
  for (const [caseName, c] of Object.entries(index.cases)) {
    const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
    for (const name of session.inputNames) {
      const entry = index.tensors[c.inputs[name]!]!;
      feeds[name] = new ort.Tensor('float32', await floats(`${fixtureDir}/${entry.file}`), entry.shape);
    }
    const start = performance.now();
    const out = await session.run(feeds);
    runMs = performance.now() - start;
    errors[caseName] = {};
    for (const name of session.outputNames) {
      const want = await floats(`${fixtureDir}/${index.tensors[c.outputs[name]!]!.file}`);
      const got = out[name]!.data as Float32Array;
      if (got.length !== want.length) throw new Error(`${role} ${name}: ${got.length} values, expected ${want.length}`);
      let absolute = 0;
      let magnitude = 0;
      for (let i = 0; i < want.length; i++) {
        absolute = Math.max(absolute, Math.abs(got[i]! - want[i]!));
        magnitude = Math.max(magnitude, Math.abs(want[i]!));
      }
      errors[caseName][name] = { relative: magnitude > 0 ? absolute / magnitude : Infinity, absolute, magnitude };
    }
  }
  const outputNames = [...session.outputNames];
  await session.release();
  return { role, backend, outputNames, errors, runMs };
}

/** Creates (and releases) a session with ORT's verbose log on, which prints each node's execution provider
 * to the console; the test reads the placement lines there. No run, so no shader dumps. */
export async function logPlacements(model: string, role: string, backend: BackendName): Promise<void> {
  const modelDir = `/public/models/${model}`;
  const manifest = (await (await fetch(`${modelDir}/manifest.json`)).json()) as Manifest;
  const file = manifest.graphs[role]!;
  const weightsFile = manifest.external_data[file]!;
  const ort = await loadOrt();
  const savedLevel = ort.env.logLevel;
  ort.env.logLevel = 'verbose';
  try {
    const session = await ort.InferenceSession.create(await bytes(`${modelDir}/${file}`), {
      executionProviders: [backend],
      graphOptimizationLevel: 'all',
      logSeverityLevel: 0,
      logVerbosityLevel: 0,
      externalData: [{ path: weightsFile, data: await bytes(`${modelDir}/${weightsFile}`) }],
    });
    await session.release();
  } finally {
    ort.env.logLevel = savedLevel;
  }
}
