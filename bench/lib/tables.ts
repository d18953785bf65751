// Markdown tables of bench and eval results (printed by the runners, pasted into docs/benchmarks.md by scripts/plot.ts).
import type { BackendBench, EvalReport, NodeBenchReport } from './report';
import { roundMs } from './stats';

/** Stages in reading order; any other measured stage follows these. */
export const STAGE_ORDER = [
  'decode', 'preprocess', 'forward', 'forward+gradients', 'forward+gradients+lrp',
  'wgsl:attention', 'wgsl:rollout', 'wgsl:rollout (discard 0.9)', 'wgsl:relevance', 'wgsl:lrp', 'wgsl:overlay',
  'ts:attention', 'ts:rollout', 'ts:rollout (discard 0.9)', 'ts:relevance', 'ts:lrp',
  'cpu:attention', 'cpu:rollout', 'cpu:rollout (discard 0.9)', 'cpu:relevance', 'cpu:lrp', 'canvas2d:overlay',
  'engine:decode', 'engine:preprocess', 'engine:model', 'engine:kernels', 'draw', 'kernels+draw', 'end_to_end',
];

export function orderedStages(backends: readonly BackendBench[]): string[] {
  const present = new Set(backends.flatMap((b) => Object.keys(b.stages)));
  const known = STAGE_ORDER.filter((s) => present.has(s));
  const extra = [...present].filter((s) => !STAGE_ORDER.includes(s) && !s.startsWith('wgsl-wall:')).sort();
  return [...known, ...extra];
}

const cell = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : String(roundMs(v)));

/** Stage × backend: "median (min–max)" in ms. */
export function stageTableMarkdown(backends: readonly BackendBench[]): string {
  const header = `| stage (ms) | ${backends.map((b) => `${b.backend} median (min–max)`).join(' | ')} |`;
  const rule = `| --- | ${backends.map(() => '---:').join(' | ')} |`;
  const rows = orderedStages(backends).map((stage) => {
    const cells = backends.map((b) => {
      const s = b.stages[stage];
      return s ? `${cell(s.median)} (${cell(s.min)}–${cell(s.max)})` : '–';
    });
    return `| ${stage} | ${cells.join(' | ')} |`;
  });
  return [header, rule, ...rows].join('\n');
}

/** The tracked figures, one row per backend. */
export function summaryTableMarkdown(backends: readonly BackendBench[]): string {
  const lines = [
    '| backend | adapter | forward_ms | explain_ms | explain_over_forward | kernels_ms | kernels_share | end_to_end_ms | model_bytes | heap growth / run |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const b of backends) {
    const share = b.kernels_share === null ? '–' : `${(b.kernels_share * 100).toFixed(1)} %`;
    const ratio = b.explain_over_forward === null ? '–' : b.explain_over_forward.toFixed(2);
    const growth = b.memory.js_heap_growth_per_run_bytes === null ? '–' : `${Math.round(b.memory.js_heap_growth_per_run_bytes / 1024)} KiB`;
    lines.push(`| ${b.backend} | ${b.adapter} | ${cell(b.forward_ms)} | ${cell(b.explain_ms)} | ${ratio} | ${cell(b.kernels_ms)} | ${share} | ${cell(b.end_to_end_ms)} | ${b.model_bytes} | ${growth} |`);
  }
  return lines.join('\n');
}

export function nodeKernelTableMarkdown(report: NodeBenchReport): string {
  const lines = [
    '| kernel | GPU time (timestamps) median | wall median (min–max) | TS reference median | max abs diff vs TS |',
    '| --- | ---: | ---: | ---: | ---: |',
  ];
  for (const [name, k] of Object.entries(report.kernels)) {
    lines.push(`| ${name} | ${k.gpu_ms ? cell(k.gpu_ms.median) : '–'} | ${cell(k.wall_ms.median)} (${cell(k.wall_ms.min)}–${cell(k.wall_ms.max)}) | ${cell(k.cpu_reference_ms?.median)} | ${k.max_abs_diff === null ? '–' : k.max_abs_diff.toExponential(1)} |`);
  }
  return lines.join('\n');
}

export function evalTableMarkdown(report: EvalReport): string {
  const lines = [
    '| method | positive AUC (lower is better) | negative AUC (higher is better) | negative − positive |',
    '| --- | ---: | ---: | ---: |',
  ];
  for (const m of report.methods) {
    const best = m.name === report.rollout_best ? ' (best rollout)' : '';
    lines.push(`| ${m.name}${best} | ${(m.positive_auc * 100).toFixed(1)} | ${(m.negative_auc * 100).toFixed(1)} | ${((m.negative_auc - m.positive_auc) * 100).toFixed(1)} |`);
  }
  return lines.join('\n');
}

export function agreementTableMarkdown(report: EvalReport): string {
  if (!report.top_patch_agreement) return '_WebGPU maps were not computed in this run._';
  const lines = ['| method | same top patch on WebGPU and WASM |', '| --- | ---: |'];
  for (const [name, a] of Object.entries(report.top_patch_agreement.methods)) {
    lines.push(`| ${name} | ${a.same} / ${a.compared} (${a.compared ? ((100 * a.same) / a.compared).toFixed(0) : '–'} %) |`);
  }
  return lines.join('\n');
}

/** The WASM path's explanation: TS reference (`ts:`) against its fast twin (`cpu:`), measured in the same run. */
export function cpuPathTableMarkdown(wasm: BackendBench): string {
  const lines = [
    '| method | reference (ts:) median ms | fast path (cpu:) median ms | speed-up |',
    '| --- | ---: | ---: | ---: |',
  ];
  for (const stage of Object.keys(wasm.stages).filter((s) => s.startsWith('ts:'))) {
    const method = stage.slice(3);
    const reference = wasm.stages[stage]?.median;
    const fast = wasm.stages[`cpu:${method}`]?.median;
    const speedUp = reference !== undefined && fast !== undefined && fast > 0 ? `${(reference / fast).toFixed(1)}×` : '–';
    lines.push(`| ${method} | ${cell(reference)} | ${cell(fast)} | ${speedUp} |`);
  }
  return lines.join('\n');
}

/** Explanation + overlay + draw of the end-to-end WASM diagnosis, one column per run (e.g. before / after). */
export function kernelsShareTableMarkdown(runs: readonly { label: string; wasm: BackendBench }[]): string {
  const rows: [string, (b: BackendBench) => string][] = [
    ['engine:kernels (explanation) ms', (b) => cell(b.stages['engine:kernels']?.median)],
    ['draw (overlay + canvas) ms', (b) => cell(b.stages.draw?.median)],
    ['kernels + draw ms', (b) => cell(b.kernels_ms)],
    ['end to end ms', (b) => cell(b.end_to_end_ms)],
    ['kernels_share', (b) => (b.kernels_share === null ? '–' : `${(b.kernels_share * 100).toFixed(1)} %`)],
  ];
  return [
    `| WASM diagnosis (median) | ${runs.map((r) => r.label).join(' | ')} |`,
    `| --- | ${runs.map(() => '---:').join(' | ')} |`,
    ...rows.map(([name, value]) => `| ${name} | ${runs.map((r) => value(r.wasm)).join(' | ')} |`),
  ].join('\n');
}
