// Turns per-photo perturbation records into curves, AUCs and top-patch agreement (pure, Node and browser).
import { decideOutcome, DEFAULT_MAX_NORMALIZED_ENTROPY, DEFAULT_MIN_PROBABILITY } from '../../src/engine/model/domain';
import { argmax } from '../../src/engine/model/logits';
import type { ConfidenceSummary, EvalMethodResult } from './report';
import { normalizedAuc } from './perturb';

export interface EvalCase {
  /** Report name, e.g. 'rollout (mean, discard 0.9)'. */
  name: string;
  method: 'relevance' | 'rollout' | 'attention' | 'lrp' | 'random';
  options: Record<string, unknown>;
}

export interface PhotoRecord {
  path: string;
  /** Ground-truth label index in the head's label order, or -1 if the folder name is not a head label. */
  label: number;
  /** The model's prediction on the unperturbed photo (the class each perturbed run must keep). */
  predicted: number;
  /** Per case name: did the prediction stay `predicted` after removing each fraction (positive/negative order)? */
  kept: Record<string, { positive: boolean[]; negative: boolean[] }>;
  /** Per case name: top patch on the WASM path (TS references) and on the WebGPU path (WGSL kernels), if run. */
  topPatch: Record<string, { wasm: number; webgpu?: number }>;
  /** Distinct perturbed inputs run through the model for this photo. */
  forwardRuns?: number;
  /** Softmax of the unperturbed logits, in label order. */
  probabilities?: number[];
}

export function aggregateCurves(records: readonly PhotoRecord[], cases: readonly EvalCase[], fractions: readonly number[]): EvalMethodResult[] {
  if (records.length === 0) throw new Error('no photo records to aggregate');
  return cases.map((c) => {
    const positive = fractions.map(() => 0);
    const negative = fractions.map(() => 0);
    let counted = 0;
    for (const record of records) {
      const kept = record.kept[c.name];
      if (!kept) continue;
      if (kept.positive.length !== fractions.length || kept.negative.length !== fractions.length) {
        throw new Error(`${record.path}: ${c.name} has ${kept.positive.length}/${kept.negative.length} points for ${fractions.length} fractions`);
      }
      counted++;
      kept.positive.forEach((k, i) => { if (k) positive[i]! += 1; });
      kept.negative.forEach((k, i) => { if (k) negative[i]! += 1; });
    }
    if (counted === 0) throw new Error(`no photo has results for ${c.name}`);
    const pos = positive.map((v) => v / counted);
    const neg = negative.map((v) => v / counted);
    return {
      name: c.name,
      method: c.method,
      options: c.options,
      positive: pos,
      negative: neg,
      positive_auc: normalizedAuc(fractions, pos),
      negative_auc: normalizedAuc(fractions, neg),
    };
  });
}

/** The rollout case with the largest negative − positive AUC gap (the better-separating discard ratio). */
export function bestRollout(results: readonly EvalMethodResult[]): EvalMethodResult | null {
  const rollouts = results.filter((r) => r.method === 'rollout');
  if (rollouts.length === 0) return null;
  return rollouts.reduce((best, r) => (r.negative_auc - r.positive_auc > best.negative_auc - best.positive_auc ? r : best));
}

export function topPatchAgreement(records: readonly PhotoRecord[]): Record<string, { same: number; compared: number }> {
  const out: Record<string, { same: number; compared: number }> = {};
  for (const record of records) {
    for (const [name, top] of Object.entries(record.topPatch)) {
      if (top.webgpu === undefined) continue;
      const entry = (out[name] ??= { same: 0, compared: 0 });
      entry.compared++;
      if (top.webgpu === top.wasm) entry.same++;
    }
  }
  return out;
}

/** Share of photos whose unperturbed prediction equals the folder label (photos with a known label only). */
export function accuracy(records: readonly PhotoRecord[]): number | null {
  const labelled = records.filter((r) => r.label >= 0);
  if (labelled.length === 0) return null;
  return labelled.filter((r) => r.label === r.predicted).length / labelled.length;
}

/** How the app's own "sure / not sure" rule (the default of src/engine/model/domain.ts, for heads without calibration) splits the labelled photos, and how often
 * each side is right: what a farmer can expect from an answer shown as sure. Null without probabilities. */
export function confidenceSummary(records: readonly PhotoRecord[]): ConfidenceSummary | null {
  const scored = records.filter((r) => r.label >= 0 && r.probabilities && r.probabilities.length > 0);
  if (scored.length === 0) return null;
  const sure = { photos: 0, right: 0 };
  const unsure = { photos: 0, right: 0 };
  for (const r of scored) {
    const top = argmax(r.probabilities!);
    const side = decideOutcome({ probabilities: r.probabilities!, inDomain: true }) === 'sure' ? sure : unsure;
    side.photos += 1;
    if (top === r.label) side.right += 1;
  }
  return {
    rule: `sure when the top probability is at least ${DEFAULT_MIN_PROBABILITY} and the normalised entropy at most ${DEFAULT_MAX_NORMALIZED_ENTROPY} (default rule of src/engine/model/domain.ts)`,
    photos: scored.length,
    sure,
    unsure,
  };
}

/** Up to `limit` items taken round-robin over groups (classes), so a quick run still covers every class. */
export function roundRobin<T>(groups: readonly (readonly T[])[], limit: number): T[] {
  const out: T[] = [];
  for (let i = 0; out.length < limit && groups.some((g) => i < g.length); i++) {
    for (const g of groups) {
      if (i < g.length && out.length < limit) out.push(g[i]!);
    }
  }
  return out;
}
