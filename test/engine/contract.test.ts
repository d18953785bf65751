// The engine's side of docs/model-contract.md: the TS port equals the document's `json contract` block,
// a good manifest/head passes, and each kind of broken one is refused with the right code.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { EngineError } from '../../src/engine/errors';
import { CONTRACT, requiredOutputs, resolveShape } from '../../src/engine/model/contract';
import { validateHead } from '../../src/engine/model/head';
import { isSafeRelativePath, validateManifest, type Manifest } from '../../src/engine/model/manifest';
import { OPEN_SET_SCORES } from '../../src/engine/model/domain';
import { fixtureFeatures, fixtureHead, fixtureHeadWithDomain, fixtureManifest } from './manifestFixtures';

/** Cases whose problem is a number that is not finite: their own code, so the app can say the file is damaged. */
const NOT_FINITE = /NaN|infinite|string in the scatter/;

function contractBlock(): unknown {
  const doc = readFileSync(join(process.cwd(), 'docs/model-contract.md'), 'utf8');
  const match = /```json contract\n([\s\S]*?)```/.exec(doc);
  if (!match) throw new Error('docs/model-contract.md has no ```json contract block');
  return JSON.parse(match[1]!);
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof EngineError) return error.code;
    throw error;
  }
  return 'accepted';
}

type Patch = (m: Record<string, unknown>) => void;
const manifestWith = (patch: Patch): unknown => {
  const m = fixtureManifest() as unknown as Record<string, unknown>;
  patch(m);
  return m;
};

describe('contract port', () => {
  test('CONTRACT equals the json contract block in docs/model-contract.md', () => {
    expect(CONTRACT).toEqual(contractBlock());
  });

  test('shape symbols resolve and graph outputs follow the manifest', () => {
    const bindings = { S: 224, C: 3, F: 192, L: 12, H: 3, N: 197, D: 192, R: 24 };
    expect(resolveShape(['L', 1, 'H', 'N', 'N'], bindings)).toEqual([12, 1, 3, 197, 197]);
    expect(resolveShape([1, 'R', 'D'], bindings)).toEqual([1, 24, 192]);
    // layer_features is optional: every graph kind computes it exactly when the manifest lists it.
    for (const kind of ['forward', 'full', 'lrp'] as const) {
      expect(requiredOutputs(kind, ['logits', 'features', 'attentions', 'attention_grads', 'layer_features']).map((o) => o.name)).toContain('layer_features');
      expect(requiredOutputs(kind, ['logits', 'features', 'attentions', 'attention_grads']).map((o) => o.name)).not.toContain('layer_features');
    }
    expect(requiredOutputs('forward', ['logits', 'features', 'attentions', 'attention_grads', 'attention_relevance']).map((o) => o.name))
      .toEqual(['logits', 'features', 'attentions']);
    expect(requiredOutputs('full', ['logits', 'features', 'attentions', 'attention_grads']).map((o) => o.name))
      .toEqual(['logits', 'features', 'attentions', 'attention_grads']);
    // Only the lrp graph computes attention_relevance; the full graph never has to.
    expect(requiredOutputs('full', ['logits', 'features', 'attentions', 'attention_grads', 'attention_relevance']).map((o) => o.name))
      .not.toContain('attention_relevance');
    expect(requiredOutputs('lrp', ['logits', 'features', 'attentions', 'attention_grads', 'attention_relevance']).map((o) => o.name))
      .toEqual(['logits', 'features', 'attentions', 'attention_grads', 'attention_relevance']);
  });
});

/** Gives the fixture manifest a valid lrp graph. */
const withLrp: Patch = (m) => {
  (m.graphs as Record<string, string>).lrp = 'model.lrp.onnx';
  (m.external_data as Record<string, string>)['model.lrp.onnx'] = 'model.weights';
  (m.outputs as string[]).push('attention_relevance');
  (m.files as unknown[]).push({ path: 'model.lrp.onnx', sha256: 'e'.repeat(64), bytes: 120 });
};

describe('validateManifest', () => {
  test('the fixture manifest passes, with or without an lrp graph', () => {
    expect(validateManifest(fixtureManifest()).tokens).toBe(17);
    expect(validateManifest(manifestWith(withLrp)).graphs.lrp).toBe('model.lrp.onnx');
  });

  const broken: [string, Patch][] = [
    ['not an object', (m) => { for (const k of Object.keys(m)) delete m[k]; }],
    ['a required key missing', (m) => { delete m.backbone_sha256; }],
    ['another contract version', (m) => { m.contract_version = 2; }],
    ['tokens inconsistent with the grid', (m) => { m.tokens = 16; }],
    ['features != embed_dim·prefix_tokens', (m) => { m.features = 16; }],
    ['image_size not a multiple of patch_size', (m) => { m.image_size = 30; m.tokens = 17; }],
    ['prefix_tokens 3', (m) => { m.prefix_tokens = 3; m.tokens = 19; m.features = 24; }],
    ['opset below the minimum', (m) => { m.opset = 13; }],
    ['a non-integer layer count', (m) => { m.layers = 2.5; }],
    ['no forward graph', (m) => { m.graphs = { full: 'model.onnx' }; }],
    ['an unknown graph role', (m) => { m.graphs = { full: 'model.onnx', forward: 'model.forward.onnx', extra: 'x.onnx' }; }],
    ['a graph path leaving the folder', (m) => { m.graphs = { full: '../model.onnx', forward: 'model.forward.onnx' }; }],
    ['a graph path that is a URL', (m) => { m.graphs = { full: 'https://cdn.example/model.onnx', forward: 'model.forward.onnx' }; }],
    ['a graph without external data', (m) => { m.external_data = { 'model.onnx': 'model.weights' }; }],
    ['graphs with different weights', (m) => { m.external_data = { 'model.onnx': 'model.weights', 'model.forward.onnx': 'other.weights' }; (m.files as unknown[]).push({ path: 'other.weights', sha256: 'd'.repeat(64), bytes: 5 }); }],
    ['attention_relevance listed without an lrp graph', (m) => { (m.outputs as string[]).push('attention_relevance'); }],
    ['an lrp graph without attention_relevance listed', (m) => { withLrp(m); m.outputs = ['logits', 'features', 'attentions', 'attention_grads']; }],
    ['an lrp graph with other weights', (m) => { withLrp(m); (m.external_data as Record<string, string>)['model.lrp.onnx'] = 'other.weights'; (m.files as unknown[]).push({ path: 'other.weights', sha256: 'd'.repeat(64), bytes: 5 }); }],
    ['outputs lacking attention_grads', (m) => { m.outputs = ['logits', 'features', 'attentions']; }],
    ['an unknown output', (m) => { m.outputs = ['logits', 'features', 'attentions', 'attention_grads', 'saliency']; }],
    ['a graph file not listed in files', (m) => { m.files = (m.files as { path: string }[]).filter((f) => f.path !== 'model.forward.onnx'); }],
    ['a weights file not listed in files', (m) => { m.files = (m.files as { path: string }[]).filter((f) => f.path !== 'model.weights'); }],
    ['a malformed sha256', (m) => { (m.files as { sha256: string }[])[0]!.sha256 = 'XYZ'; }],
    ['a zero byte size', (m) => { (m.files as { bytes: number }[])[0]!.bytes = 0; }],
    ['a file listed twice', (m) => { (m.files as unknown[]).push({ path: 'model.onnx', sha256: 'b'.repeat(64), bytes: 100 }); }],
    ['backbone_sha256 not the weights sha256', (m) => { m.backbone_sha256 = 'e'.repeat(64); }],
    ['trained not a boolean', (m) => { m.trained = 'yes'; }],
  ];
  test.each(broken)('refuses a manifest with %s (model-contract)', (_name, patch) => {
    expect(codeOf(() => validateManifest(manifestWith(patch)))).toBe('model-contract');
  });

  test('the error names the problem in its detail and speaks plainly in its message', () => {
    try {
      validateManifest(manifestWith((m) => { m.tokens = 16; }));
      expect.unreachable();
    } catch (error) {
      const e = error as EngineError;
      expect(e.detail).toMatch(/tokens 16/);
      expect(e.message).not.toMatch(/tokens|manifest/);
    }
  });

  test('relative paths: safe and unsafe', () => {
    expect(['model.onnx', 'sub/model.weights'].every(isSafeRelativePath)).toBe(true);
    expect(['', '/etc/passwd', '../x', 'a/../b', 'http://x/y', 'a\\b', 'a//b'].some(isSafeRelativePath)).toBe(false);
  });
});

describe('validateHead', () => {
  const manifest: Manifest = fixtureManifest();
  test('the fixture head passes, weight flattened row-major', () => {
    const head = validateHead(fixtureHead(), manifest);
    expect(head.labels).toEqual(['angular_leaf_spot', 'bean_rust', 'healthy']);
    expect(head.weight.length).toBe(3 * 8);
    expect(head.weight[1 * 8 + 2]).toBeCloseTo((1 - 2) / 10, 6);
    expect(Array.from(head.bias)).toEqual([0, 0.01, 0.02].map((v) => Math.fround(v)));
    expect(head.valAccuracy).toBe(0.5);
  });
  test('a head with other classes (5) for the same backbone passes', () => {
    expect(validateHead(fixtureHead(5), manifest).labels).toHaveLength(5);
  });

  const headWith = (patch: (h: Record<string, unknown>) => void) => { const h = fixtureHead(); patch(h); return h; };
  const invalid: [string, (h: Record<string, unknown>) => void][] = [
    ['a wrong format tag', (h) => { h.format = 'keras'; }],
    ['a missing key', (h) => { delete h.bias; }],
    ['another contract version', (h) => { h.contract_version = 7; }],
    ['one label only', (h) => { h.labels = ['healthy']; h.weight = [(h.weight as number[][])[0]]; h.bias = [0]; }],
    ['duplicate labels', (h) => { h.labels = ['healthy', 'healthy', 'bean_rust']; }],
    ['a label with spaces', (h) => { h.labels = ['Bean Rust', 'healthy', 'x']; }],
    ['an empty label', (h) => { h.labels = ['', 'healthy', 'x']; }],
    ['too few weight rows', (h) => { h.weight = (h.weight as number[][]).slice(0, 2); }],
    ['a short weight row', (h) => { (h.weight as number[][])[1] = [1, 2, 3]; }],
    ['a NaN-ish weight', (h) => { (h.weight as unknown[][])[0]![0] = 'NaN'; }],
    ['an infinite bias', (h) => { (h.bias as number[])[2] = Infinity; }],
    ['a bias of the wrong length', (h) => { h.bias = [0, 0]; }],
    ['not an object', (h) => { for (const k of Object.keys(h)) delete h[k]; }],
  ];
  test.each(invalid)('refuses a head with %s (head-invalid, or head-not-finite for numbers)', (name, patch) => {
    expect(codeOf(() => validateHead(headWith(patch), manifest))).toBe(NOT_FINITE.test(name) ? 'head-not-finite' : 'head-invalid');
  });
  test('refuses a head for another feature size (head-mismatch)', () => {
    const h = fixtureHead(3, 16);
    expect(codeOf(() => validateHead(h, manifest))).toBe('head-mismatch');
  });
  test('refuses a head for another backbone (head-mismatch)', () => {
    expect(codeOf(() => validateHead(headWith((h) => { h.backbone_sha256 = 'f'.repeat(64); }), manifest))).toBe('head-mismatch');
  });
});

describe('validateHead: optional fields (knowing when it does not know)', () => {
  const manifest: Manifest = fixtureManifest();
  test('the contract names the scores the engine implements', () => {
    expect([...OPEN_SET_SCORES]).toEqual(CONTRACT.open_set_scores);
  });
  test('a head without them loads: T = 1, default rule, no domain check', () => {
    const head = validateHead(fixtureHead(), manifest);
    expect(head.domain).toEqual({ temperature: 1, minProbability: undefined });
    expect(head.statistics).toBeUndefined();
  });
  test('a head with them loads; its scorer accepts its own training points and refuses a far point', () => {
    const head = validateHead(fixtureHeadWithDomain(), manifest);
    expect(head.domain.temperature).toBe(1.5);
    expect(head.domain.minProbability).toBe(0.8);
    expect(head.statistics!.classCounts).toEqual([12, 12, 12]);
    const scorer = head.domain.openSet!;
    const own = fixtureFeatures()[1]![0]!;
    expect(scorer.score(own)).toBeLessThan(20);
    expect(scorer.score([-1, 5, -3, 2, 0, -4, 1, 3])).toBeGreaterThan(20);
  });
  test('statistics without open_set: parsed, but no domain check', () => {
    const h = fixtureHeadWithDomain();
    delete h.open_set;
    const head = validateHead(h, manifest);
    expect(head.statistics).toBeDefined();
    expect(head.domain.openSet).toBeUndefined();
  });

  type Stats = { class_means: number[][]; class_counts: number[]; scatter: number[][]; shrinkage: number; feature_norm: string };
  const withDomain = (patch: (h: Record<string, unknown>, s: Stats) => void) => {
    const h = fixtureHeadWithDomain();
    patch(h, h.statistics as Stats);
    return h;
  };
  const broken: [string, (h: Record<string, unknown>, s: Stats) => void][] = [
    ['statistics not an object', (h) => { h.statistics = [1, 2]; }],
    ['another feature norm', (_h, s) => { s.feature_norm = 'none'; }],
    ['class_means with a missing class', (_h, s) => { s.class_means.pop(); }],
    ['a class mean of the wrong size', (_h, s) => { s.class_means[0] = [1, 2]; }],
    ['a NaN in a class mean', (_h, s) => { s.class_means[2]![3] = Number.NaN; }],
    ['a fractional count', (_h, s) => { s.class_counts[0] = 2.5; }],
    ['a zero count', (_h, s) => { s.class_counts[1] = 0; }],
    ['no more photos than classes', (_h, s) => { s.class_counts = [1, 1, 1]; }],
    ['a scatter with a missing row', (_h, s) => { s.scatter.pop(); }],
    ['a short scatter row', (_h, s) => { s.scatter[4] = [1, 2, 3]; }],
    ['a NaN in the scatter', (_h, s) => { s.scatter[1]![1] = Number.NaN; }],
    ['a string in the scatter', (_h, s) => { (s.scatter[1] as unknown[])[2] = '0.1'; }],
    ['an asymmetric scatter', (_h, s) => { s.scatter[0]![5] = s.scatter[0]![5]! + 1; }],
    ['a negative-definite scatter (covariance not positive definite)', (_h, s) => { s.scatter = s.scatter.map((row, i) => row.map((_v, j) => (i === j ? -1 : 0))); }],
    ['shrinkage 1', (_h, s) => { s.shrinkage = 1; }],
    ['a negative shrinkage', (_h, s) => { s.shrinkage = -0.1; }],
    ['a zero temperature', (h) => { h.calibration = { temperature: 0 }; }],
    ['a temperature that is a string', (h) => { h.calibration = { temperature: '1.5' }; }],
    ['an unknown open-set score', (h) => { h.open_set = { score: 'energy', threshold: 1 }; }],
    ['an infinite threshold', (h) => { h.open_set = { score: 'mahalanobis', threshold: Infinity }; }],
    ['open_set without statistics', (h) => { delete h.statistics; }],
    ['min_probability above 1', (h) => { h.confidence = { min_probability: 1.5 }; }],
    ['min_probability 0', (h) => { h.confidence = { min_probability: 0 }; }],
  ];
  test.each(broken)('refuses a head with %s (head-invalid, or head-not-finite for numbers)', (name, patch) => {
    expect(codeOf(() => validateHead(withDomain(patch), manifest))).toBe(NOT_FINITE.test(name) ? 'head-not-finite' : 'head-invalid');
  });
  test('a non-positive-definite covariance says so', () => {
    const h = withDomain((_h, s) => { s.scatter = s.scatter.map((row, i) => row.map((_v, j) => (i === j ? -1 : 0))); });
    expect(() => validateHead(h, manifest)).toThrow(expect.objectContaining({ detail: expect.stringMatching(/not positive definite/) }));
  });
});

// Every committed model folder: the pipeline's fixtures (random-init, trained:false) and the shipped, trained model.
const MODELS = join(process.cwd(), 'public/models');
describe('committed model folders', () => {
  const folders = readdirSync(MODELS).filter((f) => existsSync(join(MODELS, f, 'manifest.json'))).sort();
  test('the shipped model and the test fixtures are among them', () => {
    expect(folders).toEqual(expect.arrayContaining(['deit-tiny-beans', 'fixture-deit-micro', 'fixture-deit-micro-distilled']));
  });
  test.each(folders)('%s: manifest, files and default head pass validation', (folder) => {
    const dir = join(MODELS, folder);
    const manifest = validateManifest(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
    expect(manifest.trained).toBe(!folder.startsWith('fixture'));
    for (const file of manifest.files) {
      const bytes = readFileSync(join(dir, file.path));
      expect([bytes.length, createHash('sha256').update(bytes).digest('hex')], file.path).toEqual([file.bytes, file.sha256]);
    }
    const head = validateHead(JSON.parse(readFileSync(join(dir, manifest.default_head), 'utf8')), manifest);
    expect(head.labels.length).toBeGreaterThanOrEqual(2);
    // The shipped model can refuse photos that are not bean leaves; the test fixtures are the "no statistics" case.
    expect(head.domain.openSet !== undefined, 'domain check').toBe(folder === 'deit-tiny-beans');
  });
});
