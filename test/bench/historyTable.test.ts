// The history bench's table: one row per build and size, missing values as dashes, pipes in notes escaped.
import { expect, test } from 'vitest';
import { benchHistoryTable, type HistoryBenchReport, type HistoryBenchRun } from '../../bench/lib/historyTable';

const run = (entries: number, patch: Partial<HistoryBenchRun> = {}): HistoryBenchRun => ({
  entries, first_start_ms: 5000, first_rows_ms: 250, rows_rendered: 5, heap_mb: 7.1, scroll_frame_p50_ms: 16.7,
  scroll_frame_p95_ms: 16.7, scroll_frame_max_ms: 33.3, export_csv_ms: 600, export_json_ms: 4000, export_json_mb: 42,
  export_zip_ms: 3000, export_zip_mb: 40, note: '', ...patch,
});
const report = (label: string, runs: HistoryBenchRun[]): HistoryBenchReport => ({
  kind: 'history-bench', label, created: '2026-11-30T23:00:00.000Z', app: '.', target: 'vite preview',
  machine: { cpu: 'cpu', cores: 2, memory_bytes: 1, os: 'linux', node: 'v20' }, runs,
});

test('rows per build and size; nulls as dashes; a note cannot break the table', () => {
  const table = benchHistoryTable([
    report('before', [run(10000, { first_rows_ms: null, heap_mb: null, export_zip_ms: undefined, export_zip_mb: undefined, note: 'no rows | 150 s' })]),
    report('after', [run(10000, { upgrade_ms: 42000 })]),
  ]);
  const rows = table.split('\n').filter((l) => l.startsWith('| before') || l.startsWith('| after'));
  expect(rows).toHaveLength(2);
  expect(rows[0]).toContain('| before | 10,000 | 5,000 ms | – | – | 5 | – |');
  expect(rows[0]).toContain('no rows / 150 s');
  expect(rows[0]!.split('|')).toHaveLength(rows[1]!.split('|').length);
  expect(rows[1]).toContain('| 5,000 ms | 42,000 ms | 250 ms | 5 | 7.1 MB | 16.7 / 16.7 / 33.3 ms | 600 ms | 4,000 ms (42 MB) | 3,000 ms (40 MB) |');
});
