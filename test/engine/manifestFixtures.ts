// Fixtures for the validation tests: a small, self-consistent manifest and head (not a real model).
import type { Manifest } from '../../src/engine/model/manifest';

export const FIXTURE_WEIGHTS_SHA = 'a'.repeat(64);

export function fixtureManifest(): Manifest {
  return {
    contract_version: 1,
    name: 'fixture-validation',
    title: 'Validation fixture',
    version: '0.0.1',
    architecture: 'deit_custom',
    trained: false,
    image_size: 32,
    patch_size: 8,
    prefix_tokens: 1,
    layers: 2,
    heads: 2,
    tokens: 17,
    embed_dim: 8,
    features: 8,
    opset: 17,
    graphs: { full: 'model.onnx', forward: 'model.forward.onnx' },
    external_data: { 'model.onnx': 'model.weights', 'model.forward.onnx': 'model.weights' },
    outputs: ['logits', 'features', 'attentions', 'attention_grads'],
    files: [
      { path: 'model.onnx', sha256: 'b'.repeat(64), bytes: 100 },
      { path: 'model.forward.onnx', sha256: 'c'.repeat(64), bytes: 90 },
      { path: 'model.weights', sha256: FIXTURE_WEIGHTS_SHA, bytes: 1000 },
    ],
    default_head: 'head.json',
    backbone_sha256: FIXTURE_WEIGHTS_SHA,
    training: { recipe: 'random init', epochs: 0, seed: 0, hardware: 'none', val_accuracy: 0 },
    created: '2026-11-26T00:00:00Z',
  };
}

export function fixtureHead(classes = 3, features = 8): Record<string, unknown> {
  return {
    format: 'leaf-lens-head',
    contract_version: 1,
    labels: ['angular_leaf_spot', 'bean_rust', 'healthy', 'class_3', 'class_4'].slice(0, classes),
    features,
    weight: Array.from({ length: classes }, (_, c) => Array.from({ length: features }, (_, f) => (c - f) / 10)),
    bias: Array.from({ length: classes }, (_, c) => c / 100),
    backbone_sha256: FIXTURE_WEIGHTS_SHA,
    trained: false,
    metrics: { val_accuracy: 0.5 },
    created: '2026-11-26T00:00:00Z',
  };
}

/** Deterministic pseudo-random features of `count` photos per class around class-specific centres (not a real
 * model's): a test fixture for the optional head fields. */
export function fixtureFeatures(classes = 3, features = 8, count = 12): number[][][] {
  let seed = 12345;
  const next = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 - 0.5; };
  return Array.from({ length: classes }, (_, c) => Array.from({ length: count }, () =>
    Array.from({ length: features }, (_, f) => (f === c ? 3 : 1) + 0.4 * next())));
}

/** head.json `statistics` of fixtureFeatures, computed with plain loops (L2-normalised rows). */
export function fixtureStatistics(classes = 3, features = 8): Record<string, unknown> {
  const groups = fixtureFeatures(classes, features).map((rows) => rows.map((r) => {
    const norm = Math.hypot(...r);
    return r.map((v) => v / norm);
  }));
  const means = groups.map((rows) => Array.from({ length: features }, (_, f) => rows.reduce((s, r) => s + r[f]!, 0) / rows.length));
  const scatter = Array.from({ length: features }, (_, i) => Array.from({ length: features }, (_, j) =>
    groups.reduce((s, rows, c) => s + rows.reduce((t, r) => t + (r[i]! - means[c]![i]!) * (r[j]! - means[c]![j]!), 0), 0)));
  return { feature_norm: 'l2', class_means: means, class_counts: groups.map((g) => g.length), scatter, shrinkage: 0.1 };
}

/** fixtureHead with every optional field of the contract. */
export function fixtureHeadWithDomain(): Record<string, unknown> {
  return {
    ...fixtureHead(),
    statistics: fixtureStatistics(),
    calibration: { temperature: 1.5 },
    open_set: { score: 'mahalanobis', threshold: 20 },
    confidence: { min_probability: 0.8 },
  };
}
