// Aggregation for the field evaluations (Node side, pure): photo-quality false alarms and detection rates
// (npm run eval:quality), and single photo vs several-leaf group answers (npm run eval:group).
import { combineLeaves, type GroupRule } from '../../src/engine/model/group';
import type { DiagnosisOutcome, PhotoQuality, PhotoQualityIssue } from '../../src/engine/index';
import { seededRandom } from '../../test/engine/explain/randomTensors';
import { EXPECTED_ISSUE, type Degradation } from './degrade';

export const QUALITY_ISSUES: PhotoQualityIssue[] = ['too-dark', 'overexposed', 'blurred', 'leaf-too-small'];

export interface QualityRecord {
  path: string;
  clean: PhotoQuality;
  /** Issues found on each degraded copy, by degradation name. */
  degraded: Record<string, PhotoQualityIssue[]>;
  /** With the model: the photo's class index, and the app's answer to the clean photo ('clean') and to each copy. */
  label?: number;
  answers?: Record<string, { top: number; outcome: DiagnosisOutcome }>;
}

/** Of the copies the model answered: right, and sure but wrong (what a quality check is there to prevent). */
export interface CopyAnswers { answered: number; right: number; sureWrong: number }

export interface QualitySummary {
  photos: number;
  /** Clean photos with at least one issue. */
  falseAlarms: number;
  falseAlarmRate: number;
  falseAlarmsByIssue: Record<PhotoQualityIssue, number>;
  falseAlarmPaths: string[];
  degradations: { name: string; kind: string; expected: PhotoQualityIssue; detected: number; rate: number; anyIssue: number; answers?: CopyAnswers }[];
  /** The model's answers to the clean photos, when it ran. */
  cleanAnswers?: CopyAnswers;
}

function copyAnswers(records: readonly QualityRecord[], name: string): CopyAnswers | undefined {
  const answered = records.filter((r) => r.label !== undefined && r.answers?.[name] !== undefined);
  if (answered.length === 0) return undefined;
  const right = answered.filter((r) => r.answers![name]!.top === r.label).length;
  const sureWrong = answered.filter((r) => r.answers![name]!.outcome === 'sure' && r.answers![name]!.top !== r.label).length;
  return { answered: answered.length, right, sureWrong };
}

export function summariseQuality(records: readonly QualityRecord[], degradations: readonly Degradation[]): QualitySummary {
  const byIssue = Object.fromEntries(QUALITY_ISSUES.map((i) => [i, 0])) as Record<PhotoQualityIssue, number>;
  const alarmed = records.filter((r) => r.clean.issues.length > 0);
  for (const r of alarmed) for (const issue of r.clean.issues) byIssue[issue] += 1;
  return {
    photos: records.length,
    falseAlarms: alarmed.length,
    falseAlarmRate: records.length > 0 ? alarmed.length / records.length : 0,
    falseAlarmsByIssue: byIssue,
    falseAlarmPaths: alarmed.map((r) => `${r.path}: ${r.clean.issues.join(', ')}`),
    degradations: degradations.map((d) => {
      const expected = EXPECTED_ISSUE[d.kind];
      const seen = records.filter((r) => r.degraded[d.name] !== undefined);
      const detected = seen.filter((r) => r.degraded[d.name]!.includes(expected)).length;
      const anyIssue = seen.filter((r) => r.degraded[d.name]!.length > 0).length;
      const answers = copyAnswers(records, d.name);
      return { name: d.name, kind: d.kind, expected, detected, rate: seen.length > 0 ? detected / seen.length : 0, anyIssue, ...(answers ? { answers } : {}) };
    }),
    ...(copyAnswers(records, 'clean') ? { cleanAnswers: copyAnswers(records, 'clean') } : {}),
  };
}

/** Percentiles of each measure (for the thresholds' provenance: where the training photos lie). */
export function measurePercentiles(qualities: readonly PhotoQuality[], percentiles: readonly number[]): Record<string, Record<string, number>> {
  const measures = ['brightLuma', 'clippedShare', 'sharpness', 'leafShare'] as const;
  const out: Record<string, Record<string, number>> = {};
  for (const m of measures) {
    const values = qualities.map((q) => q[m]).sort((a, b) => a - b);
    out[m] = Object.fromEntries(percentiles.map((p) => {
      const index = Math.min(values.length - 1, Math.max(0, Math.round((p / 100) * (values.length - 1))));
      return [`p${p}`, values[index] ?? NaN];
    }));
  }
  return out;
}

// ---- several leaves -------------------------------------------------------------------------------------

export interface LeafRecord {
  path: string;
  /** True class index. */
  label: number;
  probabilities: number[];
  outcome: DiagnosisOutcome;
}

export interface AnswerStats {
  answers: number;
  correct: number;
  accuracy: number;
  sure: number;
  sureShare: number;
  /** Of the answers given as sure, the share that were right. */
  accuracyWhenSure: number | null;
  notBeanLeaf: number;
}

function stats(answers: { correct: boolean; outcome: DiagnosisOutcome }[]): AnswerStats {
  const correct = answers.filter((a) => a.correct).length;
  const sure = answers.filter((a) => a.outcome === 'sure');
  return {
    answers: answers.length,
    correct,
    accuracy: answers.length > 0 ? correct / answers.length : 0,
    sure: sure.length,
    sureShare: answers.length > 0 ? sure.length / answers.length : 0,
    accuracyWhenSure: sure.length > 0 ? sure.filter((a) => a.correct).length / sure.length : null,
    notBeanLeaf: answers.filter((a) => a.outcome === 'not-bean-leaf').length,
  };
}

export interface GroupEvalSummary {
  draws: number;
  groupSize: number;
  seed: number;
  rule: GroupRule;
  /** Every val photo judged alone, once. */
  singleAllPhotos: AnswerStats;
  /** The first leaf of each drawn group judged alone (same class mix as the groups). */
  singleSameDraws: AnswerStats;
  group: AnswerStats;
  /** The same groups pooled by the sum of log-probabilities instead of the mean (for comparison). */
  groupSumPooling: AnswerStats;
  /** Groups in which at least one leaf was refused as not a bean leaf. */
  groupsWithRefusedLeaf: number;
  /** Why group answers were unsure (a group may have several reasons). */
  unsureReasons: Record<string, number>;
}

/** Random groups of `groupSize` distinct photos of one class (class drawn uniformly, then photos), seeded. */
export function evaluateGroups(records: readonly LeafRecord[], options: { draws: number; groupSize: number; seed: number; rule: GroupRule }): GroupEvalSummary {
  const random = seededRandom(options.seed);
  const byClass = new Map<number, LeafRecord[]>();
  for (const r of records) byClass.set(r.label, [...(byClass.get(r.label) ?? []), r]);
  const classes = [...byClass.keys()].filter((c) => byClass.get(c)!.length >= options.groupSize).sort((a, b) => a - b);
  if (classes.length === 0) throw new Error(`no class has ${options.groupSize} photos`);
  const single: { correct: boolean; outcome: DiagnosisOutcome }[] = [];
  const group: { correct: boolean; outcome: DiagnosisOutcome }[] = [];
  const groupSum: { correct: boolean; outcome: DiagnosisOutcome }[] = [];
  let withRefused = 0;
  const unsureReasons: Record<string, number> = {};
  for (let d = 0; d < options.draws; d++) {
    const label = classes[Math.floor(random() * classes.length)]!;
    const pool = [...byClass.get(label)!];
    const leaves: LeafRecord[] = [];
    for (let k = 0; k < options.groupSize; k++) leaves.push(pool.splice(Math.floor(random() * pool.length), 1)[0]!);
    const first = leaves[0]!;
    single.push({ correct: argmaxOf(first.probabilities) === label, outcome: first.outcome });
    const result = combineLeaves(leaves, options.rule);
    if (result.refused.length > 0) withRefused++;
    for (const r of result.reasons) unsureReasons[r] = (unsureReasons[r] ?? 0) + 1;
    group.push({ correct: result.top === label, outcome: result.outcome });
    const summed = combineLeaves(leaves, { ...options.rule, pooling: 'sum' });
    groupSum.push({ correct: summed.top === label, outcome: summed.outcome });
  }
  return {
    draws: options.draws,
    groupSize: options.groupSize,
    seed: options.seed,
    rule: options.rule,
    singleAllPhotos: stats(records.map((r) => ({ correct: argmaxOf(r.probabilities) === r.label, outcome: r.outcome }))),
    singleSameDraws: stats(single),
    group: stats(group),
    groupSumPooling: stats(groupSum),
    groupsWithRefusedLeaf: withRefused,
    unsureReasons,
  };
}

function argmaxOf(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

// ---- tables ---------------------------------------------------------------------------------------------

const pct = (x: number | null): string => (x === null ? '–' : `${(100 * x).toFixed(1)} %`);

export function qualityTableMarkdown(summary: QualitySummary): string {
  const withModel = summary.degradations.some((d) => d.answers);
  const model = (a: CopyAnswers | undefined) => (a ? ` | ${a.right}/${a.answered} (${pct(a.right / a.answered)}) | ${a.sureWrong} |` : ' | – | – |');
  const lines = [
    `False alarms on ${summary.photos} clean val photos: **${summary.falseAlarms} (${pct(summary.falseAlarmRate)})**` +
      ` — ${QUALITY_ISSUES.map((i) => `${i} ${summary.falseAlarmsByIssue[i]}`).join(', ')}.`,
    '',
    `| degraded copy of each val photo | expected issue | detected | any issue raised${withModel ? ' | diagnosed right | sure and wrong' : ''} |`,
    `| --- | --- | ---: | ---:${withModel ? ' | ---: | ---:' : ''} |`,
    ...(withModel && summary.cleanAnswers ? [`| (the clean photos) | – | – | ${summary.falseAlarms}/${summary.photos}${model(summary.cleanAnswers)}`] : []),
    ...summary.degradations.map((d) => `| ${d.name} | ${d.expected} | ${d.detected}/${summary.photos} (${pct(d.rate)}) | ${d.anyIssue}/${summary.photos}${withModel ? model(d.answers) : ' |'}`),
  ];
  if (withModel) {
    lines.push('', 'Diagnosed by the shipped model through the app\'s engine (WASM). Any quality issue makes a sure answer unsure, ' +
      'so "sure and wrong" counts the confident mistakes the checks let through.');
  }
  return lines.join('\n');
}

export function groupTableMarkdown(summary: GroupEvalSummary): string {
  const row = (name: string, s: AnswerStats) =>
    `| ${name} | ${s.answers} | ${pct(s.accuracy)} | ${pct(s.sureShare)} | ${pct(s.accuracyWhenSure)} | ${s.notBeanLeaf} |`;
  return [
    `${summary.draws} random groups of ${summary.groupSize} val photos of one class (seed ${summary.seed}); ` +
      `group answer sure when ≥ ${summary.rule.minLeaves} leaves judged, combined top probability ≥ ${summary.rule.minProbability}, and no judged leaf sure of another class.`,
    '',
    '| answer from | answers | accuracy | answered sure | right when sure | not a bean leaf |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    row('one photo (each val photo once)', summary.singleAllPhotos),
    row('one photo (first leaf of each group)', summary.singleSameDraws),
    row(`group of ${summary.groupSize} leaves (the app: mean of log-probabilities)`, summary.group),
    ...(summary.groupSumPooling ? [row(`group of ${summary.groupSize} leaves, sum of log-probabilities (not used)`, summary.groupSumPooling)] : []),
    '',
    `Groups with a leaf refused as not a bean leaf (left out): ${summary.groupsWithRefusedLeaf}. Why group answers were unsure: ` +
      (Object.entries(summary.unsureReasons ?? {}).map(([r, n]) => `${r} ${n}`).join(', ') || 'never') + '.',
  ].join('\n');
}

/** Replaces the text between `<!-- name -->` and `<!-- /name -->` (both kept); throws when they are missing. */
export function replaceBetweenMarkers(doc: string, name: string, body: string): string {
  const begin = `<!-- ${name} -->`;
  const end = `<!-- /${name} -->`;
  const i = doc.indexOf(begin);
  const j = doc.indexOf(end);
  if (i < 0 || j < i) throw new Error(`markers ${begin} … ${end} not found`);
  return `${doc.slice(0, i + begin.length)}\n<!-- written by the eval command from its JSON; do not edit -->\n${body}\n${doc.slice(j)}`;
}
