// npm run plot [-- --bench docs/bench/bench.json --node docs/bench/node-dawn-h100.json --eval docs/bench/eval-explain.json --out docs/bench]
// Writes the SVG plots and a markdown file of every table (docs/bench/tables.md) from the JSON results, and the
// headline tables (no per-stage or per-kernel detail) between the markers of docs/benchmarks.md. No hand edits:
// re-run after any bench or eval run.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { BenchReport, EvalReport, MachineReport, NodeBenchReport } from '../bench/lib/report';
import { barChartSvg, lineChartSvg } from '../bench/lib/svg';
import {
  agreementTableMarkdown, cpuPathTableMarkdown, evalTableMarkdown, kernelsShareTableMarkdown, nodeKernelTableMarkdown, orderedStages,
  stageTableMarkdown, summaryTableMarkdown,
} from '../bench/lib/tables';

const { values: args } = parseArgs({
  options: {
    bench: { type: 'string', default: 'docs/bench/bench.json' },
    /** The real-GPU run (device machine) is the one worth showing; this machine's Dawn node is software WebGPU. */
    node: { type: 'string', default: 'docs/bench/node-dawn-h100.json' },
    eval: { type: 'string', default: 'docs/bench/eval-explain.json' },
    out: { type: 'string', default: 'docs/bench' },
    doc: { type: 'string', default: 'docs/benchmarks.md' },
    /** Extra bench runs shown as summary rows only (e.g. the stand-in exported without attention_relevance). */
    'bench-extra': { type: 'string', default: 'docs/bench/bench-nolrp.json' },
    /** A WASM-only bench run after the fast CPU path (issue 13), compared with --bench's WASM figures. */
    'cpu-path': { type: 'string', default: 'docs/bench/bench-wasm-cpu-path.json' },
  },
});

const BEGIN = '<!-- tables:begin (written by npm run plot) -->';
const END = '<!-- tables:end -->';

/** Replaces the generated block of the benchmarks document, leaving the prose around it alone. */
function updateDoc(path: string, tables: string): boolean {
  if (!existsSync(path)) return false;
  const text = readFileSync(path, 'utf8');
  const begin = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (begin < 0 || end < begin) return false;
  writeFileSync(path, `${text.slice(0, begin + BEGIN.length)}\n${tables}\n${text.slice(end)}`);
  return true;
}

function readJson<T>(path: string): T | null {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : null;
}

/** "; load average 9.1 → 10.2" when the report recorded it (the bench machine is shared). */
function loadNote(machine: MachineReport): string {
  const load = machine.load_average;
  if (!load) return '';
  return `; load average ${load.start.toFixed(1)}${load.end !== undefined ? ` → ${load.end.toFixed(1)}` : ''}`;
}

const SOFTWARE_NOTE = 'software WebGPU (SwiftShader), correctness only';

/** The app's sure / not-sure split as report lines (absent from reports older than the field). */
function confidenceLines(confidence: EvalReport['confidence']): string[] {
  if (!confidence) return [];
  const share = (part: { photos: number; right: number }) =>
    `${part.photos} of ${confidence.photos} photos (${((part.photos / confidence.photos) * 100).toFixed(1)} %), right on ${part.photos ? ((part.right / part.photos) * 100).toFixed(1) : '–'} % of them`;
  return [`- answers the app shows as sure: ${share(confidence.sure)}; as "not sure": ${share(confidence.unsure)} — ${confidence.rule}`];
}

function main(): void {
  mkdirSync(args.out, { recursive: true });
  const sections: string[] = ['<!-- written by scripts/plot.ts from the JSON files next to it; do not edit -->'];
  // The headline tables for docs/benchmarks.md; the detail stays in tables.md, linked from there.
  const brief: string[] = ['<!-- written by scripts/plot.ts from the JSON files in docs/bench/; do not edit. Every table, per stage and per kernel: [bench/tables.md](bench/tables.md) -->'];
  const written: string[] = [];

  const bench = readJson<BenchReport>(args.bench);
  if (bench) {
    const notes = [`${bench.model.name}: ${bench.model.note}`, `${bench.browser}; ${bench.machine.cpu}, ${bench.machine.cores} cores`];
    if (bench.backends.some((b) => b.adapter_info?.software)) notes.push(`WebGPU figures: ${SOFTWARE_NOTE}`);
    const stages = orderedStages(bench.backends).filter((s) => bench.backends.some((b) => (b.stages[s]?.median ?? 0) > 0));
    const svg = barChartSvg({
      title: `Per-stage latency, median of ${bench.runs} runs (ms)`,
      notes,
      unit: 'ms',
      categories: stages,
      series: bench.backends.map((b) => ({ name: `${b.backend}: ${b.adapter}`, values: stages.map((s) => b.stages[s]?.median ?? null) })),
      log: true,
    });
    writeFileSync(join(args.out, 'bench-stages.svg'), svg);
    written.push('bench-stages.svg');
    sections.push(`## Browser bench (${bench.created})`, '', notes.map((n) => `- ${n}`).join('\n'), '',
      summaryTableMarkdown(bench.backends), '', stageTableMarkdown(bench.backends), '');
    brief.push(`### Browser bench (${bench.created.slice(0, 10)})`, '', `- ${notes.join('; ')}`, '', summaryTableMarkdown(bench.backends), '');
    for (const b of bench.backends) {
      for (const n of b.notes ?? []) sections.push(`- ${b.backend}: ${n}`);
      for (const e of b.errors) sections.push(`- ${b.backend} error: ${e}`);
    }
    if (bench.cold_start) {
      const coldStart = [`### Cold start: ${bench.cold_start.target}`, '', `- ${bench.cold_start.note}`, '',
        '| cache | app shell (ms) | usable UI (ms) | first diagnosis (ms) | bytes downloaded | requests | note |',
        '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
        ...bench.cold_start.runs.map((r) => `| ${r.cache} | ${r.shell_ms?.toFixed(0) ?? '–'} | ${r.usable_ui_ms?.toFixed(0) ?? '–'} | ${r.first_diagnosis_ms?.toFixed(0) ?? '–'} | ${r.bytes_downloaded} | ${r.requests} | ${r.note} |`)];
      sections.push('', ...coldStart);
    }
    sections.push('');
  }

  for (const path of args['bench-extra'].split(',').filter(Boolean)) {
    const extra = readJson<BenchReport>(path);
    if (!extra) continue;
    sections.push(`### Same bench, model ${extra.model.name} (${path})`, '', `- ${extra.model.note}; ${extra.runs} runs`, '',
      summaryTableMarkdown(extra.backends), '');
  }

  const cpuPath = readJson<BenchReport>(args['cpu-path']);
  const cpuWasm = cpuPath?.backends.find((b) => b.backend === 'wasm');
  if (cpuPath && cpuWasm) {
    const before = bench?.backends.find((b) => b.backend === 'wasm');
    sections.push(`### CPU path on WASM (${args['cpu-path']}, ${cpuPath.created})`, '',
      `- ${cpuPath.model.name}: ${cpuPath.model.note}; ${cpuPath.runs} runs; ${cpuPath.browser}; ${cpuPath.machine.cpu}, ${cpuPath.machine.cores} cores${loadNote(cpuPath.machine)}`, '',
      cpuPathTableMarkdown(cpuWasm), '');
    const share = kernelsShareTableMarkdown([
      ...(before && bench ? [{ label: `before (${args.bench}, ${bench.created.slice(0, 10)})`, wasm: before }] : []),
      { label: `after (${cpuPath.created.slice(0, 10)})`, wasm: cpuWasm },
    ]);
    sections.push(share, '');
    brief.push(`### CPU path on WASM (${args['cpu-path']})`, '', `- ${cpuPath.model.name}; ${cpuPath.runs} runs; ${cpuPath.machine.cpu}, ${cpuPath.machine.cores} cores${loadNote(cpuPath.machine)}`, '', share, '');
  }

  const node = readJson<NodeBenchReport>(args.node);
  if (node) {
    const names = Object.keys(node.kernels);
    const notes = [`${node.adapter.vendor} ${node.adapter.architecture} ${node.adapter.description} via Dawn node (npm webgpu); ${node.inputs}`];
    if (node.adapter.software) notes.push(SOFTWARE_NOTE);
    // A pass shorter than the GPU timer's resolution reads 0 ms: no bar on a log axis, said in a note.
    const gpuMedian = (n: string) => { const v = node.kernels[n]!.gpu_ms?.median; return v !== undefined && v > 0 ? v : null; };
    const unresolved = names.filter((n) => node.kernels[n]!.gpu_ms?.median === 0);
    if (unresolved.length) notes.push(`GPU time below the timer's resolution (reads 0 ms): ${unresolved.join(', ')}`);
    const svg = barChartSvg({
      title: `WGSL kernels outside the browser (Dawn node), median of ${node.runs} runs (ms)`,
      notes,
      unit: 'ms',
      categories: names,
      series: [
        { name: 'GPU time (timestamp queries)', values: names.map(gpuMedian) },
        { name: 'wall time incl. readback', values: names.map((n) => node.kernels[n]!.wall_ms.median) },
        { name: 'TypeScript reference (CPU)', values: names.map((n) => node.kernels[n]!.cpu_reference_ms?.median ?? null) },
      ],
      log: true,
    });
    writeFileSync(join(args.out, 'node-kernels.svg'), svg);
    written.push('node-kernels.svg');
    const ortTable = ['| runtime in Node | status | forward (ms) | forward + gradients (ms) | + LRP graph (ms) | detail |', '| --- | --- | ---: | ---: | ---: | --- |',
      ...node.ort.map((o) => `| ${o.runtime}${o.precision ? `, ${o.precision}` : ''} | ${o.status} | ${o.forward_ms?.median.toFixed(1) ?? '–'} | ${o.explain_ms?.median.toFixed(1) ?? '–'} | ${o.lrp_ms?.median.toFixed(1) ?? '–'} | ${o.detail.replace(/\|/g, '/').replace(/\n/g, ' ')} |`)];
    sections.push(`## Kernels on Dawn node (${node.created})`, '', notes.map((n) => `- ${n}`).join('\n'), '', nodeKernelTableMarkdown(node), '', ...ortTable, '');
    brief.push(`### Kernels and graphs on Dawn node (${node.created.slice(0, 10)})`, '', `- ${notes.join('; ')}`, '', nodeKernelTableMarkdown(node), '', ...ortTable, '');
  }

  const evalReport = readJson<EvalReport>(args.eval);
  if (evalReport) {
    const notes = [evalReport.meaning, `${evalReport.photos} photos, perturbed runs on ${evalReport.perturbation_backend}; model ${evalReport.model.name}`];
    const panel = (title: string, key: 'positive' | 'negative') => ({
      title,
      xs: evalReport.fractions,
      series: evalReport.methods.map((m) => ({ name: m.name, ys: m[key], dashed: m.method === 'random' })),
    });
    const svg = lineChartSvg({
      title: 'Perturbation test: share of photos still predicting their original class',
      notes,
      xLabel: '% of patches removed',
      yLabel: 'share keeping the class',
      panels: [panel('positive (most relevant first; lower is better)', 'positive'), panel('negative (least relevant first; higher is better)', 'negative')],
    });
    writeFileSync(join(args.out, 'eval-curves.svg'), svg);
    written.push('eval-curves.svg');
    const accuracy = evalReport.accuracy_unperturbed === null ? '–' : `${(evalReport.accuracy_unperturbed * 100).toFixed(1)} %`;
    sections.push(`## Perturbation test (${evalReport.created})`, '', notes.map((n) => `- ${n}`).join('\n'),
      `- accuracy on the unperturbed photos: ${accuracy}; AUC = mean height of the curve over 10–90 %, in %`,
      ...confidenceLines(evalReport.confidence), '',
      evalTableMarkdown(evalReport), '', agreementTableMarkdown(evalReport), '');
    brief.push(`### Perturbation test (${evalReport.created.slice(0, 10)})`, '',
      `- ${evalReport.photos} photos, model ${evalReport.model.name}, unperturbed accuracy ${accuracy}; perturbed runs on ${evalReport.perturbation_backend}`, '',
      evalTableMarkdown(evalReport), '');
  }

  const tables = sections.join('\n') + '\n';
  writeFileSync(join(args.out, 'tables.md'), tables);
  const doc = updateDoc(args.doc, brief.join('\n') + '\n');
  console.log(`[plot] wrote ${[...written, 'tables.md'].map((f) => join(args.out, f)).join(', ')}${doc ? ` and the tables in ${args.doc}` : ''}`);
}

main();
