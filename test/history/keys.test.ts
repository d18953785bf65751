// What the database indexes for an entry, which index answers a filter, and the season's weeks.
import { describe, expect, test } from 'vitest';
import { entryCategory, entryKeys, indexPlan, isDiseasedCategory, matchesQuery, nextWeek, weekOf } from '../../src/history/keys';
import { chartCategories, seasonWeeks } from '../../src/history/summary';
import type { HistoryEntry } from '../../src/history/types';

const base = {
  createdAt: '2026-03-04T12:00:00.000Z', labels: ['angular_leaf_spot', 'bean_rust', 'healthy'], top: 1,
} as Pick<HistoryEntry, 'createdAt' | 'labels' | 'top'>;

describe('entry keys', () => {
  test('the category is the class when sure or unknown, the outcome otherwise', () => {
    expect(entryCategory(base)).toBe('bean_rust');
    expect(entryCategory({ ...base, outcome: 'sure' })).toBe('bean_rust');
    expect(entryCategory({ ...base, outcome: 'unsure' })).toBe('unsure');
    expect(entryCategory({ ...base, outcome: 'not-bean-leaf' })).toBe('not-bean-leaf');
    expect(isDiseasedCategory('bean_rust')).toBe(true);
    expect(isDiseasedCategory('healthy')).toBe(false);
    expect(isDiseasedCategory('unsure')).toBe(false);
  });

  test('weeks start on Monday (local time) and follow each other', () => {
    // 2026-03-04 is a Wednesday; its Monday is 2026-03-02. Noon keeps every time zone on the same day.
    expect(weekOf('2026-03-04T12:00:00.000Z')).toBe('2026-03-02');
    expect(weekOf('2026-03-02T12:00:00.000Z')).toBe('2026-03-02');
    expect(weekOf('2026-03-08T12:00:00.000Z')).toBe('2026-03-02');
    expect(weekOf('2026-03-09T12:00:00.000Z')).toBe('2026-03-09');
    expect(nextWeek('2026-12-28')).toBe('2027-01-04');
  });

  test('a leaf of a several-leaf check is not counted as a check; the group and single entries are', () => {
    expect(entryKeys({ ...base, field: 'North' } as HistoryEntry)).toEqual({ category: 'bean_rust', field: 'North', week: '2026-03-02', check: 1 });
    expect(entryKeys({ ...base, groupId: 'g' } as HistoryEntry).check).toBeUndefined();
    expect(entryKeys({ ...base, groupId: 'g', group: { leafCount: 2, refused: 0 } } as HistoryEntry).check).toBe(1);
  });

  test('each filter is one index range; dates bound the last key part, `to` exclusive', () => {
    expect(indexPlan({})).toEqual({ index: 'createdAt', lower: '', upper: '\uffff' });
    expect(indexPlan({ field: 'N', from: 'a', to: 'b' })).toEqual({ index: 'field', lower: ['N', 'a'], upper: ['N', 'b'] });
    expect(indexPlan({ category: 'healthy' }).index).toBe('category');
    expect(indexPlan({ field: 'N', category: 'unsure' })).toEqual({ index: 'fieldCategory', lower: ['N', 'unsure', ''], upper: ['N', 'unsure', '\uffff'] });
    const e = { ...base, field: 'N' } as HistoryEntry;
    expect(matchesQuery(e, { field: 'N', from: '2026-03-04T12:00:00.000Z' })).toBe(true);
    expect(matchesQuery(e, { to: '2026-03-04T12:00:00.000Z' })).toBe(false);
    expect(matchesQuery(e, { category: 'healthy' })).toBe(false);
  });
});

describe('season weeks', () => {
  test('empty weeks between checks are filled in; at most the last N weeks', () => {
    const weeks = seasonWeeks({ weeks: [
      { week: '2026-03-02', counts: { healthy: 2 }, total: 2 },
      { week: '2026-03-23', counts: { bean_rust: 1, unsure: 1 }, total: 2 },
    ] });
    expect(weeks.map((w) => [w.week, w.total])).toEqual([['2026-03-02', 2], ['2026-03-09', 0], ['2026-03-16', 0], ['2026-03-23', 2]]);
    expect(seasonWeeks({ weeks: weeks }, 2).map((w) => w.week)).toEqual(['2026-03-16', '2026-03-23']);
    expect(chartCategories(weeks, ['angular_leaf_spot', 'bean_rust', 'healthy'])).toEqual(['bean_rust', 'healthy', 'unsure']);
    expect(chartCategories([{ week: 'w', counts: { 'not-bean-leaf': 1, 'web blight': 2, healthy: 1 }, total: 4 }], ['healthy'])).toEqual(['healthy', 'web blight', 'not-bean-leaf']);
  });
});

describe('photos between data URLs and Blobs', () => {
  test('base64 and percent-encoded data URLs decode to their bytes and back; other text is refused', async () => {
    const { blobToDataUrl, dataUrlToBlob } = await import('../../src/history/dataUrl');
    const bytes = new Uint8Array(70_000).map((_, i) => (i * 7) % 256);
    const url = `data:image/jpeg;base64,${Buffer.from(bytes).toString('base64')}`;
    const blob = dataUrlToBlob(url)!;
    expect(blob.type).toBe('image/jpeg');
    expect(new Uint8Array(await blob.arrayBuffer())).toEqual(bytes);
    expect(await blobToDataUrl(blob)).toBe(url);
    expect(await dataUrlToBlob('data:text/plain,a%20b')!.text()).toBe('a b');
    expect(dataUrlToBlob('https://example.org/x.jpg')).toBeNull();
    expect(dataUrlToBlob('data:image/jpeg;base64,@@@')).toBeNull();
  });
});
