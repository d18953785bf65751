// Heads made on the phone, at the level of head.json: teach a class, fold in a corrected photo, and the one
// file a head is shared as. Every function takes and returns plain head.json objects (what setHead accepts),
// validates its input with the engine's own validateHead, and never changes its input in place.
import { EngineError, describeError } from '../errors';
import { statisticsJson } from './domain';
import { validateHead, type Head } from './head';
import { classNameProblem, cleanClassName, taughtLabelsOf } from './labels';
import { euclideanNorm, openSetThresholdScale, ruleRows, taughtClassScale, taughtClassScaleOf, TEACH_RULE, withExample, withTaughtClass, type FeatureStatistics } from './teach';
import { CONTRACT } from './contract';
import { addLayerPhotos, layerStatisticsJson } from './layers';

/** What a head must fit: the backbone's manifest name, weights sha256 and feature size. */
export interface BackboneId {
  name: string;
  sha256: string;
  features: number;
}

export interface TaughtClass {
  label: string;
  /** The teacher's own advice (their words, not the app's). */
  note: string;
  photos: number;
  created: string;
}

export interface TaughtInfo {
  classes: TaughtClass[];
  local_examples: Record<string, number>;
  method: 'lda';
  input_scale: number;
}

export type HeadJson = Record<string, unknown> & { labels: string[] };

/** A taught class needs at least this many photos; ADVISED_PHOTOS or more make it clearly better
 * (docs/benchmarks.md, eval:teach: accuracy still rises from 5 to 10 photos and flattens after). */
export const MIN_TEACH_PHOTOS = 5;
export const ADVISED_PHOTOS = 10;
/** Longest teacher's note kept, in characters. */
export const MAX_NOTE_LENGTH = 2000;

function manifestOf(backbone: BackboneId) {
  return { name: backbone.name, features: backbone.features, backbone_sha256: backbone.sha256 };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The head's `taught` block, or a fresh one for a head that was never taught. */
export function taughtInfo(json: Record<string, unknown>): TaughtInfo {
  const t = json.taught;
  if (!isRecord(t)) return { classes: [], local_examples: {}, method: 'lda', input_scale: 0 };
  const classes = Array.isArray(t.classes) ? t.classes.filter(isRecord).map((c) => ({
    label: String(c.label ?? ''),
    note: typeof c.note === 'string' ? c.note : '',
    photos: typeof c.photos === 'number' ? c.photos : 0,
    created: typeof c.created === 'string' ? c.created : '',
  })) : [];
  const local: Record<string, number> = {};
  if (isRecord(t.local_examples)) for (const [k, v] of Object.entries(t.local_examples)) if (typeof v === 'number' && v > 0) local[k] = v;
  const scale = typeof t.input_scale === 'number' && Number.isFinite(t.input_scale) && t.input_scale > 0 ? t.input_scale : 0;
  return { classes, local_examples: local, method: 'lda', input_scale: scale };
}

/** Photos added on this phone by corrections, over all classes. */
export function localExampleCount(json: Record<string, unknown>): number {
  return Object.values(taughtInfo(json).local_examples).reduce((a, b) => a + b, 0);
}

function needStatistics(head: Head): FeatureStatistics {
  if (!head.statistics) {
    throw new EngineError('head-no-statistics', `${head.source}: no statistics`);
  }
  return head.statistics;
}

function meanNorm(features: readonly ArrayLike<number>[]): number {
  return features.reduce((s, x) => s + euclideanNorm(x), 0) / features.length;
}

/** The head's layer_statistics with a corrected photo's layer_features pooled in, as head.json; undefined (the field
 * is dropped, the CLS rule judges) when the run had none (a graph without the output) or the head has no
 * layer_statistics. */
function withLayerPhoto(head: Head, layerFeatures: ArrayLike<number> | undefined): Record<string, unknown> | undefined {
  if (!head.layerStatistics || !layerFeatures) return undefined;
  try {
    return layerStatisticsJson(addLayerPhotos(head.layerStatistics, [layerFeatures]));
  } catch (error) {
    throw new EngineError('head-invalid', `layer statistics: ${describeError(error)}`, undefined, { cause: error });
  }
}

/** A head.json whose rows are the closed-form LDA rows of `stats` (the statistics of `base` were `before`), its
 * open-set threshold (and reference d²) scaled by openSetThresholdScale(before, stats), everything else from `base`.
 * `newClass`: the class being taught now and its photos' features (its spread is measured on them). */
function rebuilt(base: Record<string, unknown>, labels: string[], before: FeatureStatistics, stats: FeatureStatistics, taught: TaughtInfo, extra: Record<string, unknown>,
  newClass?: { label: string; features: readonly ArrayLike<number>[] }): HeadJson {
  const lda = ruleRows(stats, TEACH_RULE, stats.classCounts, taught.input_scale);
  const F = stats.classMeans[0]!.length;
  const round = (v: number) => Number(v.toPrecision(8));
  const json: HeadJson = {
    ...base,
    labels,
    weight: labels.map((_, c) => Array.from(lda.weight.subarray(c * F, (c + 1) * F), round)),
    bias: Array.from(lda.bias, round),
    statistics: statisticsJson(stats),
    trained: true,
    created: new Date().toISOString(),
    taught,
    ...extra,
  };
  if (json.layer_statistics === undefined) delete json.layer_statistics;
  // The shipped head's accuracy was measured for its trained rows, not for these; their temperature is the
  // rule's, fitted on cross-validated taught heads of the training features (never on val).
  delete json.metrics;
  json.calibration = { temperature: TEACH_RULE.temperature };
  // The known classes keep the refusal rate the threshold was fitted for: a wider Σ shrinks every distance.
  if (isRecord(base.open_set) && typeof base.open_set.threshold === 'number') {
    const r = openSetThresholdScale(before, stats);
    const reference = typeof base.open_set.reference_d2 === 'number' ? base.open_set.reference_d2 * r : undefined;
    // A taught class's d² is divided by (1 + 1/n)·max(1, v) (taughtClassScale): n its photos, v its spread, measured
    // on its photos when it is taught and kept through later changes (v = previous scale / (1 + 1/previous n)).
    const taughtLabels = new Set(taught.classes.map((c) => c.label));
    const previousScale = Array.isArray(base.open_set.class_scale) ? base.open_set.class_scale as number[] : [];
    const baseLabels = Array.isArray(base.labels) ? base.labels as string[] : [];
    const previousSpread = (label: string): number => {
      const c = baseLabels.indexOf(label);
      return c >= 0 && previousScale[c] !== undefined ? previousScale[c]! / (1 + 1 / before.classCounts[c]!) : 1;
    };
    const scaleOf = (label: string, c: number): number => {
      if (!taughtLabels.has(label)) return 1;
      if (newClass && label === newClass.label) return taughtClassScaleOf(stats, newClass.features, reference);
      return taughtClassScale(stats.classCounts[c]!, previousSpread(label));
    };
    const scale = labels.map((label, c) => round(scaleOf(label, c)));
    const { class_scale: _previous, reference_d2: _reference, ...rule } = base.open_set;
    json.open_set = {
      ...rule,
      threshold: round(base.open_set.threshold * r),
      ...(reference !== undefined ? { reference_d2: round(reference) } : {}),
      ...(scale.some((v) => v !== 1) ? { class_scale: scale } : {}),
    };
  }
  return json;
}

export interface TeachRequest {
  /** As typed; cleaned here. */
  label: string;
  note?: string;
  /** Raw backbone features of the accepted photos (engine.embed). */
  features: readonly ArrayLike<number>[];
  /** The new head's name; default "<base name> + <label>". */
  name?: string;
  /** Names people see for the existing labels (translations), so a taught class cannot repeat one. */
  reservedNames?: readonly string[];
}

/** The base head plus one class taught from photos' features by TEACH_RULE (statistics extended, the taught
 * class's own scatter weighted by ω; every row recomputed in closed form; the rule's temperature). Throws EngineError (head-no-statistics, head-too-many-classes, head-invalid). */
export function teachClass(baseJson: unknown, backbone: BackboneId, request: TeachRequest): HeadJson {
  const base = validateHead(baseJson, manifestOf(backbone), 'base head');
  const stats = needStatistics(base);
  const json = baseJson as Record<string, unknown>;
  if (base.labels.length + 1 > CONTRACT.max_classes) {
    throw new EngineError('head-too-many-classes', `base head has ${base.labels.length} classes; at most ${CONTRACT.max_classes}`);
  }
  const label = cleanClassName(request.label);
  const problem = classNameProblem(label, [...base.labels, ...(request.reservedNames ?? [])]);
  if (problem) throw new EngineError('head-invalid', `class name ${JSON.stringify(label)}: ${problem}`);
  if (request.features.length === 0) throw new EngineError('head-invalid', 'no photos to teach from');
  let extended: FeatureStatistics;
  try {
    extended = withTaughtClass(stats, request.features, TEACH_RULE);
  } catch (error) {
    throw new EngineError('head-invalid', `teach: ${describeError(error)}`, undefined, { cause: error });
  }
  const previous = taughtInfo(json);
  const taught: TaughtInfo = {
    ...previous,
    input_scale: previous.input_scale || meanNorm(request.features),
    classes: [...previous.classes, {
      label, note: (request.note ?? '').trim().slice(0, MAX_NOTE_LENGTH), photos: request.features.length, created: new Date().toISOString(),
    }],
  };
  const baseName = typeof json.name === 'string' ? json.name : backbone.name;
  return rebuilt(json, [...base.labels, label], stats, extended, taught, {
    // A taught head judges by the CLS rule, which eval:teach measures and selected TEACH_RULE for; pooling the photos
    // into the class-agnostic layer Gaussians did no better for the taught class (docs/benchmarks.md).
    layer_statistics: undefined,
    name: request.name?.trim() || `${baseName} + ${label}`,
    backbone_name: backbone.name,
    trained_on: { dataset: `${typeof json.name === 'string' ? json.name : 'the model\u2019s own head'} + photos taught on a phone`, images: extended.classCounts.reduce((a, b) => a + b, 0) },
  }, { label, features: request.features });
}

/** The head with one more photo (raw features) in class `classIndex`: a corrected example, counted in
 * `taught.local_examples`. The input head is not changed; undo = keep using it. */
export function addExample(headJson: unknown, backbone: BackboneId, classIndex: number, features: ArrayLike<number>, layerFeatures?: ArrayLike<number>): HeadJson {
  const head = validateHead(headJson, manifestOf(backbone), 'head');
  const stats = needStatistics(head);
  if (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= head.labels.length) {
    throw new EngineError('internal', `class ${classIndex} outside [0, ${head.labels.length - 1}]`);
  }
  const json = headJson as Record<string, unknown>;
  const previous = taughtInfo(json);
  const label = head.labels[classIndex]!;
  const taught: TaughtInfo = {
    ...previous,
    input_scale: previous.input_scale || euclideanNorm(features),
    local_examples: { ...previous.local_examples, [label]: (previous.local_examples[label] ?? 0) + 1 },
  };
  let updated: FeatureStatistics;
  try {
    updated = withExample(stats, classIndex, features);
  } catch (error) {
    throw new EngineError('head-invalid', `correction: ${describeError(error)}`, undefined, { cause: error });
  }
  return rebuilt(json, [...head.labels], stats, updated, taught, { backbone_name: backbone.name, layer_statistics: withLayerPhoto(head, layerFeatures) });
}

/** Renames a head (its `name`); the classes are untouched. */
export function renamedHead(headJson: HeadJson, name: string): HeadJson {
  return { ...headJson, name: cleanClassName(name) };
}

/** The one file a head is shared as: head.json itself, naming its backbone (name, sha256, features). */
export function headFileText(headJson: HeadJson, backbone: BackboneId): string {
  return `${JSON.stringify({ ...headJson, backbone_name: backbone.name, backbone_sha256: backbone.sha256, features: backbone.features })}\n`;
}

/** Reads a shared head file. Throws EngineError: head-corrupt (not JSON), head-mismatch (another backbone),
 * head-too-many-classes, head-not-finite, head-invalid (sizes, labels, anything else). */
export function readHeadFile(text: string, backbone: BackboneId, fileName = 'head file'): HeadJson {
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch (error) {
    throw new EngineError('head-corrupt', `${fileName}: not valid JSON (${describeError(error)})`, undefined, { cause: error });
  }
  validateHead(json, manifestOf(backbone), fileName);
  return json as HeadJson;
}

/** The taught classes of a head with their teachers' notes (empty for the shipped head). */
export function taughtClassesOf(headJson: Record<string, unknown>): TaughtClass[] {
  const labels = new Set(taughtLabelsOf(headJson));
  return taughtInfo(headJson).classes.filter((c) => labels.has(c.label));
}
