// The second protocol of npm run eval:teach: the same teaching code on the features of a backbone that never saw
// the held-out class (model/holdout_backbone.py: low resolution, trained on the CPU), with its own baseline.
import { l2Normalize } from '../../src/engine/model/domain';
import { METHOD_NAMES, perClassTable, ruleText, selectionTable, type Sample, type TeachCell, type TeachReportLike } from './teachEval';
import type { SelectionReport, TeachCandidate } from './teachSelect';

/** The rules compared by the selection: prior weight α × taught-scatter weight γ. */
export const TEACH_CANDIDATES: TeachCandidate[] = [0, 0.5, 1].flatMap((priorWeight) => [0, 0.5, 1].map((scatterWeight) => ({ priorWeight, scatterWeight })));

export interface HeldOutBackboneReport {
  kind: 'teach-eval-heldout-backbone';
  created: string;
  features_file: string;
  model: string;
  backend: string;
  held_out: string;
  trained_on: unknown;
  shrinkage: number;
  baseline: { three_class_lda_val_accuracy: number; three_class_lda_per_class: Record<string, number>; known_classes_own_trained_head: number | null };
  selection: SelectionReport;
  cells: TeachCell[];
  full_class_drop: NonNullable<TeachReportLike['full_class_drop']>;
}

/** Ledoit–Wolf (2004) λ for shrinking the covariance of the class-centred, L2-normalised features toward
 * (trace/F)·I (model/domain.py's ledoit_wolf_shrinkage, in TS). */
export function ledoitWolfShrinkage(samples: readonly Sample[], classes: number): number {
  const rows = samples.map((s) => l2Normalize(s.features));
  const F = rows[0]!.length;
  const means = Array.from({ length: classes }, () => new Float64Array(F));
  const counts = new Array<number>(classes).fill(0);
  rows.forEach((r, i) => { const c = samples[i]!.label; counts[c]! += 1; for (let f = 0; f < F; f++) means[c]![f]! += r[f]!; });
  means.forEach((m, c) => { for (let f = 0; f < F; f++) m[f]! /= Math.max(1, counts[c]!); });
  const centred = rows.map((r, i) => r.map((v, f) => v - means[samples[i]!.label]![f]!));
  const n = centred.length;
  const sample = new Float64Array(F * F);
  for (const r of centred) for (let i = 0; i < F; i++) for (let j = 0; j < F; j++) sample[i * F + j]! += (r[i]! * r[j]!) / n;
  let trace = 0;
  for (let i = 0; i < F; i++) trace += sample[i * F + i]!;
  const mu = trace / F;
  let delta = 0, sampleSq = 0;
  for (let i = 0; i < F; i++) for (let j = 0; j < F; j++) {
    const v = sample[i * F + j]!;
    sampleSq += v * v;
    delta += (v - (i === j ? mu : 0)) ** 2;
  }
  // Σ_r ‖r·rᵀ − S‖²_F = Σ_r (‖r‖⁴ − 2·rᵀSr + ‖S‖²_F).
  let beta = 0;
  for (const r of centred) {
    let norm2 = 0, quad = 0;
    for (let i = 0; i < F; i++) {
      norm2 += r[i]! * r[i]!;
      let row = 0;
      for (let j = 0; j < F; j++) row += sample[i * F + j]! * r[j]!;
      quad += r[i]! * row;
    }
    beta += norm2 * norm2 - 2 * quad + sampleSq;
  }
  beta /= n * n;
  return delta > 0 ? Math.min(1, Math.max(0, Math.min(beta, delta) / delta)) : 1;
}

const pct = (v: number) => (100 * v).toFixed(1);

export function heldOutBackboneMarkdown(reports: readonly HeldOutBackboneReport[]): string {
  const lines = ['**Low-resolution backbone trained on CPU without the held-out class** (the second protocol; `model/holdout_backbone.py`, ' +
    'then `npm run eval:teach -- --features FILE`). The shipped backbone saw all three classes; these small backbones (64 px, patch 8, trained on the ' +
    'CPU for minutes, not the shipped model) never saw the held-out class, so their numbers say how teaching does on a truly new disease, on a much ' +
    'weaker feature extractor. Each has its own baseline (a 3-class LDA head from all classes\' train features) to read them against, and its own ' +
    'rule selected by the same cross-validation on its own train features; no open-set threshold was fitted for them (no refusal column).'];
  for (const r of reports) {
    const t = r.trained_on as { classes?: string[]; train_photos?: number; epochs?: number; train_seconds?: number };
    const b = r.baseline;
    lines.push('', `*${r.held_out} held out* — ${r.model}; trained on ${t.train_photos ?? '?'} train photos of ${(t.classes ?? []).join(' + ')} for ${t.epochs ?? '?'} epochs (${t.train_seconds ?? '?'} s). ` +
      `Baseline: 3-class LDA on all classes' train features ${pct(b.three_class_lda_val_accuracy)} % val (${Object.entries(b.three_class_lda_per_class).map(([l, v]) => `${l} ${pct(v)} %`).join(', ')})` +
      `${b.known_classes_own_trained_head !== null ? `; the backbone's own 2-class head on the known classes' val photos ${pct(b.known_classes_own_trained_head)} %` : ''}. ` +
      `Rule selected on its train features: ${ruleText(r.selection.selected)} (λ = ${r.shrinkage.toFixed(4)} by Ledoit–Wolf).`, '',
      ...perClassTable(r.cells.filter((c) => c.method === 'rule')));
    const lda = r.cells.filter((c) => c.method === 'lda');
    if (lda.length > 0) lines.push('', `${METHOD_NAMES.lda}, for comparison:`, '', ...perClassTable(lda));
    for (const d of r.full_class_drop) lines.push('', `Taught from all ${d.photos} of its train photos: known classes ${pct(d.known_before)} → ${pct(d.known_after_all_photos)} %.`);
    lines.push('', '<details><summary>selection on its train features</summary>', '', ...selectionTable(r.selection), '', '</details>');
  }
  return lines.join('\n');
}
