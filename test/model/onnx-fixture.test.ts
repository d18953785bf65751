// The committed fixture graphs (public/models/fixture-*), run by onnxruntime-node on the CPU, reproduce
// PyTorch's expected outputs (test/fixtures/<model>/, written by model/make_fixtures.py), and their
// inputs/outputs have the names, dtypes and shapes of docs/model-contract.md's `json contract` block.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, test } from 'vitest';

const ROOT = process.cwd();
const MODELS = ['fixture-deit-micro', 'fixture-deit-micro-distilled'];
// fp32 graphs: within 1e-4 of PyTorch, and within 1e-4 relative to the output's largest magnitude when
// that is below 1 (relevance values are ~1e-3, where an absolute 1e-4 would say little). Measured: ≤ 4e-6.
const FP32_TOLERANCE = 1e-4;
// fp16 graphs: loosely, relative to the output's largest magnitude. Measured: ≤ 2.3e-3.
const FP16_RELATIVE_TOLERANCE = 1e-2;
// LRP relevance divides small numbers by small, ε-stabilised ones, so fp16 rounding of the forward values
// moves single entries more (measured: up to 14 % of the max on the 18-token fixture) while the map as a
// whole stays put (cosine ≥ 0.997). For it, fp16 is checked by direction plus a coarse bound.
const FP16_RELEVANCE_MIN_COSINE = 0.99;
const FP16_RELEVANCE_RELATIVE_TOLERANCE = 0.25;

interface ContractIO { name: string; dtype: string; shape: (number | string)[]; graphs?: string[]; optional?: boolean }
interface Contract { inputs: ContractIO[]; outputs: ContractIO[]; graph_roles: Record<string, string>; min_opset: number }
interface TensorEntry { file: string; dtype: string; shape: number[] }
interface FixtureCase { target: number[]; explained_class: number; inputs: Record<string, string>; outputs: Record<string, string> }
interface FixtureIndex { model: string; backbone_sha256: string; tensors: Record<string, TensorEntry>; cases: Record<string, FixtureCase> }
interface Manifest {
  name: string; image_size: number; embed_dim: number; layers: number; heads: number; tokens: number; features: number; trained: boolean;
  outputs: string[]; graphs: Record<string, string>; files: { path: string; sha256: string; bytes: number }[];
  backbone_sha256: string;
}

function contractBlock(): Contract {
  const doc = readFileSync(join(ROOT, 'docs/model-contract.md'), 'utf8');
  const match = /```json contract\n([\s\S]*?)```/.exec(doc);
  if (!match?.[1]) throw new Error('docs/model-contract.md has no ```json contract block');
  return JSON.parse(match[1]) as Contract;
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

function readFloats(dir: string, entry: TensorEntry): Float32Array {
  const bytes = readFileSync(join(dir, entry.file));
  expect(entry.dtype).toBe('float32');
  expect(bytes.byteLength).toBe(4 * entry.shape.reduce((a, b) => a * b, 1));
  // Copy into an aligned buffer: Buffer slices may start at any byte offset.
  const out = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

function maxAbs(values: Float32Array): number {
  let m = 0;
  for (const v of values) m = Math.max(m, Math.abs(v));
  return m;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(aa * bb);
}

function resolve(shape: (number | string)[], symbols: Record<string, number>): number[] {
  return shape.map((d) => {
    if (typeof d === 'number') return d;
    const value = symbols[d];
    if (value === undefined) throw new Error(`unknown shape symbol ${d}`);
    return value;
  });
}

const contract = contractBlock();

describe.each(MODELS)('%s', (model) => {
  const modelDir = join(ROOT, 'public/models', model);
  const fixtureDir = join(ROOT, 'test/fixtures', model);
  const manifest = readJson<Manifest>(join(modelDir, 'manifest.json'));
  const index = readJson<FixtureIndex>(join(fixtureDir, 'index.json'));
  const classes = index.tensors.head_bias!.shape[0]!;
  const symbols = {
    S: manifest.image_size, C: classes, F: manifest.features, L: manifest.layers, H: manifest.heads, N: manifest.tokens,
    D: manifest.embed_dim, R: 2 * manifest.layers,
  };

  test('is an untrained fixture whose files match the manifest and the expected outputs', () => {
    expect(manifest.name).toBe(model);
    expect(manifest.name.startsWith('fixture-')).toBe(true);
    expect(manifest.trained).toBe(false);
    expect(index.backbone_sha256).toBe(manifest.backbone_sha256);
    for (const file of manifest.files) {
      const bytes = readFileSync(join(modelDir, file.path));
      expect(bytes.byteLength, file.path).toBe(file.bytes);
      expect(createHash('sha256').update(bytes).digest('hex'), file.path).toBe(file.sha256);
    }
    const weights = readFileSync(join(modelDir, 'model.weights'));
    expect(createHash('sha256').update(weights).digest('hex')).toBe(manifest.backbone_sha256);
  });

  const roles = Object.keys(manifest.graphs);
  test('ships every graph role of the contract (fp16 included)', () => {
    expect(roles.sort()).toEqual(Object.keys(contract.graph_roles).sort());
  });

  describe.each(roles)('%s graph', (role) => {
    const file = manifest.graphs[role]!;
    expect(file).toBe(contract.graph_roles[role]);
    const kind = role.replace('_fp16', '');
    const fp16 = role.endsWith('fp16');
    let session: ort.InferenceSession | undefined;
    const open = async (): Promise<ort.InferenceSession> => {
      session ??= await ort.InferenceSession.create(join(modelDir, file), { logSeverityLevel: 3 });
      return session;
    };

    test('has the contract inputs and outputs', async () => {
      const s = await open();
      expect([...s.inputNames]).toEqual(contract.inputs.map((i) => i.name));
      const wanted = contract.outputs
        .filter((o) => o.graphs?.includes(kind) && (!o.optional || manifest.outputs.includes(o.name)))
        .map((o) => o.name);
      expect([...s.outputNames]).toEqual(wanted);
      // The lrp graph computes every output the model lists; the full graph all but attention_relevance.
      if (kind === 'lrp') expect([...s.outputNames]).toEqual(manifest.outputs);
      if (kind === 'full') expect([...s.outputNames]).not.toContain('attention_relevance');
      // Declared input shapes: static where the contract is numeric or S/F, symbolic for C.
      const meta = (s as unknown as { inputMetadata?: { name: string; type?: string; shape?: (number | string)[] }[] })
        .inputMetadata;
      if (meta) {
        for (const io of contract.inputs) {
          const m = meta.find((x) => x.name === io.name);
          expect(m, io.name).toBeDefined();
          expect(m!.type).toBe(io.dtype);
          const declared = m!.shape ?? [];
          expect(declared.length, io.name).toBe(io.shape.length);
          io.shape.forEach((d, axis) => {
            if (d === 'C') expect(typeof declared[axis], `${io.name} axis ${axis}`).toBe('string');
            else expect(declared[axis], `${io.name} axis ${axis}`).toBe(resolve([d], symbols)[0]);
          });
        }
      }
    });

    test.each(Object.keys(index.cases))('matches PyTorch: case %s', async (caseName) => {
      const s = await open();
      const c = index.cases[caseName]!;
      const feeds: Record<string, ort.Tensor> = {};
      for (const io of contract.inputs) {
        const key = c.inputs[io.name]!;
        const entry = index.tensors[key]!;
        expect(entry.shape).toEqual(resolve(io.shape, symbols));
        feeds[io.name] = new ort.Tensor('float32', readFloats(fixtureDir, entry), entry.shape);
      }
      const results = await s.run(feeds);
      for (const name of s.outputNames) {
        const key = c.outputs[name];
        expect(key, `expected values for ${name}`).toBeDefined();
        const entry = index.tensors[key!]!;
        const got = results[name]!;
        const io = contract.outputs.find((o) => o.name === name)!;
        expect(got.type, name).toBe(io.dtype);
        expect([...got.dims], name).toEqual(resolve(io.shape, symbols));
        const want = readFloats(fixtureDir, entry);
        const diff = maxAbsDiff(got.data as Float32Array, want);
        const magnitude = maxAbs(want);
        expect(magnitude, `${name} is not all zeros`).toBeGreaterThan(0);
        const label = `${role} ${caseName} ${name}`;
        if (fp16 && name === 'attention_relevance') {
          expect(cosine(got.data as Float32Array, want), label).toBeGreaterThanOrEqual(FP16_RELEVANCE_MIN_COSINE);
          expect(diff, label).toBeLessThanOrEqual(FP16_RELEVANCE_RELATIVE_TOLERANCE * magnitude);
        } else {
          const allowed = fp16 ? FP16_RELATIVE_TOLERANCE * magnitude : FP32_TOLERANCE * Math.min(1, magnitude);
          expect(diff, label).toBeLessThanOrEqual(allowed);
        }
      }
      // The explained class really is the one the fixture says (all-zeros target = top logit).
      const logits = results.logits!.data as Float32Array;
      if (c.target.every((t) => t === 0)) expect(logits.indexOf(Math.max(...logits))).toBe(c.explained_class);
    }, 60_000);
  });
});
