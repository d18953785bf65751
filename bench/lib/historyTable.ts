// The history bench's report shape and its Markdown table (before / after per size), written into
// docs/benchmarks.md by `npm run bench:history -- --table` from the JSON files in docs/bench/.
import type { MachineReport } from './report';

export interface HistoryBenchRun {
  entries: number;
  /** Navigation → model settled on the first start after seeding (a schema upgrade runs there). */
  first_start_ms: number | null;
  /** Navigation → a background schema upgrade finished (absent / null: none ran). */
  upgrade_ms?: number | null;
  /** Tap on History → first row in the DOM. */
  first_rows_ms: number | null;
  rows_rendered: number | null;
  /** JS heap used after a forced GC, History open. */
  heap_mb: number | null;
  scroll_frame_p50_ms: number | null;
  scroll_frame_p95_ms: number | null;
  scroll_frame_max_ms: number | null;
  export_csv_ms: number | null;
  export_json_ms: number | null;
  export_json_mb: number | null;
  /** Absent in reports of builds without a ZIP export. */
  export_zip_ms?: number | null;
  export_zip_mb?: number | null;
  note: string;
}

export interface HistoryBenchReport {
  kind: 'history-bench';
  label: string;
  created: string;
  app: string;
  machine: MachineReport;
  /** 1-minute load average at the start and the end of the runs (absent in older reports). */
  load_average?: [number, number];
  target: string;
  runs: HistoryBenchRun[];
}

const cell = (value: number | null, unit = ''): string => (value === null ? '–' : `${value.toLocaleString('en-US')}${unit}`);

export function benchHistoryTable(reports: readonly HistoryBenchReport[]): string {
  const lines = [
    '<!-- written by scripts/bench-history.ts from docs/bench/history-*.json; do not edit -->',
    '| build | entries | first start | upgrade done | History first rows | rows in DOM | JS heap (after GC) | scroll frame p50 / p95 / max | export CSV | export JSON (size) | export ZIP (size) | note |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const report of reports) {
    for (const r of report.runs) {
      lines.push(`| ${report.label} | ${cell(r.entries)} | ${cell(r.first_start_ms, ' ms')} | ${cell(r.upgrade_ms ?? null, ' ms')} | ${cell(r.first_rows_ms, ' ms')} | ${cell(r.rows_rendered)} | `
        + `${cell(r.heap_mb, ' MB')} | ${cell(r.scroll_frame_p50_ms)} / ${cell(r.scroll_frame_p95_ms)} / ${cell(r.scroll_frame_max_ms, ' ms')} | `
        + `${cell(r.export_csv_ms, ' ms')} | ${cell(r.export_json_ms, ' ms')} (${cell(r.export_json_mb, ' MB')}) | `
        + `${cell(r.export_zip_ms ?? null, ' ms')} (${cell(r.export_zip_mb ?? null, ' MB')}) | ${r.note.replaceAll('|', '/')} |`);
    }
  }
  const machines = [...new Set(reports.map((r) => `${r.label}: ${r.created.slice(0, 16)}Z, ${r.machine.cpu}, ${r.machine.cores} cores`
    + (r.load_average ? `, load average ${r.load_average[0]} → ${r.load_average[1]} (shared machine)` : '')))];
  lines.push('', ...machines.map((m) => `- ${m}`));
  if (reports[0]) lines.push(`- ${reports[0].target}`);
  return lines.join('\n');
}
