// The exported LRP relevance (model/lrp.py inside the full graph) computed by onnxruntime-node on the CPU
// equals PyTorch's float32 value. Fixture: test/fixtures/lrp/ (an untrained micro-distilled DeiT with
// re-drawn weights), written by `bash scripts/python.sh model/tests/test_lrp.py`; pytest checks it is current.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, test } from 'vitest';
import { withExplainDefaults, type ExplainDims } from '../../src/engine/explain/options';
import { explainOnCpu } from '../../src/engine/explain/reference';
import type { Fixture, TensorFile } from './lrpFixture';

const DIR = join(process.cwd(), 'test/fixtures/lrp');
// Per block, max |ORT − PyTorch| ≤ tolerance · max |PyTorch| (relevance values are ~1e-3, so an absolute
// bound would say little). The error grows downwards: every block's Q·Kᵀ rule divides by the attention
// scores (LRP-0), and near-zero scores amplify float32 rounding differences. Measured on this fixture
// (last / middle / first block): onnxruntime-node 6e-6 / 9.7e-5 / 4.4e-4; onnxruntime-web (lrp-web.test.ts)
// WASM 1.1e-5 / 1.9e-4 / 4.9e-4, WebGPU on SwiftShader 7e-6 / 1.2e-4 / 1.8e-4. A wrong rule or layout
// gives errors of order 1. test/model/lrp-web.test.ts uses the same bounds.
const RELATIVE_TOLERANCE = 5e-4;
const BLOCK0_RELATIVE_TOLERANCE = 2e-3;
// The min–max normalised lrp map (values in [0, 1]) from either side's tensors. Measured: ≤ 2.4e-4.
const MAP_TOLERANCE = 1e-3;


const fixture = JSON.parse(readFileSync(join(DIR, 'case.json'), 'utf8')) as Fixture;

function readFloats(entry: TensorFile): Float32Array {
  const bytes = readFileSync(join(DIR, entry.file));
  expect(bytes.byteLength).toBe(4 * entry.shape.reduce((a, b) => a * b, 1));
  // Copy into an aligned buffer: a Buffer may start at any byte offset.
  const out = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/** Largest |a − b| and largest |b| over one block's [1,H,N,N] slice. */
function blockError(got: Float32Array, want: Float32Array, block: number, perBlock: number) {
  let diff = 0;
  let magnitude = 0;
  for (let i = block * perBlock; i < (block + 1) * perBlock; i++) {
    diff = Math.max(diff, Math.abs(got[i]! - want[i]!));
    magnitude = Math.max(magnitude, Math.abs(want[i]!));
  }
  return { diff, magnitude };
}

describe('attention_relevance in the exported graph', () => {
  let session: ort.InferenceSession | undefined;
  const open = async () => (session ??= await ort.InferenceSession.create(join(DIR, 'model.onnx'), { logSeverityLevel: 3 }));
  const cfg = fixture.config;
  const tokens = (cfg.image_size / cfg.patch_size) ** 2 + (cfg.distilled ? 2 : 1);

  test('is an output of the full graph, after the contract outputs', async () => {
    const s = await open();
    expect([...s.outputNames]).toEqual(['logits', 'features', 'attentions', 'attention_grads', 'attention_relevance']);
  });

  const dims: ExplainDims = {
    layers: cfg.depth, heads: cfg.heads, tokens, prefixTokens: cfg.distilled ? 2 : 1, gridSize: cfg.image_size / cfg.patch_size,
  };
  const results: Record<string, Float32Array> = {};
  test.each(Object.keys(fixture.cases))('matches PyTorch: target %s', async (name) => {
    const s = await open();
    const c = fixture.cases[name]!;
    const classes = fixture.inputs.head_bias.shape[0]!;
    const feeds = {
      pixels: new ort.Tensor('float32', readFloats(fixture.inputs.pixels), fixture.inputs.pixels.shape),
      head_weight: new ort.Tensor('float32', readFloats(fixture.inputs.head_weight), fixture.inputs.head_weight.shape),
      head_bias: new ort.Tensor('float32', readFloats(fixture.inputs.head_bias), [classes]),
      target: new ort.Tensor('float32', Float32Array.from(c.target), [1, classes]),
    };
    const out = await s.run(feeds);
    const relevance = out.attention_relevance!;
    expect([...relevance.dims]).toEqual([cfg.depth, 1, cfg.heads, tokens, tokens]);
    const got = relevance.data as Float32Array;
    const want = readFloats(c.outputs.attention_relevance);
    const perBlock = want.length / cfg.depth;
    const errors: number[] = [];
    for (let block = 0; block < cfg.depth; block++) {
      const { diff, magnitude } = blockError(got, want, block, perBlock);
      expect(magnitude, `block ${block} relevance is not all zeros`).toBeGreaterThan(0);
      errors.push(diff / magnitude);
    }
    const logits = out.logits!.data as Float32Array;
    const wantLogits = readFloats(c.outputs.logits);
    logits.forEach((v, i) => expect(Math.abs(v - wantLogits[i]!)).toBeLessThanOrEqual(1e-4));

    // What the engine makes of it: the lrp map from onnxruntime's tensors vs from PyTorch's.
    const options = withExplainDefaults({ method: 'lrp' }, dims, 0);
    const attentions = out.attentions!.data as Float32Array;
    const fromOrt = explainOnCpu(
      { attentions, attentionGrads: out.attention_grads!.data as Float32Array, attentionRelevance: got }, dims, options);
    const fromTorch = explainOnCpu(
      { attentions, attentionGrads: readFloats(c.outputs.attention_grads), attentionRelevance: want }, dims, options);
    let mapDiff = 0;
    fromOrt.values.forEach((v, i) => (mapDiff = Math.max(mapDiff, Math.abs(v - fromTorch.values[i]!))));
    console.log(`${name}: relevance per block ${errors.map((e) => e.toExponential(1)).join(' ')}; map ${mapDiff.toExponential(1)}`);
    errors.forEach((e, block) =>
      expect(e, `${name}: block ${block}`).toBeLessThanOrEqual(block === 0 ? BLOCK0_RELATIVE_TOLERANCE : RELATIVE_TOLERANCE));
    expect(fromTorch.max).toBeGreaterThan(fromTorch.min);
    expect(mapDiff).toBeLessThanOrEqual(MAP_TOLERANCE);
    results[name] = got;
  }, 60_000);

  test('depends on the target', () => {
    const [a, b] = Object.values(results);
    expect(a && b, 'both cases ran').toBeTruthy();
    let diff = 0;
    for (let i = 0; i < a!.length; i++) diff = Math.max(diff, Math.abs(a![i]! - b![i]!));
    expect(diff).toBeGreaterThan(0);
  });
});
