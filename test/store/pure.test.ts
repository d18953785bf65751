// Pure helpers behind the store: error mapping, history export.
import { describe, expect, test } from 'vitest';
import { historyToCsv, historyToJson, csvField } from '../../src/history/export';
import type { HistoryEntry } from '../../src/history/types';
import { isQuotaError, toUiError } from '../../src/store/errors';
import { ACCURACY_FLOOR, modelQuality, qualityMarkKey } from '../../src/store/modelQuality';

describe('modelQuality', () => {
  test('untrained wins over any accuracy', () => {
    expect(modelQuality(false, 0.99)).toEqual({ kind: 'untrained' });
  });
  test('a trained model under the ship floor is preliminary, at the floor it is tested', () => {
    expect(modelQuality(true, 0.78)).toEqual({ kind: 'preliminary', valAccuracy: 0.78 });
    expect(modelQuality(true, ACCURACY_FLOOR)).toEqual({ kind: 'tested', valAccuracy: ACCURACY_FLOOR });
    expect(ACCURACY_FLOOR).toBe(0.85);
  });
  test('the mark beside an answer names untrained and preliminary models only', () => {
    expect(qualityMarkKey({ kind: 'untrained' })).toBe('history.untrained');
    expect(qualityMarkKey({ kind: 'preliminary', valAccuracy: 0.8 })).toBe('history.preliminary');
    expect(qualityMarkKey({ kind: 'tested', valAccuracy: 0.9 })).toBeNull();
  });
  test('an unknown or unreadable accuracy does not invent a warning', () => {
    expect(modelQuality(true, undefined)).toEqual({ kind: 'tested' });
    expect(modelQuality(true, Number.NaN).kind).toBe('tested');
  });
});

describe('errors', () => {
  test('QuotaExceededError, direct or wrapped, becomes storage-full', () => {
    const quota = new DOMException('full', 'QuotaExceededError');
    expect(isQuotaError(quota)).toBe(true);
    expect(isQuotaError(new Error('x', { cause: quota }))).toBe(true);
    expect(toUiError(quota).code).toBe('storage-full');
    expect(isQuotaError(new Error('other'))).toBe(false);
  });
  test('an engine-style error keeps its code and detail', () => {
    const e = Object.assign(new Error('The photo file is empty.'), { code: 'image-empty', detail: '0 bytes' });
    expect(toUiError(e)).toEqual({ code: 'image-empty', message: 'The photo file is empty.', detail: '0 bytes' });
  });
});

function entry(overrides: Partial<HistoryEntry> = {}): HistoryEntry {
  return {
    id: 3, createdAt: '2026-11-26T10:00:00.000Z', thumbnail: 'data:image/jpeg;base64,AAAA', modelName: 'fixture',
    modelVersion: '0.1', modelTrained: false, labels: ['angular_leaf_spot', 'bean_rust', 'healthy'],
    probabilities: [0.1, 0.7, 0.2], top: 1, explainedClass: 1, method: 'relevance', startLayer: 0, headFusion: 'mean',
    discardRatio: 0, heatmap: { gridSize: 2, values: [0, 0.5, 1, 0.25], min: -1, max: 2 }, ...overrides,
  };
}

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

describe('history export', () => {
  test('CSV has a header and one row per entry; awkward notes survive a parse', () => {
    const note = 'field "B", row 3\nsecond line';
    const csv = historyToCsv([entry({ note, location: { latitude: 0.5, longitude: 32.1, accuracy: 9 } }), entry({ id: 4 })]);
    const rows = parseCsv(csv);
    expect(rows).toHaveLength(3);
    const header = rows[0]!;
    const first = Object.fromEntries(header.map((h, i) => [h, rows[1]![i]]));
    expect(first.note).toBe(note);
    expect(first.top_class).toBe('bean_rust');
    expect(first.top_probability).toBe('0.7000');
    expect(first.latitude).toBe('0.5');
    expect(first.probabilities).toBe('angular_leaf_spot=0.1000;bean_rust=0.7000;healthy=0.2000');
    expect(rows[2]![0]).toBe('4');
    expect(first.model_val_accuracy).toBe('');
    const withAccuracy = parseCsv(historyToCsv([entry({ modelTrained: true, modelValAccuracy: 0.7846 })]));
    expect(withAccuracy[1]![header.indexOf('model_val_accuracy')]).toBe('0.7846');
  });
  test('CSV neutralises spreadsheet formulas in notes', () => {
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
  });
  test('JSON round-trips every entry with its thumbnail and heatmap', () => {
    const entries = [entry(), entry({ id: 9, note: 'ok' })];
    const parsed = JSON.parse(historyToJson(entries, new Date('2026-11-26T12:00:00Z')));
    expect(parsed.format).toBe('leaf-lens-history');
    expect(parsed.exportedAt).toBe('2026-11-26T12:00:00.000Z');
    expect(parsed.entries).toEqual(entries);
  });
});
