// One answer from several leaves of one plant or plot ("field check"). Each leaf is judged alone first;
// leaves refused as not bean leaves are left out; the rest are combined by averaging their calibrated
// log-probabilities (a geometric mean of the distributions, renormalised). Averaging rather than summing keeps
// the combined answer on the scale of one photo: leaves of one plant are not independent witnesses, and a sum
// would grow overconfident with every leaf added.
import type { DiagnosisOutcome } from '../types';
import { DEFAULT_MIN_PROBABILITY } from './domain';
import { argmax, softmax } from './logits';

export const MAX_GROUP_LEAVES = 6;

/** What the combination needs from each leaf's own diagnosis. */
export interface LeafJudgement {
  /** Calibrated probabilities, label order. */
  probabilities: ArrayLike<number>;
  outcome: DiagnosisOutcome;
}

export interface GroupRule {
  /** The combined top probability needed for a sure answer (the head's own threshold for one photo). */
  minProbability: number;
  /** Fewer judged leaves than this give an unsure group answer (one leaf is not a field check). */
  minLeaves: number;
  /** 'mean' (the app's rule) or 'sum' of the log-probabilities: the sum treats leaves as independent witnesses
   * (naive Bayes), which leaves of one plant are not; eval:group reports it for comparison only. */
  pooling?: 'mean' | 'sum';
}

export interface GroupResult {
  /** Combined probabilities over the judged leaves, label order (all zero when every leaf was refused). */
  probabilities: Float32Array;
  /** -1 when every leaf was refused. */
  top: number;
  outcome: DiagnosisOutcome;
  /** Indices (in the input order) of the leaves that went into the answer. */
  judged: number[];
  /** Indices of the leaves refused as not bean leaves. */
  refused: number[];
  /** Judged leaves whose own top class is the group's top class. */
  agreeing: number;
  /** Why a group answer is unsure (empty when sure or refused). */
  reasons: GroupUnsureReason[];
}

export type GroupUnsureReason = 'too-few-leaves' | 'low-probability' | 'leaves-disagree';

/** Probabilities are clamped here before the log, so one leaf's exact zero cannot veto a class outright. */
const MIN_PROBABILITY = 1e-6;

export function combineLeaves(leaves: readonly LeafJudgement[], rule: GroupRule): GroupResult {
  if (leaves.length === 0) throw new RangeError('combineLeaves: no leaves');
  if (leaves.length > MAX_GROUP_LEAVES) throw new RangeError(`combineLeaves: ${leaves.length} leaves, at most ${MAX_GROUP_LEAVES}`);
  const classes = leaves[0]!.probabilities.length;
  if (classes === 0 || leaves.some((l) => l.probabilities.length !== classes)) throw new RangeError('combineLeaves: leaves disagree on the number of classes');

  const judged: number[] = [];
  const refused: number[] = [];
  leaves.forEach((leaf, i) => (leaf.outcome === 'not-bean-leaf' ? refused : judged).push(i));
  if (judged.length === 0) {
    return { probabilities: new Float32Array(classes), top: -1, outcome: 'not-bean-leaf', judged, refused, agreeing: 0, reasons: [] };
  }

  const meanLog = new Float64Array(classes);
  for (const i of judged) {
    const p = leaves[i]!.probabilities;
    const weight = rule.pooling === 'sum' ? 1 : 1 / judged.length;
    for (let c = 0; c < classes; c++) meanLog[c]! += Math.log(Math.max(MIN_PROBABILITY, p[c]!)) * weight;
  }
  const probabilities = softmax(meanLog);
  const top = argmax(probabilities);
  let agreeing = 0;
  let sureOfOther = false;
  for (const i of judged) {
    const leaf = leaves[i]!;
    const own = argmax(leaf.probabilities);
    if (own === top) agreeing++;
    else if (leaf.outcome === 'sure') sureOfOther = true;
  }

  const reasons: GroupUnsureReason[] = [];
  if (judged.length < rule.minLeaves) reasons.push('too-few-leaves');
  if (probabilities[top]! < rule.minProbability) reasons.push('low-probability');
  // A leaf sure of another class means two diseases side by side, or a mistake: either way, look again.
  if (sureOfOther) reasons.push('leaves-disagree');
  return { probabilities, top, outcome: reasons.length === 0 ? 'sure' : 'unsure', judged, refused, agreeing, reasons };
}

/** The group rule for a head: its own single-photo threshold (head.json `confidence.min_probability`, else the
 * default rule's probability bar), and at least two judged leaves. */
export function groupRuleOf(minProbability: number | undefined): GroupRule {
  return { minProbability: minProbability ?? DEFAULT_MIN_PROBABILITY, minLeaves: 2 };
}
