// Export (streamed CSV / JSON / ZIP) and import (JSON v1 and v2, ZIP) through the in-memory repository:
// round trips keep every entry, duplicates are detected, bad files are refused with a code and change nothing.
import { describe, expect, test } from 'vitest';
import { csvField, exportHistory } from '../../src/history/export';
import { normaliseFieldName } from '../../src/history/fieldName';
import { HistoryImportError, importHistoryFile, parseEntry } from '../../src/history/import';
import type { HistoryEntry } from '../../src/history/types';
import { MemoryHistory } from '../store/memoryHistory.fixture';

// A real 1×1 JPEG, so a photo is bytes, not just text.
const JPEG = 'data:image/jpeg;base64,/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=';

function entry(overrides: Partial<HistoryEntry> = {}): HistoryEntry {
  return {
    createdAt: '2026-11-26T10:00:00.000Z', thumbnail: JPEG, modelName: 'fixture',
    modelVersion: '0.1', modelTrained: false, labels: ['angular_leaf_spot', 'bean_rust', 'healthy'],
    probabilities: [0.1, 0.7, 0.2], top: 1, explainedClass: 1, method: 'relevance', startLayer: 0, headFusion: 'mean',
    discardRatio: 0, heatmap: { gridSize: 2, values: [0, 0.5, 1, 0.25], min: -1, max: 2 }, ...overrides,
  };
}

async function filled(entries: HistoryEntry[]): Promise<MemoryHistory> {
  const history = new MemoryHistory();
  for (const e of entries) await history.add(e);
  return history;
}

const sample = () => [
  entry({ note: 'field "B", row 3\nsecond line', location: { latitude: 0.5, longitude: 32.1, accuracy: 9 }, field: 'North plot' }),
  entry({ createdAt: '2026-11-27T09:30:00.000Z', top: 2, probabilities: [0.05, 0.05, 0.9], outcome: 'sure', field: 'River' }),
  entry({ createdAt: '2026-11-28T09:30:00.000Z', outcome: 'unsure', groupId: 'g1', group: { leafCount: 3, refused: 1, leafIds: [7, 8, 9] } }),
  entry({ createdAt: '2026-11-29T09:30:00.000Z', thumbnail: '', modelTrained: true, modelValAccuracy: 0.908 }),
];

/** A small RFC 4180 reader, to check the writer against an independent parse. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { row.push(field); field = ''; }
    else if (ch === '\r' && text[i + 1] === '\n') { row.push(field); rows.push(row); row = []; field = ''; i++; }
    else field += ch;
  }
  return rows;
}

/** Entries as a comparable list (ids differ between databases). */
async function contents(history: MemoryHistory) {
  return (await history.list()).map(({ id: _id, ...rest }) => rest);
}

describe('export', () => {
  test('CSV: a header and one row per entry, oldest first; notes, field and outcome survive a parse', async () => {
    const { blob, count, fileName } = await exportHistory(await filled(sample()), 'csv', new Date('2026-12-01T00:00:00Z'));
    expect(count).toBe(4);
    expect(fileName).toBe('leaf-lens-history-2026-12-01.csv');
    const rows = parseCsv(await blob.text());
    expect(rows).toHaveLength(5);
    const header = rows[0]!;
    const record = (i: number) => Object.fromEntries(header.map((h, k) => [h, rows[i]![k]]));
    expect(record(1).note).toBe('field "B", row 3\nsecond line');
    expect(record(1).field).toBe('North plot');
    expect(record(1).top_class).toBe('bean_rust');
    expect(record(1).probabilities).toBe('angular_leaf_spot=0.1000;bean_rust=0.7000;healthy=0.2000');
    expect(record(2).outcome).toBe('sure');
    expect(record(3).group_id).toBe('g1');
    expect(record(4).model_val_accuracy).toBe('0.9080');
  });

  test('CSV neutralises spreadsheet formulas', () => {
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
  });

  test('JSON: one entry per line, photos inline, parseable as a whole', async () => {
    const { blob } = await exportHistory(await filled(sample()), 'json', new Date('2026-12-01T00:00:00Z'));
    const text = await blob.text();
    const lines = text.trim().split('\n');
    expect(lines).toHaveLength(6);
    const parsed = JSON.parse(text);
    expect(parsed).toMatchObject({ format: 'leaf-lens-history', version: 2, exportedAt: '2026-12-01T00:00:00.000Z' });
    expect(parsed.entries).toHaveLength(4);
    expect(parsed.entries[0].thumbnail).toBe(JPEG);
    expect(parsed.entries[3].thumbnail).toBe('');
  });
});

describe('import', () => {
  test.each(['json', 'zip'] as const)('%s export → empty history → the same entries; a second import adds only duplicates', async (kind) => {
    const source = await filled(sample());
    const { blob } = await exportHistory(source, kind);
    const target = new MemoryHistory();
    const first = await importHistoryFile(blob, (items) => target.addMissing(items));
    expect(first).toEqual({ added: 4, duplicates: 0, skipped: 0, problems: [] });
    expect(await contents(target)).toEqual(await contents(source));
    const again = await importHistoryFile(blob, (items) => target.addMissing(items));
    expect(again).toMatchObject({ added: 0, duplicates: 4 });
    expect(target.entries.size).toBe(4);
  });

  test('a version-1 file (pretty-printed, as earlier builds wrote it) is read', async () => {
    const v1 = JSON.stringify({ format: 'leaf-lens-history', version: 1, exportedAt: '2026-11-26T12:00:00.000Z', entries: [entry({ id: 3 }), entry({ id: 4, createdAt: '2026-11-20T08:00:00.000Z', note: 'ok' })] }, null, 2);
    const target = new MemoryHistory();
    const report = await importHistoryFile(new Blob([v1]), (items) => target.addMissing(items));
    expect(report).toMatchObject({ added: 2, duplicates: 0, skipped: 0 });
    expect((await target.list()).map((e) => e.note)).toEqual([undefined, 'ok']);
  });

  test('bad entries are skipped with a reason; good ones are kept', async () => {
    const file = JSON.stringify({ format: 'leaf-lens-history', version: 1, entries: [entry(), { createdAt: 'yesterday' }, entry({ top: 7 }), 42] });
    const target = new MemoryHistory();
    const report = await importHistoryFile(new Blob([file]), (items) => target.addMissing(items));
    expect(report.added).toBe(1);
    expect(report.skipped).toBe(3);
    expect(report.problems).toEqual(['#2: no valid createdAt date', '#3: top class out of range', '#4: not an object']);
  });

  test.each([
    ['not-json', 'this is a photo, not a history'],
    ['not-json', '<html></html>'],
    ['not-history', '{"hello": "world"}'],
    ['not-history', '{"format":"leaf-lens-history","version":1}'],
    ['newer-version', '{"format":"leaf-lens-history","version":3,"entries":[]}'],
    ['empty', ''],
    ['bad-zip', new Uint8Array([0x50, 0x4b, 3, 4, 1, 2, 3])],
  ])('a bad file is refused as %s and nothing is written', async (code, content) => {
    const target = await filled([entry()]);
    const before = await contents(target);
    const error = await importHistoryFile(new Blob([content as BlobPart]), (items) => target.addMissing(items)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HistoryImportError);
    expect((error as HistoryImportError).code).toBe(code);
    expect(await contents(target)).toEqual(before);
  });

  test('entries are checked field by field', () => {
    expect(parseEntry(entry({ outcome: 'maybe' as never }))).toEqual({ problem: 'unknown outcome maybe' });
    expect(parseEntry(entry({ thumbnail: 'javascript:alert(1)' }))).toEqual({ problem: 'photo is not an image data URL' });
    expect(parseEntry({ ...entry(), heatmap: { gridSize: 3, values: [1], min: 0, max: 1 } })).toEqual({ problem: 'heatmap is missing or malformed' });
    const ok = parseEntry(entry({ field: '  North   plot ' }));
    expect('entry' in ok && ok.entry.field).toBe('North plot');
    expect(normaliseFieldName('x'.repeat(200))).toHaveLength(80);
  });
});
