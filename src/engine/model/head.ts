// head.json: the classifier head (labels, [C][F] weight, [C] bias) for one backbone.
import { EngineError } from '../errors';
import { CONTRACT } from './contract';
import { OPEN_SET_SCORES, openSetScorer, type DomainModel, type FeatureStatistics, type OpenSetScoreName } from './domain';
import { labelsProblem } from './labels';
import { layerScorer, parseLayerStatistics, type LayerStatistics } from './layers';
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
  /** Calibration, confidence bar and (with statistics) the open-set scorer, its covariance factored once here. */
  domain: DomainModel;
  /** The feature statistics when the head has them (teach adds classes to these). */
  statistics?: FeatureStatistics;
  /** The intermediate-block statistics when the head has them (teach and corrections add photos to these). */
  layerStatistics?: LayerStatistics;
  /** Where it came from (file name), for messages. */
  source: string;
  /** The head.json object it was made from (kept for teaching, saving and sharing; never modified). */
  json: Record<string, unknown>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validates a parsed head.json against the contract and the backbone it is meant for. */
export function validateHead(json: unknown, manifest: Pick<Manifest, 'features' | 'backbone_sha256'> & { name?: string; layers?: number; embed_dim?: number }, source = 'head.json'): Head {
  const invalid = (what: string) => new EngineError(/finite number/.test(what) ? 'head-not-finite' : 'head-invalid', `${source}: ${what}`);
  if (!isRecord(json)) throw invalid('not a JSON object');
  const missing = CONTRACT.head_required.filter((key) => !(key in json));
  if (missing.length > 0) throw invalid(`missing ${missing.join(', ')}`);
  if (json.format !== CONTRACT.head_format) throw invalid(`format ${JSON.stringify(json.format)} (expected "${CONTRACT.head_format}")`);
  if (json.contract_version !== CONTRACT.contract_version) throw invalid(`contract_version ${JSON.stringify(json.contract_version)}`);
  if (typeof json.trained !== 'boolean') throw invalid('trained must be a boolean');
  if (typeof json.created !== 'string') throw invalid('created must be a string');

  const labels = json.labels;
  if (Array.isArray(labels) && labels.length > CONTRACT.max_classes) {
    throw new EngineError('head-too-many-classes', `${source}: ${labels.length} classes (at most ${CONTRACT.max_classes})`);
  }
  const labelProblem = labelsProblem(labels, json);
  if (labelProblem) throw invalid(labelProblem);
  const classes = (labels as string[]).length;

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
  // A shared head names its backbone; an older head (or the exporter's) may not.
  if (json.backbone_name !== undefined && manifest.name !== undefined && json.backbone_name !== manifest.name) {
    throw new EngineError('head-mismatch', `${source}: made for model ${JSON.stringify(json.backbone_name)}, this is ${JSON.stringify(manifest.name)}`);
  }
  if (json.backbone_sha256 !== manifest.backbone_sha256) {
    throw new EngineError('head-mismatch', `${source}: backbone_sha256 ${String(json.backbone_sha256).slice(0, 12)}… != model's ${manifest.backbone_sha256.slice(0, 12)}…`);
  }

  const metrics = json.metrics;
  const valAccuracy = isRecord(metrics) && typeof metrics.val_accuracy === 'number' ? metrics.val_accuracy : undefined;
  const { domain, statistics } = parseDomainFields(json, classes, features, invalid);
  const layerStatistics = parseLayerFields(json, manifest, domain, invalid);
  return { labels: labels as string[], features, weight, bias, backboneSha256: json.backbone_sha256, trained: json.trained, valAccuracy, domain, statistics, ...(layerStatistics ? { layerStatistics } : {}), source, json };
}

/** The optional `layer_statistics` (docs/model-contract.md): parsed, checked against the backbone where the caller
 * knows its layers and width, and its scorer (covariances factored once) put into the domain model. */
function parseLayerFields(json: Record<string, unknown>, manifest: { layers?: number; embed_dim?: number }, domain: DomainModel, invalid: (what: string) => EngineError): LayerStatistics | undefined {
  const field = json.layer_statistics;
  if (field === undefined) return undefined;
  if (!isRecord(field)) throw invalid('layer_statistics must be an object');
  const layers = manifest.layers ?? field.layers;
  if (typeof layers !== 'number' || !Number.isInteger(layers) || layers < 1) throw invalid('layer_statistics.layers must be a positive integer');
  // The width is the model's embed_dim; a caller without the manifest reads it from the first mean (4 bytes each).
  const firstMean = Array.isArray(field.rows) && isRecord(field.rows[0]) ? field.rows[0].mean : undefined;
  const padding = typeof firstMean === 'string' ? (firstMean.match(/=*$/)?.[0].length ?? 0) : 0;
  const width = manifest.embed_dim ?? (typeof firstMean === 'string' ? ((firstMean.length * 3) / 4 - padding) / 4 : 0);
  try {
    const stats = parseLayerStatistics(field, layers, width);
    domain.layers = layerScorer(stats);
    return stats;
  } catch (error) {
    throw invalid(error instanceof Error ? error.message : String(error));
  }
}

const isFiniteNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

function numberMatrix(value: unknown, rows: number, cols: number, what: string, invalid: (what: string) => EngineError): Float64Array[] {
  if (!Array.isArray(value) || value.length !== rows) throw invalid(`${what} must have ${rows} rows`);
  // Plain loops, not Float64Array.from with a callback: a head's scatter is F² numbers (37k for DeiT-tiny), checked once
  // at start-up while the code is still cold, and the callback form took most of that main-thread task.
  const matrix: Float64Array[] = [];
  for (let r = 0; r < rows; r++) {
    const row: unknown = value[r];
    if (!Array.isArray(row) || row.length !== cols) throw invalid(`${what} row ${r} must have ${cols} numbers`);
    const out = new Float64Array(cols);
    for (let c = 0; c < cols; c++) {
      const v: unknown = row[c];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(`${what}[${r}][${c}] is not a finite number`);
      out[c] = v;
    }
    matrix.push(out);
  }
  return matrix;
}

/** The optional fields of the contract's "Knowing when it does not know": statistics, calibration, open_set,
 * confidence. Absent fields give T = 1, the default confidence rule and no domain check. */
function parseDomainFields(json: Record<string, unknown>, classes: number, features: number, invalid: (what: string) => EngineError): { domain: DomainModel; statistics?: FeatureStatistics } {
  let statistics: FeatureStatistics | undefined;
  if (json.statistics !== undefined) {
    const s = json.statistics;
    if (!isRecord(s)) throw invalid('statistics must be an object');
    if (s.feature_norm !== CONTRACT.statistics_feature_norm) throw invalid(`statistics.feature_norm must be "${CONTRACT.statistics_feature_norm}"`);
    const classMeans = numberMatrix(s.class_means, classes, features, 'statistics.class_means', invalid);
    const counts = s.class_counts;
    if (!Array.isArray(counts) || counts.length !== classes || !counts.every((n) => Number.isInteger(n) && (n as number) >= 1)) {
      throw invalid(`statistics.class_counts must be ${classes} positive integers`);
    }
    const total = (counts as number[]).reduce((a, b) => a + b, 0);
    if (total <= classes) throw invalid('statistics need more photos than classes');
    const rows = numberMatrix(s.scatter, features, features, 'statistics.scatter', invalid);
    const scatter = new Float64Array(features * features);
    rows.forEach((row, i) => scatter.set(row, i * features));
    for (let i = 0; i < features; i++) {
      for (let j = 0; j < i; j++) {
        const a = scatter[i * features + j]!, b = scatter[j * features + i]!;
        if (Math.abs(a - b) > 1e-6 * (Math.abs(a) + Math.abs(b)) + 1e-12) throw invalid(`statistics.scatter is not symmetric at [${i}][${j}]`);
      }
    }
    const shrinkage = s.shrinkage;
    if (!isFiniteNumber(shrinkage) || shrinkage < 0 || shrinkage >= 1) throw invalid('statistics.shrinkage must be in [0, 1)');
    statistics = { classMeans, classCounts: counts as number[], scatter, shrinkage };
  }

  let temperature = 1;
  if (json.calibration !== undefined) {
    const t = isRecord(json.calibration) ? json.calibration.temperature : undefined;
    if (!isFiniteNumber(t) || t <= 0) throw invalid('calibration.temperature must be a positive number');
    temperature = t;
  }

  let minProbability: number | undefined;
  if (json.confidence !== undefined) {
    const p = isRecord(json.confidence) ? json.confidence.min_probability : undefined;
    if (!isFiniteNumber(p) || p <= 0 || p > 1) throw invalid('confidence.min_probability must be in (0, 1]');
    minProbability = p;
  }

  const domain: DomainModel = { temperature, minProbability };
  if (json.open_set !== undefined) {
    const o = json.open_set;
    if (!isRecord(o)) throw invalid('open_set must be an object');
    if (!statistics) throw invalid('open_set needs statistics');
    if (typeof o.score !== 'string' || !(OPEN_SET_SCORES as readonly string[]).includes(o.score)) {
      throw invalid(`open_set.score must be one of ${OPEN_SET_SCORES.join(', ')}`);
    }
    if (!isFiniteNumber(o.threshold)) throw invalid('open_set.threshold must be a finite number');
    let classScale: number[] | undefined;
    if (o.class_scale !== undefined) {
      const v = o.class_scale;
      if (!Array.isArray(v) || v.length !== statistics.classMeans.length || !v.every((s) => isFiniteNumber(s) && s > 0)) {
        throw invalid(`open_set.class_scale must be ${statistics.classMeans.length} finite positive numbers (one per class)`);
      }
      classScale = v as number[];
    }
    // Only teaching reads it (taught.ts): how far in-domain photos the head never saw lie from their nearest class.
    if (o.reference_d2 !== undefined && !(isFiniteNumber(o.reference_d2) && o.reference_d2 > 0)) {
      throw invalid('open_set.reference_d2 must be a finite positive number');
    }
    if (o.teach_margin !== undefined && !(isFiniteNumber(o.teach_margin) && o.teach_margin >= 1 && o.threshold > 0)) {
      throw invalid('open_set.teach_margin must be a number ≥ 1, on a positive threshold');
    }
    const teachMargin = o.teach_margin as number | undefined;
    try {
      domain.openSet = openSetScorer(statistics, { score: o.score as OpenSetScoreName, threshold: o.threshold, ...(classScale ? { classScale } : {}), ...(teachMargin !== undefined ? { teachMargin } : {}) });
    } catch (error) {
      throw invalid(`statistics: the covariance is not positive definite (${error instanceof Error ? error.message : String(error)})`);
    }
  }
  return { domain, statistics };
}

/** The head's logits for one feature vector: features · Wᵀ + b (what the graphs compute after the backbone). */
export function headLogits(head: Pick<Head, 'labels' | 'features' | 'weight' | 'bias'>, features: Float32Array): Float32Array {
  const { weight, bias, features: F } = head;
  const logits = new Float32Array(head.labels.length);
  for (let c = 0; c < logits.length; c++) {
    let sum = bias[c]!;
    for (let f = 0; f < F; f++) sum += weight[c * F + f]! * features[f]!;
    logits[c] = sum;
  }
  return logits;
}
