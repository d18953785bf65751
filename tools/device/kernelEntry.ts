// Entry of the device kit's bundle (built by `npm run device:kit`, run by its run.sh): `npm run bench:node -- --no-ort`
// without Vite or node_modules, for a GPU machine that has neither. esbuild inlines dawn.ts and its `?raw` WGSL
// imports; `webgpu` is loaded from the kit's own trimmed copy.
// Usage: node bench-node.mjs [--runs 30] [--warmup 5] [--json FILE]
import { parseArgs } from 'node:util';
import type { NodeBenchReport } from '../../bench/lib/report';
import * as dawn from '../../bench/node/dawn';
import { nodeBenchReport, requestDawnAdapter, runKernelBench, writeReport } from '../../bench/node/dawnKernelBench';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '5' },
    json: { type: 'string' },
    // Accepted so that bench:node command lines work unchanged; the kit never runs onnxruntime.
    'no-ort': { type: 'boolean', default: true },
  },
});
const runs = Number(args.runs);
const warmup = Number(args.warmup);
const log = (line: string): void => console.log(`[bench:node kit] ${line}`);

function summaryLines(report: NodeBenchReport): string[] {
  const ms = (value: number | undefined): string => (value === undefined ? '–' : value.toFixed(3));
  const rows = Object.entries(report.kernels).map(([name, k]) =>
    `${name.padEnd(22)} ${ms(k.gpu_ms?.median).padStart(9)} ${ms(k.wall_ms.median).padStart(9)} ${ms(k.cpu_reference_ms?.median).padStart(9)}  ${k.max_abs_diff?.toExponential(2) ?? '–'}`);
  const { adapter } = report;
  return [
    `adapter: ${adapter.vendor} ${adapter.architecture} ${adapter.description}${adapter.software ? ' (SOFTWARE: correctness only)' : ''}; timestamp-query: ${adapter.features.includes('timestamp-query')}`,
    `median of ${report.runs} runs after ${report.warmup} warm-up, ms:`,
    `${'kernel'.padEnd(22)} ${'gpu'.padStart(9)} ${'wall'.padStart(9)} ${'TS ref'.padStart(9)}  max |Δ| vs TS`,
    ...rows,
    `errors: ${report.errors.length === 0 ? 'none' : report.errors.join(' / ')}`,
  ];
}

async function main(): Promise<void> {
  const adapter = await requestDawnAdapter(log);
  const bench = await runKernelBench(dawn, adapter, { warmup, runs, log });
  const report = nodeBenchReport(bench, [], { warmup, runs });
  if (args.json) writeReport(args.json, report, log);
  console.log(['', '== summary ==', ...summaryLines(report)].join('\n'));
  if (report.errors.length > 0) process.exitCode = 1;
}

main().then(
  // Dawn keeps native handles alive; exit explicitly once the report is written.
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => { console.error(err); process.exit(1); },
);
