// head.json: the classifier head (labels, [C][F] weight, [C] bias) for one backbone.
import { EngineError } from '../errors';
import { CONTRACT } from './contract';
import type { Manifest } from './manifest';

export interface Head {
  labels: string[];
  features: number;
  /** Row-major [C, F]. */
  weight: Float32Array;
  bias: Float32Array;
  backboneSha256: string;
  trained: boolean;
  valAccuracy?: number;
  /** Where it came from (file name), for messages. */
  source: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validates a parsed head.json against the contract and the backbone it is meant for. */
export function validateHead(json: unknown, manifest: Pick<Manifest, 'features' | 'backbone_sha256'>, source = 'head.json'): Head {
  const invalid = (what: string) => new EngineError('head-invalid', `${source}: ${what}`);
  if (!isRecord(json)) throw invalid('not a JSON object');
  const missing = CONTRACT.head_required.filter((key) => !(key in json));
  if (missing.length > 0) throw invalid(`missing ${missing.join(', ')}`);
  if (json.format !== CONTRACT.head_format) throw invalid(`format ${JSON.stringify(json.format)} (expected "${CONTRACT.head_format}")`);
  if (json.contract_version !== CONTRACT.contract_version) throw invalid(`contract_version ${JSON.stringify(json.contract_version)}`);
  if (typeof json.trained !== 'boolean') throw invalid('trained must be a boolean');
  if (typeof json.created !== 'string') throw invalid('created must be a string');

  const labels = json.labels;
  const labelPattern = new RegExp(CONTRACT.label_pattern);
  if (!Array.isArray(labels) || labels.length < 2) throw invalid('labels must list at least 2 classes');
  for (const label of labels) {
    if (typeof label !== 'string' || !labelPattern.test(label)) throw invalid(`label ${JSON.stringify(label)} does not match ${CONTRACT.label_pattern}`);
  }
  if (new Set(labels).size !== labels.length) throw invalid('labels are not unique');
  const classes = labels.length;

  const features = json.features;
  if (typeof features !== 'number' || !Number.isInteger(features) || features <= 0) throw invalid('features must be a positive integer');
  if (typeof json.backbone_sha256 !== 'string') throw invalid('backbone_sha256 must be a string');

  const weight = new Float32Array(classes * features);
  const rows = json.weight;
  if (!Array.isArray(rows) || rows.length !== classes) throw invalid(`weight must have ${classes} rows (one per label)`);
  rows.forEach((row: unknown, c) => {
    if (!Array.isArray(row) || row.length !== features) throw invalid(`weight row ${c} must have ${features} numbers`);
    row.forEach((value: unknown, f) => {
      if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(`weight[${c}][${f}] is not a finite number`);
      weight[c * features + f] = value;
    });
  });
  const biasJson = json.bias;
  if (!Array.isArray(biasJson) || biasJson.length !== classes) throw invalid(`bias must have ${classes} numbers`);
  const bias = new Float32Array(classes);
  biasJson.forEach((value: unknown, c) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(`bias[${c}] is not a finite number`);
    bias[c] = value;
  });

  // Well-formed but for another backbone: a different, more helpful code.
  if (features !== manifest.features) {
    throw new EngineError('head-mismatch', `${source}: features ${features} != backbone features ${manifest.features}`);
  }
  if (json.backbone_sha256 !== manifest.backbone_sha256) {
    throw new EngineError('head-mismatch', `${source}: backbone_sha256 ${String(json.backbone_sha256).slice(0, 12)}… != model's ${manifest.backbone_sha256.slice(0, 12)}…`);
  }

  const metrics = json.metrics;
  const valAccuracy = isRecord(metrics) && typeof metrics.val_accuracy === 'number' ? metrics.val_accuracy : undefined;
  return { labels: labels as string[], features, weight, bias, backboneSha256: json.backbone_sha256, trained: json.trained, valAccuracy, source };
}
