// Runs in the browser (loaded by test/gpu/kernels.test.ts): each explanation kernel on its own, through its pass
// class, against its TypeScript reference: fuseHeads and discardThreshold must be bit-identical (the rollout
// discard depends on it), propagateRow and patchMap within float32 rounding.
import type { ExplainDims, ExplainTensors } from '../../src/engine/explain';
import { discardCount } from '../../src/engine/explain';
import { DiscardThresholdPass } from '../../src/engine/explain/passes/discardThresholdPass';
import { FuseHeadsPass } from '../../src/engine/explain/passes/fuseHeadsPass';
import { PatchMapPass } from '../../src/engine/explain/passes/patchMapPass';
import { PropagateRowPass } from '../../src/engine/explain/passes/propagateRowPass';
import { EXPLAIN_PARAMS_BYTES, writeExplainParams, type ExplainParams } from '../../src/engine/explain/passes/shaderSource';
import { applyDiscard, discardThreshold, fuseHeads, patchMap, propagateRowStep, type FusionMode } from '../../src/engine/explain/reference';
import { seededRandom } from '../engine/explain/randomTensors';
import { requireDevice, uploadTensor } from './explainPage';

export interface PassCase {
  kernel: string;
  name: string;
  /** Values that differ at all (bit-exact kernels must have 0). */
  mismatches: number;
  /** max |gpu − cpu| / max |cpu|. */
  relError: number;
}

export async function comparePasses(dims: ExplainDims, tensors: Required<ExplainTensors<Float32Array<ArrayBuffer>>>): Promise<PassCase[]> {
  const device = await requireDevice();
  const errors: string[] = [];
  device.addEventListener('uncapturederror', (e) => errors.push((e as GPUUncapturedErrorEvent).error.message));
  const { layers, tokens, gridSize } = dims;
  const { STORAGE, UNIFORM, COPY_DST, COPY_SRC, MAP_READ } = GPUBufferUsage;
  const owned: GPUBuffer[] = [];
  const make = (label: string, bytes: number, usage: number) => {
    const b = device.createBuffer({ label, size: Math.max(16, bytes), usage });
    owned.push(b);
    return b;
  };
  const params = make('test.params', EXPLAIN_PARAMS_BYTES, UNIFORM | COPY_DST);
  const fused = make('test.fused', layers * tokens * tokens * 4, STORAGE | COPY_SRC);
  const thresholds = make('test.thresholds', layers * 4, STORAGE | COPY_SRC);
  const row = make('test.row', 2 * tokens * 4, STORAGE | COPY_SRC | COPY_DST);
  const result = make('test.result', (2 + 2 * gridSize * gridSize) * 4, STORAGE | COPY_SRC);
  const inputs = {
    attentions: uploadTensor(device, tensors.attentions, 'test.attentions'),
    attentionGrads: uploadTensor(device, tensors.attentionGrads, 'test.attentionGrads'),
    attentionRelevance: uploadTensor(device, tensors.attentionRelevance, 'test.attentionRelevance'),
  };
  owned.push(...Object.values(inputs));
  const fuse = new FuseHeadsPass(device, params, fused);
  const threshold = new DiscardThresholdPass(device, params, fused, thresholds);
  const propagate = new PropagateRowPass(device, params, fused, thresholds, row);
  const patch = new PatchMapPass(device, params, { row, fused }, result);

  const read = async (buffer: GPUBuffer, bytes: number): Promise<ArrayBuffer> => {
    const staging = device.createBuffer({ label: 'test.staging', size: bytes, usage: MAP_READ | COPY_DST });
    const encoder = device.createCommandEncoder({ label: 'test.read' });
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, bytes);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const copy = staging.getMappedRange().slice(0);
    staging.destroy();
    return copy;
  };
  const run = (p: ExplainParams, encode: (pass: GPUComputePassEncoder) => void) => {
    writeExplainParams(device, params, p);
    const encoder = device.createCommandEncoder({ label: 'test.passes' });
    const pass = encoder.beginComputePass({ label: 'test.passes' });
    encode(pass);
    pass.end();
    device.queue.submit([encoder.finish()]);
  };
  const compare = (kernel: string, name: string, got: ArrayLike<number>, want: ArrayLike<number>): PassCase => {
    let mismatches = got.length === want.length ? 0 : Infinity;
    let maxDiff = 0;
    let scale = 0;
    for (let i = 0; i < want.length; i++) {
      if (got[i] !== want[i]) mismatches++;
      maxDiff = Math.max(maxDiff, Math.abs(got[i]! - want[i]!));
      scale = Math.max(scale, Math.abs(want[i]!));
    }
    return { kernel, name, mismatches, relError: scale > 0 ? maxDiff / scale : maxDiff };
  };
  const base = (fusion: FusionMode, firstLayer: number, k = 0, rowNormalise = false): ExplainParams =>
    ({ ...dims, firstLayer, fusedLayers: layers - firstLayer, fusion, discardCount: k, rowNormalise });
  const pairs: Array<[string, GPUBuffer, GPUBuffer, Float32Array, Float32Array, FusionMode]> = [
    ['attention mean', inputs.attentions, inputs.attentions, tensors.attentions, tensors.attentions, 'mean'],
    ['attention max', inputs.attentions, inputs.attentions, tensors.attentions, tensors.attentions, 'max'],
    ['attention min', inputs.attentions, inputs.attentions, tensors.attentions, tensors.attentions, 'min'],
    ['(∇A ⊙ A)⁺ mean', inputs.attentionGrads, inputs.attentions, tensors.attentionGrads, tensors.attentions, 'positiveProductMean'],
    ['(∇A ⊙ R)⁺ mean', inputs.attentionGrads, inputs.attentionRelevance, tensors.attentionGrads, tensors.attentionRelevance, 'positiveProductMean'],
  ];
  const cpuFused = (x: Float32Array, y: Float32Array, mode: FusionMode, firstLayer: number) =>
    Array.from({ length: layers - firstLayer }, (_, s) => fuseHeads(x, y, dims, firstLayer + s, mode));

  const cases: PassCase[] = [];
  try {
    // fuseHeads, from block 0 and from the last block.
    for (const [name, x, y, cx, cy, mode] of pairs) {
      for (const firstLayer of [0, layers - 1]) {
        run(base(mode, firstLayer), (pass) => fuse.encode(pass, x, y, tokens, layers - firstLayer));
        const got = new Float32Array(await read(fused, (layers - firstLayer) * tokens * tokens * 4));
        const want = new Float32Array((layers - firstLayer) * tokens * tokens);
        cpuFused(cx, cy, mode, firstLayer).forEach((m, s) => want.set(m, s * tokens * tokens));
        cases.push(compare('fuseHeads', `${name}, from block ${firstLayer}`, got, want));
      }
    }
    // discardThreshold on each fusion's maps.
    for (const [name, x, y, cx, cy, mode] of pairs.slice(0, 3)) {
      for (const ratio of [0.5, 0.9]) {
        const k = discardCount(tokens, ratio);
        run(base(mode, 0, k, true), (pass) => { fuse.encode(pass, x, y, tokens, layers); threshold.encode(pass, layers); });
        const got = new Uint32Array(await read(thresholds, layers * 4));
        const want = cpuFused(cx, cy, mode, 0).map((m) => discardThreshold(m, tokens, ratio)!);
        cases.push(compare('discardThreshold', `${name}, ratio ${ratio}`, got, want));
      }
    }
    // propagateRow: rollout (row-normalised, with and without discard) and I + Ā (relevance, lrp).
    for (const [name, index, ratio, rowNormalise, firstLayer] of [
      ['rollout, no discard', 0, 0, true, 0], ['rollout, discard 0.9, from block 1', 1, 0.9, true, 1],
      ['I + Ā relevance', 3, 0, false, 0], ['I + Ā lrp, last block only', 4, 0, false, layers - 1],
    ] as const) {
      const [, x, y, cx, cy, mode] = pairs[index]!;
      const k = discardCount(tokens, ratio);
      run(base(mode, firstLayer, k, rowNormalise), (pass) => {
        fuse.encode(pass, x, y, tokens, layers - firstLayer);
        if (k > 0) threshold.encode(pass, layers - firstLayer);
        propagate.encode(pass);
      });
      const got = new Float32Array(await read(row, tokens * 4));
      let want: Float32Array = new Float32Array(tokens);
      want[0] = 1;
      const maps = cpuFused(cx, cy, mode, firstLayer);
      for (let s = maps.length - 1; s >= 0; s--) {
        const m = maps[s]!;
        if (k > 0) applyDiscard(m, tokens, discardThreshold(m, tokens, ratio));
        want = propagateRowStep(want, m, tokens, rowNormalise);
      }
      cases.push(compare('propagateRow', name, got, want));
    }
    // patchMap on a random row with both signs.
    const random = seededRandom(5);
    const randomRow = new Float32Array(2 * tokens).map(() => random() * 2 - 1);
    device.queue.writeBuffer(row, 0, randomRow);
    run(base('mean', 0), (pass) => patch.encode(pass, 'row'));
    const got = new Float32Array(await read(result, (2 + 2 * gridSize * gridSize) * 4));
    const want = patchMap(randomRow.subarray(0, tokens), dims);
    cases.push(compare('patchMap', 'random row', got, [want.min, want.max, ...want.raw, ...want.values]));
    if (errors.length) throw new Error(`WebGPU validation: ${errors.join('; ')}`);
  } finally {
    fuse.release();
    for (const b of owned) b.destroy();
    device.destroy();
  }
  return cases;
}
