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
