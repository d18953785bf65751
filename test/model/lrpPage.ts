// Runs in the browser (loaded from the Vite server by test/model/lrp-web.test.ts): the LRP fixture graph
// (test/fixtures/lrp/) in onnxruntime-web on one execution provider, compared with PyTorch's float32 values.
// Returns errors, not booleans, so the test can report them.
import { withExplainDefaults, type ExplainDims } from '../../src/engine/explain/options';
import { explainOnCpu } from '../../src/engine/explain/reference';
import { loadOrt } from '../../src/engine/model/ort';
import type { BackendName } from '../../src/engine/types';
import type { Fixture, TensorFile } from './lrpFixture';

const DIR = '/test/fixtures/lrp';


export interface LrpWebCase {
  name: string;
  /** Per block: max |web − PyTorch| / max |PyTorch| of attention_relevance. */
  blockErrors: number[];
  /** max |web − PyTorch| over the logits. */
  logitsError: number;
  /** max |web − PyTorch| over the normalised lrp map (explainOnCpu on either side's tensors). */
  mapError: number;
  mapRange: number;
  runMs: number;
}

async function floats(entry: TensorFile): Promise<Float32Array> {
  const response = await fetch(`${DIR}/${entry.file}`);
  if (!response.ok) throw new Error(`${entry.file}: HTTP ${response.status}`);
  return new Float32Array(await response.arrayBuffer());
}

function maxDiff(a: Float32Array, b: Float32Array, from = 0, to = a.length): { diff: number; magnitude: number } {
  let diff = 0;
  let magnitude = 0;
  for (let i = from; i < to; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    magnitude = Math.max(magnitude, Math.abs(b[i]!));
  }
  return { diff, magnitude };
}

export async function runLrpFixture(backend: BackendName): Promise<LrpWebCase[]> {
  if (backend === 'webgpu' && !(await navigator.gpu?.requestAdapter())) {
    throw new Error('no WebGPU adapter (navigator.gpu missing or requestAdapter() returned null)');
  }
  const fixture = (await (await fetch(`${DIR}/case.json`)).json()) as Fixture;
  const cfg = fixture.config;
  const grid = cfg.image_size / cfg.patch_size;
  const prefixTokens = cfg.distilled ? 2 : 1;
  const dims: ExplainDims = { layers: cfg.depth, heads: cfg.heads, tokens: grid * grid + prefixTokens, prefixTokens, gridSize: grid };
  const ort = await loadOrt(backend);
  const bytes = new Uint8Array(await (await fetch(`${DIR}/model.onnx`)).arrayBuffer());
  const session = await ort.InferenceSession.create(bytes, { executionProviders: [backend], graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  const classes = fixture.inputs.head_bias.shape[0]!;
  const pixels = await floats(fixture.inputs.pixels);
  const headWeight = await floats(fixture.inputs.head_weight);
  const headBias = await floats(fixture.inputs.head_bias);
  const results: LrpWebCase[] = [];
  for (const [name, c] of Object.entries(fixture.cases)) {
    // Copies: on 'wasm' ORT runs in its proxy worker (src/engine/model/ort.ts), which detaches what it is sent.
    const feeds = {
      pixels: new ort.Tensor('float32', pixels.slice(), fixture.inputs.pixels.shape),
      head_weight: new ort.Tensor('float32', headWeight.slice(), fixture.inputs.head_weight.shape),
      head_bias: new ort.Tensor('float32', headBias.slice(), [classes]),
      target: new ort.Tensor('float32', Float32Array.from(c.target), [1, classes]),
    };
    const start = performance.now();
    const out = await session.run(feeds);
    const runMs = performance.now() - start;
    const relevance = out.attention_relevance!.data as Float32Array;
    const want = await floats(c.outputs.attention_relevance);
    const perBlock = want.length / cfg.depth;
    const blockErrors = Array.from({ length: cfg.depth }, (_, block) => {
      const { diff, magnitude } = maxDiff(relevance, want, block * perBlock, (block + 1) * perBlock);
      return magnitude > 0 ? diff / magnitude : Infinity;
    });
    const options = withExplainDefaults({ method: 'lrp' }, dims, 0);
    const attentions = out.attentions!.data as Float32Array;
    const mine = explainOnCpu({ attentions, attentionGrads: out.attention_grads!.data as Float32Array, attentionRelevance: relevance }, dims, options);
    const theirs = explainOnCpu({ attentions, attentionGrads: await floats(c.outputs.attention_grads), attentionRelevance: want }, dims, options);
    results.push({
      name,
      blockErrors,
      logitsError: maxDiff(out.logits!.data as Float32Array, await floats(c.outputs.logits)).diff,
      mapError: maxDiff(mine.values, theirs.values).diff,
      mapRange: theirs.max - theirs.min,
      runMs,
    });
  }
  await session.release();
  return results;
}
