// Leave-one-class-out evaluation of teaching a class from k photos, on cached backbone features (Node side of
// npm run eval:teach). Methods: closed-form LDA from the statistics (what the app does), and softmax regression
// trained on features, either the real training features of the known classes (not on a phone: it does not
// have them) or samples drawn from the known classes' Gaussians (what a phone could do).
import { calibratedSoftmax, cholesky, classStatisticsOf, decideOutcome, l2Normalize, openSetScorer, type FeatureStatistics, type OpenSetRule } from '../../src/engine/model/domain';
import { argmax } from '../../src/engine/model/logits';
import {
  applyHead, euclideanNorm, ldaHead, sampleClass, seededNormal, seededUniform, sharedCovariance, softmaxRegression,
  teachRuleHead, withClass, type LinearHead, type PriorRule, type TeachRule,
} from '../../src/engine/model/teach';
import { expectedCalibrationError, taughtOpenSet } from './teachSelect';

/** Mean ± sample standard deviation, with the range. */
export interface Spread { n: number; mean: number; sd: number; min: number; max: number }

export function spread(values: readonly number[]): Spread {
  if (values.length === 0) throw new Error('spread of an empty list');
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : 0;
  return { n, mean, sd, min: Math.min(...values), max: Math.max(...values) };
}

export interface Sample { features: number[]; label: number }

/** 'rule': the app's teaching rule (TeachRule, selected on train by cross-validation); 'lda': plain LDA with equal
 * priors and the taught class's scatter as counted (the app's earlier rule). */
export type TeachMethod = 'rule' | 'lda' | 'lda-count-prior' | 'softmax-real' | 'softmax-sampled';
export const TEACH_METHODS: TeachMethod[] = ['rule', 'lda', 'lda-count-prior', 'softmax-real', 'softmax-sampled'];

export interface TeachEvalOptions {
  ks: number[];
  draws: number;
  /** Softmax regression takes ~2 s per head on this machine: fewer draws for the comparison. */
  softmaxDraws: number;
  seed: number;
  shrinkage: number;
  methods: TeachMethod[];
  /** The shipped head's open-set rule, if any: refusal of the held-out class before and after teaching. */
  openSet?: OpenSetRule;
  /** The base head's open_set.reference_d2: with it, a taught class's spread enters its scale, as on the phone. */
  referenceD2?: number;
  /** The rule of method 'rule'. */
  rule: TeachRule;
  /** Raw features of out-of-domain photos (non-leaf, other crops): their refusal before and after, report only. */
  ood?: number[][];
  /** The base head's confidence.min_probability, which a taught head keeps: how often the app's rule is sure, and right. */
  minProbability?: number;
}

/** Statistics of the classes in `classes` (label order given), from raw features. */
export function statisticsOf(samples: readonly Sample[], classes: readonly number[], shrinkage: number): FeatureStatistics {
  const per = classes.map((c) => classStatisticsOf(samples.filter((s) => s.label === c).map((s) => s.features)));
  const F = per[0]!.mean.length;
  const scatter = new Float64Array(F * F);
  for (const p of per) for (let i = 0; i < scatter.length; i++) scatter[i]! += p.scatter[i]!;
  return { classMeans: per.map((p) => p.mean), classCounts: per.map((p) => p.count), scatter, shrinkage };
}

function meanNorm(xs: readonly ArrayLike<number>[]): number {
  return xs.reduce((s, x) => s + euclideanNorm(x), 0) / xs.length;
}

/** A head over the known classes + the taught one (last), by `method`. `inputScale`: rows act on raw features. */
export function buildHead(method: TeachMethod, base: FeatureStatistics, known: readonly Sample[][], taught: readonly number[][], inputScale: number, seed: number, rule?: TeachRule): LinearHead {
  if (method === 'rule') {
    if (!rule) throw new Error('method rule needs the rule');
    const head = teachRuleHead(base, taught, rule);
    for (let i = 0; i < head.weight.length; i++) head.weight[i]! /= inputScale;
    return head;
  }
  if (method === 'lda' || method === 'lda-count-prior') {
    const prior: PriorRule = method === 'lda' ? 'uniform' : 'counts';
    return ldaHead(taught.length > 0 ? withClass(base, taught) : base, { prior, inputScale });
  }
  const xs: ArrayLike<number>[] = [];
  const ys: number[] = [];
  if (method === 'softmax-real') {
    known.forEach((samples, c) => samples.forEach((s) => { xs.push(l2Normalize(s.features)); ys.push(c); }));
  } else {
    const normal = seededNormal(seed);
    const l = cholesky(sharedCovariance(base), base.classMeans[0]!.length);
    known.forEach((samples, c) => sampleClass(base, c, samples.length, normal, l).forEach((x) => { xs.push(x); ys.push(c); }));
  }
  taught.forEach((t) => { xs.push(l2Normalize(t)); ys.push(known.length); });
  const head = softmaxRegression(xs, ys, known.length + (taught.length > 0 ? 1 : 0), { l2: 1e-3, iterations: 200 });
  for (let i = 0; i < head.weight.length; i++) head.weight[i]! /= inputScale;
  return head;
}

function predict(head: LinearHead, x: ArrayLike<number>): number {
  const logits = applyHead(head, x);
  let best = 0;
  for (let c = 1; c < logits.length; c++) if (logits[c]! > logits[best]!) best = c;
  return best;
}

/** Deterministic Fisher–Yates draw of k distinct indices out of n. */
export function drawIndices(n: number, k: number, seed: number): number[] {
  const uniform = seededUniform(seed);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(uniform() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order.slice(0, k);
}

export interface TeachCell {
  method: TeachMethod;
  held_out: string;
  k: number;
  draws: number;
  /** Accuracy over all val photos (known classes and the taught one). */
  accuracy_all: Spread;
  /** Accuracy on the known classes' val photos with the 2-class head (before) and the taught head (after). */
  known_before: number;
  known_after: Spread;
  /** Taught class's val photos recognised as it. */
  taught_recall: Spread;
  /** Share of the held-out class's val photos refused as not a bean leaf, before and after (when the head has an open-set rule). */
  refused_before?: number;
  refused_after?: Spread;
  /** The known classes' val photos refused, before and after (the open-set rule must not loosen for them either way). */
  known_refused_before?: number;
  known_refused_after?: Spread;
  /** Out-of-domain photos refused, before and after. */
  ood_refused_before?: number;
  ood_refused_after?: Spread;
  /** The app's rule only: out-of-domain photos refused after teaching had the threshold stayed the base head's. */
  ood_refused_after_unscaled_threshold?: Spread;
  /** Expected calibration error of the taught heads on all val photos: softmax at T = 1 and at the rule's T. */
  ece_t1?: Spread;
  ece_rule_t?: Spread;
  /** The app's rule only: val photos answered sure (accepted by the open-set check, calibrated top probability ≥ the
   * base head's min_probability), and the share of those that are right. */
  sure_share?: Spread;
  sure_precision?: Spread;
  /** Time to build the head from the features (Node, float64). */
  build_ms: Spread;
}

export function evaluateHeldOut(train: readonly Sample[], val: readonly Sample[], labels: readonly string[], heldOut: number, options: TeachEvalOptions): TeachCell[] {
  const knownClasses = labels.map((_, i) => i).filter((c) => c !== heldOut);
  // Relabel: known classes 0..C-2 in order, taught class last.
  const relabel = (c: number) => (c === heldOut ? knownClasses.length : knownClasses.indexOf(c));
  const trainKnown = knownClasses.map((c) => train.filter((s) => s.label === c).map((s) => ({ ...s, label: relabel(c) })));
  const pool = train.filter((s) => s.label === heldOut).map((s) => s.features);
  const valRe = val.map((s) => ({ features: s.features, label: relabel(s.label) }));
  const valKnown = valRe.filter((s) => s.label < knownClasses.length);
  const valTaught = valRe.filter((s) => s.label === knownClasses.length);
  const base = statisticsOf(trainKnown.flat(), knownClasses.map((_, i) => i), options.shrinkage);
  const allTrainNorm = meanNorm(train.map((s) => s.features));
  const cells: TeachCell[] = [];
  const threshold = options.openSet?.threshold ?? Infinity;
  const refusedShare = (scorer: { score(x: ArrayLike<number>): number }, samples: readonly { features: number[] }[], limit = threshold) => samples.filter((s) => scorer.score(s.features) > limit).length / Math.max(1, samples.length);
  const ood = (options.ood ?? []).map((features) => ({ features }));
  const scorerBefore = options.openSet ? openSetScorer(base, options.openSet) : null;
  const refusedBefore = scorerBefore ? refusedShare(scorerBefore, valTaught) : undefined;
  const knownRefusedBefore = scorerBefore ? refusedShare(scorerBefore, valKnown) : undefined;
  const oodRefusedBefore = scorerBefore && ood.length > 0 ? refusedShare(scorerBefore, ood) : undefined;
  for (const method of options.methods) {
    const before = buildHead(method, base, trainKnown, [], allTrainNorm, options.seed, options.rule);
    const knownBefore = valKnown.filter((s) => predict(before, s.features) === s.label).length / valKnown.length;
    for (const k of options.ks) {
      const all: number[] = [], known: number[] = [], recall: number[] = [], refused: number[] = [], knownRefused: number[] = [], oodRefused: number[] = [], oodUnscaled: number[] = [], ms: number[] = [];
      const ece1: number[] = [], eceT: number[] = [], sureShare: number[] = [], surePrecision: number[] = [];
      const draws = method.startsWith('softmax') ? options.softmaxDraws : options.draws;
      for (let d = 0; d < draws; d++) {
        const picked = drawIndices(pool.length, k, options.seed * 1000 + heldOut * 100 + k * 7 + d).map((i) => pool[i]!);
        const t0 = performance.now();
        // As on the phone: the rows act on raw features, scaled by the taught photos' mean norm.
        const head = buildHead(method, base, trainKnown, picked, meanNorm(picked), options.seed + d, options.rule);
        ms.push(performance.now() - t0);
        all.push(valRe.filter((s) => predict(head, s.features) === s.label).length / valRe.length);
        known.push(valKnown.filter((s) => predict(head, s.features) === s.label).length / valKnown.length);
        recall.push(valTaught.filter((s) => predict(head, s.features) === s.label).length / valTaught.length);
        const ruleLogits = method === 'rule' ? valRe.map((s) => applyHead(head, s.features)) : [];
        if (method === 'rule') {
          const labelsVal = valRe.map((s) => s.label);
          ece1.push(expectedCalibrationError(ruleLogits, labelsVal, 1));
          eceT.push(expectedCalibrationError(ruleLogits, labelsVal, options.rule.temperature));
        }
        if (options.openSet && (method === 'lda' || method === 'rule')) {
          const stats = method === 'rule' ? teachRuleHead(base, picked, options.rule, true).stats : withClass(base, picked);
          // The app's rule scales the threshold and the taught class's d² as the phone does (taughtOpenSet); the earlier
          // rule did neither.
          const { scorer, limit } = method === 'rule' ? taughtOpenSet(base, stats, picked, options.openSet, options.referenceD2) : { scorer: openSetScorer(stats, options.openSet), limit: threshold };
          refused.push(refusedShare(scorer, valTaught, limit));
          knownRefused.push(refusedShare(scorer, valKnown, limit));
          if (ood.length > 0) oodRefused.push(refusedShare(scorer, ood, limit));
          if (ood.length > 0 && method === 'rule') oodUnscaled.push(refusedShare(scorer, ood, threshold));
          if (method === 'rule' && options.minProbability !== undefined) {
            // The outcome as the phone decides it (decideOutcome): in domain and confident enough → sure.
            const outcomes = valRe.map((s, i) => {
              const probabilities = calibratedSoftmax(ruleLogits[i]!, options.rule.temperature);
              const outcome = decideOutcome({ probabilities, inDomain: !(scorer.score(s.features) > limit), minProbability: options.minProbability });
              return { sure: outcome === 'sure', right: argmax(probabilities) === s.label };
            });
            const sure = outcomes.filter((o) => o.sure);
            sureShare.push(sure.length / outcomes.length);
            if (sure.length > 0) surePrecision.push(sure.filter((o) => o.right).length / sure.length);
          }
        }
      }
      const cell: TeachCell = {
        method, held_out: labels[heldOut]!, k, draws,
        accuracy_all: spread(all), known_before: knownBefore, known_after: spread(known), taught_recall: spread(recall),
        build_ms: spread(ms),
      };
      if (refused.length > 0 && refusedBefore !== undefined) {
        cell.refused_before = refusedBefore;
        cell.refused_after = spread(refused);
        cell.known_refused_before = knownRefusedBefore;
        cell.known_refused_after = spread(knownRefused);
        if (oodRefused.length > 0 && oodRefusedBefore !== undefined) {
          cell.ood_refused_before = oodRefusedBefore;
          cell.ood_refused_after = spread(oodRefused);
          if (oodUnscaled.length > 0) cell.ood_refused_after_unscaled_threshold = spread(oodUnscaled);
        }
      }
      if (ece1.length > 0) {
        cell.ece_t1 = spread(ece1);
        cell.ece_rule_t = spread(eceT);
      }
      if (sureShare.length > 0) {
        cell.sure_share = spread(sureShare);
        if (surePrecision.length > 0) cell.sure_precision = spread(surePrecision); // no sure answer: no precision to claim
      }
      cells.push(cell);
    }
  }
  return cells;
}

/** Full 3-class references on the same features: the shipped trained head vs the LDA head from the training
 * statistics, exact (normalised inputs) and folded onto raw inputs by the mean norm. */
export function fullHeadReference(train: readonly Sample[], val: readonly Sample[], classes: number, shrinkage: number, shipped: LinearHead): Record<string, number> {
  const stats = statisticsOf(train, Array.from({ length: classes }, (_, i) => i), shrinkage);
  const scale = meanNorm(train.map((s) => s.features));
  const exact = ldaHead(stats, { prior: 'uniform', inputScale: 1 });
  const folded = ldaHead(stats, { prior: 'uniform', inputScale: scale });
  const acc = (head: LinearHead, normalise: boolean) => val.filter((s) => predict(head, normalise ? l2Normalize(s.features) : s.features) === s.label).length / val.length;
  return {
    shipped_trained_head: acc(shipped, false),
    lda_normalised_inputs: acc(exact, true),
    lda_raw_inputs_scaled: acc(folded, false),
  };
}

/** How much ‖x‖ varies: the LDA rows act on raw features divided by one typical norm. */
export function normSpread(samples: readonly Sample[], labels: readonly string[]): Record<string, Spread> {
  const out: Record<string, Spread> = {};
  labels.forEach((l, c) => { out[l] = spread(samples.filter((s) => s.label === c).map((s) => euclideanNorm(s.features))); });
  out.all = spread(samples.map((s) => euclideanNorm(s.features)));
  return out;
}

/** Known-class val accuracy with the 2-class head and after teaching the held-out class from ALL its train photos
 * (per held-out class): the drop that remains even with a fully-seen class, a floor for the k-photo drops. */
export function fullClassDrop(train: readonly Sample[], val: readonly Sample[], labels: readonly string[], shrinkage: number, rule: TeachRule): { held_out: string; known_before: number; known_after_all_photos: number; photos: number }[] {
  return labels.map((label, h) => {
    const known = labels.map((_, c) => c).filter((c) => c !== h);
    const base = statisticsOf(train.filter((s) => s.label !== h).map((s) => ({ ...s, label: known.indexOf(s.label) })), known.map((_, i) => i), shrinkage);
    const all = train.filter((s) => s.label === h).map((s) => s.features);
    const valKnown = val.filter((s) => s.label !== h).map((s) => ({ features: s.features, label: known.indexOf(s.label) }));
    const accuracy = (head: LinearHead) => valKnown.filter((s) => predict(head, l2Normalize(s.features)) === s.label).length / valKnown.length;
    return { held_out: label, known_before: accuracy(teachRuleHead(base, [], rule)), known_after_all_photos: accuracy(teachRuleHead(base, all, rule)), photos: all.length };
  });
}

export interface TeachReportLike {
  cells: TeachCell[];
  full_head_reference: Record<string, number>;
  norms: Record<string, Spread>;
  timing: unknown;
  /** How the rule was selected (bench/lib/teachSelect.ts). */
  selection?: {
    protocol: string; criterion: string; selected: TeachRule; ece_t1: number; ece_fitted: number; known_refused_before?: number;
    candidates: { priorWeight: number; scatterWeight: number; meets_budget: boolean; mean_balanced_accuracy: number; per_k: { k: number; balanced_accuracy: number; known_drop: number; taught_recall: number; taught_refused?: number; known_refused?: number }[] }[];
  };
  full_class_drop?: ReturnType<typeof fullClassDrop>;
}

const pct = (v: number) => (100 * v).toFixed(1);
const pm = (s: Spread) => `${pct(s.mean)} ± ${pct(s.sd)}`;
const signed = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(1)}`;

export const METHOD_NAMES: Record<TeachMethod, string> = {
  rule: 'the app\'s rule (selected on train, see above)',
  lda: 'LDA, equal priors, taught scatter as counted (the earlier rule)',
  'lda-count-prior': 'LDA, priors from photo counts',
  'softmax-real': 'softmax regression on the real training features (a phone does not have them)',
  'softmax-sampled': 'softmax regression on samples from the known classes\' Gaussians',
};

/** The rule in words, for tables. */
export function ruleText(rule: TeachRule): string {
  return `prior weight α = ${rule.priorWeight}, taught-scatter weight γ = ${rule.scatterWeight}, temperature T = ${rule.temperature.toFixed(3)}`;
}

/** Per held-out class, one method's cells. */
export function perClassTable(cells: readonly TeachCell[]): string[] {
  const hasRefusal = cells.some((c) => c.refused_after);
  const hasEce = cells.some((c) => c.ece_t1);
  const hasOod = cells.some((c) => c.ood_refused_after);
  const lines = [
    `| held out | k photos | accuracy, all val | taught class recall | known classes before → after (Δ points)${hasRefusal ? ' | held-out class refused as not a bean leaf, before → after | known classes refused, before → after' : ''}${hasOod ? ' | out-of-domain photos refused, before → after' : ''}${hasEce ? ' | ECE, T = 1 → fitted T' : ''} |`,
    `| --- | ---: | ---: | ---: | ---: ${hasRefusal ? '| ---: | ---: ' : ''}${hasOod ? '| ---: ' : ''}${hasEce ? '| ---: ' : ''}|`,
  ];
  for (const c of cells) {
    const delta = 100 * (c.known_after.mean - c.known_before);
    const refusal = hasRefusal ? ` | ${c.refused_before !== undefined && c.refused_after ? `${pct(c.refused_before)} → ${pct(c.refused_after.mean)} %` : '—'} | ${c.known_refused_before !== undefined && c.known_refused_after ? `${pct(c.known_refused_before)} → ${pct(c.known_refused_after.mean)} %` : '—'}` : '';
    const oodCol = hasOod ? ` | ${c.ood_refused_before !== undefined && c.ood_refused_after ? `${pct(c.ood_refused_before)} → ${pct(c.ood_refused_after.mean)} %` : '—'}` : '';
    const ece = hasEce ? ` | ${c.ece_t1 && c.ece_rule_t ? `${c.ece_t1.mean.toFixed(3)} → ${c.ece_rule_t.mean.toFixed(3)}` : '—'}` : '';
    lines.push(`| ${c.held_out} | ${c.k} | ${pm(c.accuracy_all)} % | ${pm(c.taught_recall)} % | ${pct(c.known_before)} → ${pct(c.known_after.mean)} % (${signed(delta)})${refusal}${oodCol}${ece} |`);
  }
  return lines;
}

/** Averaged over held-out classes, per method and k. */
export function methodTable(cells: readonly TeachCell[]): string[] {
  const lines = ['| method | k | accuracy, all val | taught recall | known classes Δ points | time to build (Node) |', '| --- | ---: | ---: | ---: | ---: | ---: |'];
  const methods = [...new Set(cells.map((c) => c.method))];
  const ks = [...new Set(cells.map((c) => c.k))];
  for (const m of methods) {
    for (const k of ks) {
      const cs = cells.filter((c) => c.method === m && c.k === k);
      if (cs.length === 0) continue;
      const avg = (f: (c: TeachCell) => number) => cs.reduce((s, c) => s + f(c), 0) / cs.length;
      lines.push(`| ${METHOD_NAMES[m]} | ${k} | ${pct(avg((c) => c.accuracy_all.mean))} % | ${pct(avg((c) => c.taught_recall.mean))} % | ` +
        `${signed(100 * avg((c) => c.known_after.mean - c.known_before))} | ${avg((c) => c.build_ms.mean).toFixed(1)} ms |`);
    }
  }
  return lines;
}

/** The selection's candidates, compactly. */
export function selectionTable(selection: NonNullable<TeachReportLike['selection']>): string[] {
  const ks = selection.candidates[0]?.per_k.map((p) => p.k) ?? [];
  // Refused by the open-set threshold (scaled as the app does), known classes / taught class, when the selection had one.
  const withRefusal = selection.candidates.some((c) => c.per_k.some((p) => p.known_refused !== undefined));
  const refusalHeads = withRefusal ? ` | ${ks.map((k) => `k = ${k}: refused, known / taught`).join(' | ')}` : '';
  const lines = [
    `| α (prior) | γ (taught scatter) | ${ks.map((k) => `k = ${k}: balanced acc. / known drop`).join(' | ')}${refusalHeads} | drop budget met |`,
    `| ---: | ---: | ${ks.map(() => '---:').join(' | ')}${withRefusal ? ` | ${ks.map(() => '---:').join(' | ')}` : ''} | --- |`,
  ];
  for (const c of selection.candidates) {
    const chosen = c.priorWeight === selection.selected.priorWeight && c.scatterWeight === selection.selected.scatterWeight;
    const b = (t: string) => (chosen ? `**${t}**` : t);
    const refusal = withRefusal ? ` | ${c.per_k.map((p) => `${pct(p.known_refused ?? 0)} / ${pct(p.taught_refused ?? 0)} %`).join(' | ')}` : '';
    lines.push(`| ${b(String(c.priorWeight))} | ${b(String(c.scatterWeight))} | ${c.per_k.map((p) => `${pct(p.balanced_accuracy)} % / ${(100 * p.known_drop).toFixed(2)}`).join(' | ')}${refusal} | ${c.meets_budget ? 'yes' : 'no'} |`);
  }
  return lines;
}

/** The tables of docs/benchmarks.md's eval:teach section, from the JSON report. */
export function teachTableMarkdown(report: TeachReportLike): string {
  const lines: string[] = [];
  const sel = report.selection;
  if (sel) {
    lines.push(`**How the teaching rule was chosen (train photos only).** ${sel.protocol} Criterion: ${sel.criterion}`, '',
      ...selectionTable(sel), '',
      `Selected: ${ruleText(sel.selected)}; cross-validated ECE of the taught heads ${sel.ece_t1.toFixed(3)} at T = 1 → ${sel.ece_fitted.toFixed(3)} at the fitted T. ` +
      (sel.known_refused_before !== undefined ? `The refused columns use the threshold scaled as the app does; before teaching, the 2-class heads refused ${pct(sel.known_refused_before)} % of the held-out folds' known-class photos. ` : '') +
      'This rule is what the app uses (src/engine/model/teach.ts `TEACH_RULE`, a test checks it equals this report\'s selection).', '');
  }
  const rule = report.cells.filter((c) => c.method === 'rule');
  lines.push('**The app\'s rule, per held-out class.** Accuracy over all 130 val photos (mean ± sd over the draws); the taught class\'s val photos recognised; ' +
    'the two known classes\' val accuracy with the 2-class head (before) and after teaching; refusals by the open-set threshold (the shipped one for the 2-class head; after teaching scaled by tr(Σ_after⁻¹Σ_before)/F, as the app does); ECE of the taught head on all val photos.', '',
    ...perClassTable(rule.length > 0 ? rule : report.cells.filter((c) => c.method === 'lda')));
  if (rule.length > 0 && report.cells.some((c) => c.method === 'lda')) {
    lines.push('', `For comparison, ${METHOD_NAMES.lda} and no temperature, the threshold left as it was (what the app did before this rule):`, '', ...perClassTable(report.cells.filter((c) => c.method === 'lda')));
  }
  if (report.full_class_drop) {
    lines.push('', 'Known classes\' val accuracy when the held-out class is taught from ALL its train photos with the same rule (the drop that a fully seen class still causes: its photos and the known ones overlap): ' +
      report.full_class_drop.map((d) => `${d.held_out} (${d.photos} photos) ${pct(d.known_before)} → ${pct(d.known_after_all_photos)} % (${signed(100 * (d.known_after_all_photos - d.known_before))})`).join('; ') + '.');
  }
  const softmaxDraws = report.cells.find((c) => c.method.startsWith('softmax'))?.draws;
  const ldaDraws = report.cells.find((c) => c.method === 'rule' || c.method === 'lda')?.draws ?? 0;
  lines.push('', `**Closed form vs trained**, averaged over the three held-out classes (mean of the per-class means; ${ldaDraws} draws per k for the closed forms, ${softmaxDraws ?? 0} for softmax regression, 200 full-batch Nesterov steps, L2 10⁻³, balanced class weights):`, '',
    ...methodTable(report.cells));
  const r = report.full_head_reference;
  lines.push('', `All three classes, full training statistics: the shipped trained head ${pct(r.shipped_trained_head!)} %, ` +
    `LDA rows on normalised features ${pct(r.lda_normalised_inputs!)} %, the same rows on raw features divided by the mean ‖x‖ ${pct(r.lda_raw_inputs_scaled!)} % ` +
    `(‖x‖ = ${report.norms.all!.mean.toFixed(2)} ± ${report.norms.all!.sd.toFixed(2)} over all photos).`);
  const t = report.timing as null | { photos: number; backend: string; decode_ms: number; features_ms: number; teach_ms: number; set_head_ms: number; from_features_ms: number; end_to_end_ms: number; heap_before_bytes: number | null; heap_after_bytes: number | null; head_json_bytes: number; base_head: string; measured?: string };
  if (t) {
    const mb = (b: number | null) => (b === null ? 'n/a' : `${(b / 2 ** 20).toFixed(1)} MiB`);
    lines.push('', `**Time to teach from ${t.photos} photos** on ${t.backend.toUpperCase()} in headless Chromium (median of 3; base: ${t.base_head}${t.measured ? `; measured ${t.measured}` : ''}):`, '',
      '| decode photos | features (forward graph) | head in closed form | setHead | from features to active head | end to end from the photo files | JS heap before → after | head.json |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      `| ${t.decode_ms.toFixed(0)} ms | ${t.features_ms.toFixed(0)} ms | ${t.teach_ms.toFixed(0)} ms | ${t.set_head_ms.toFixed(0)} ms | ${t.from_features_ms.toFixed(0)} ms | ${(t.end_to_end_ms / 1000).toFixed(2)} s | ${mb(t.heap_before_bytes)} → ${mb(t.heap_after_bytes)} | ${(t.head_json_bytes / 1024).toFixed(0)} KiB |`);
  }
  return lines.join('\n');
}

/** The short form for docs/benchmarks.md: the app's rule averaged over the held-out classes per k, the methods at
 * one k, the timing, and one line per low-resolution backbone; the full tables go to docs/bench/teach.md. */
export function teachSummaryMarkdown(report: TeachReportLike, heldOut: readonly { held_out: string; baseline: { three_class_lda_val_accuracy: number }; selection: { selected: TeachRule }; cells: TeachCell[]; full_class_drop: NonNullable<TeachReportLike['full_class_drop']> }[], atK = 10): string {
  const avg = (cs: readonly TeachCell[], f: (c: TeachCell) => number | undefined) => {
    const vs = cs.map(f).filter((v): v is number => v !== undefined);
    return vs.length === cs.length && vs.length > 0 ? vs.reduce((a, b) => a + b, 0) / vs.length : undefined;
  };
  const cell = (v: number | undefined, f: (v: number) => string) => (v === undefined ? '—' : f(v));
  const lines: string[] = [];
  if (report.selection) lines.push(`Teaching rule selected on the train photos only (5-fold cross-validation): ${ruleText(report.selection.selected)}.`, '');
  const rule = report.cells.filter((c) => c.method === 'rule');
  const ks = [...new Set(rule.map((c) => c.k))];
  const hasSure = rule.some((c) => c.sure_share);
  lines.push('**The app\'s rule**, mean over the three held-out classes (each taught from k of its train photos, seeded draws, scored on all 130 val photos):', '',
    `| k photos | accuracy, all val | taught class recall | known classes Δ points | taught class refused, before → after | out-of-domain refused, before → after | ECE, T = 1 → fitted T${hasSure ? ' | answered sure, right when sure' : ''} |`,
    `| ---: | ---: | ---: | ---: | ---: | ---: | ---:${hasSure ? ' | ---:' : ''} |`);
  for (const k of ks) {
    const cs = rule.filter((c) => c.k === k);
    const pair = (b: (c: TeachCell) => number | undefined, a: (c: TeachCell) => number | undefined, f: (v: number) => string) => {
      const before = avg(cs, b); const after = avg(cs, a);
      return before === undefined || after === undefined ? '—' : `${f(before)} → ${f(after)}`;
    };
    lines.push(`| ${k} | ${cell(avg(cs, (c) => c.accuracy_all.mean), (v) => `${pct(v)} %`)} | ${cell(avg(cs, (c) => c.taught_recall.mean), (v) => `${pct(v)} %`)} | ` +
      `${cell(avg(cs, (c) => c.known_after.mean - c.known_before), (v) => signed(100 * v))} | ${pair((c) => c.refused_before, (c) => c.refused_after?.mean, (v) => `${pct(v)} %`)} | ` +
      `${pair((c) => c.ood_refused_before, (c) => c.ood_refused_after?.mean, (v) => `${pct(v)} %`)} | ${pair((c) => c.ece_t1?.mean, (c) => c.ece_rule_t?.mean, (v) => v.toFixed(3))}` +
      `${hasSure ? ` | ${pair((c) => c.sure_share?.mean, (c) => c.sure_precision?.mean, (v) => `${pct(v)} %`).replace(' → ', ', ')}` : ''} |`);
  }
  const unscaled = ks.map((k) => ({ k, v: avg(rule.filter((c) => c.k === k), (c) => c.ood_refused_after_unscaled_threshold?.mean) })).filter((u) => u.v !== undefined);
  if (unscaled.length > 0) {
    lines.push('', 'The open-set threshold of a taught head is the base head\'s × tr(Σ_after⁻¹Σ_before)/F (docs/model-contract.md); had it stayed the base head\'s, ' +
      `out-of-domain photos refused after teaching: ${unscaled.map((u) => `${pct(u.v!)} %`).join(', ')} at k = ${unscaled.map((u) => u.k).join(', ')}.`);
  }
  if (report.full_class_drop) {
    lines.push('', `Known classes' drop when the held-out class is taught from all its train photos: ${report.full_class_drop.map((d) => `${d.held_out} ${signed(100 * (d.known_after_all_photos - d.known_before))}`).join(', ')} points.`);
  }
  lines.push('', `**Closed form vs trained** at k = ${atK}, mean over the held-out classes:`, '', '| method | accuracy, all val | taught recall | known classes Δ points | time to build (Node) |', '| --- | ---: | ---: | ---: | ---: |');
  for (const m of [...new Set(report.cells.map((c) => c.method))]) {
    const cs = report.cells.filter((c) => c.method === m && c.k === atK);
    if (cs.length === 0) continue;
    lines.push(`| ${METHOD_NAMES[m]} | ${pct(avg(cs, (c) => c.accuracy_all.mean)!)} % | ${pct(avg(cs, (c) => c.taught_recall.mean)!)} % | ${signed(100 * avg(cs, (c) => c.known_after.mean - c.known_before)!)} | ${avg(cs, (c) => c.build_ms.mean)!.toFixed(1)} ms |`);
  }
  const t = report.timing as null | { photos: number; backend: string; features_ms: number; from_features_ms: number; end_to_end_ms: number; head_json_bytes: number; measured?: string };
  if (t) {
    lines.push('', `**Time to teach from ${t.photos} photos** on ${t.backend.toUpperCase()} in headless Chromium (median of 3${t.measured ? `, ${t.measured.slice(0, 16).replace('T', ' ')} UTC` : ''}): ` +
      `from features to active head ${t.from_features_ms.toFixed(0)} ms; end to end from the photo files ${(t.end_to_end_ms / 1000).toFixed(2)} s ` +
      `(of which the ${t.photos} forward runs ${(t.features_ms / 1000).toFixed(2)} s); a taught head.json is ${(t.head_json_bytes / 1024).toFixed(0)} KiB.`);
  }
  if (heldOut.length > 0) {
    lines.push('', `**Low-resolution backbones trained on the CPU without the held-out class** (64 px, not the shipped model; each with its own rule selected on its own train features), at k = ${atK}:`, '',
      '| held out | its 3-class LDA baseline, val | accuracy, all val | taught class recall | known classes Δ points | Δ when taught from all its train photos |', '| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const r of heldOut) {
      const c = r.cells.find((x) => x.method === 'rule' && x.k === atK);
      const all = r.full_class_drop[0];
      if (!c) continue;
      lines.push(`| ${r.held_out} | ${pct(r.baseline.three_class_lda_val_accuracy)} % | ${pm(c.accuracy_all)} % | ${pm(c.taught_recall)} % | ${signed(100 * (c.known_after.mean - c.known_before))} | ${all ? signed(100 * (all.known_after_all_photos - all.known_before)) : '—'} |`);
    }
  }
  lines.push('', 'Every table (per held-out class, every k and method, the selection candidates, each low-resolution backbone): [bench/teach.md](bench/teach.md).');
  return lines.join('\n');
}
