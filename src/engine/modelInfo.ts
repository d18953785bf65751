// ModelInfo: what the UI shows about the loaded model (manifest + active head + the files in use).
import { methodsFor } from './explain';
import type { Head } from './model/head';
import { lrpGraphFile } from './model/loader';
import { gridSizeOf, type Manifest } from './model/manifest';
import { localExampleCount, taughtClassesOf } from './model/taught';
import type { ModelInfo } from './types';

export function describeModel(m: Manifest, head: Head, isShippedHead: boolean, files: { totalBytes: number; usesF16: boolean }): ModelInfo {
  const { totalBytes, usesF16 } = files;
  return {
    name: m.name,
    title: m.title,
    version: m.version,
    architecture: m.architecture,
    trained: m.trained && head.trained,
    imageSize: m.image_size,
    patchSize: m.patch_size,
    gridSize: gridSizeOf(m),
    layers: m.layers,
    heads: m.heads,
    tokens: m.tokens,
    prefixTokens: m.prefix_tokens,
    labels: [...head.labels],
    valAccuracy: head.valAccuracy ?? (typeof m.training.val_accuracy === 'number' ? m.training.val_accuracy : undefined),
    // lrp only when the model has an lrp graph in the precision in use.
    methods: methodsFor((graph) => graph !== 'lrp' || Boolean(lrpGraphFile(m, usesF16))),
    usesFp16: usesF16,
    totalBytes,
    domainCheck: head.domain.openSet !== undefined || head.domain.layers !== undefined,
    backbone: { name: m.name, sha256: m.backbone_sha256, features: m.features },
    headName: isShippedHead ? undefined : (typeof head.json.name === 'string' ? head.json.name : head.source),
    taught: taughtClassesOf(head.json).map(({ label, note, photos }) => ({ label, note, photos })),
    localExamples: localExampleCount(head.json),
    canTeach: head.statistics !== undefined,
  };
}
