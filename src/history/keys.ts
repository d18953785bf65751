// The derived values the database indexes for each entry, and which index answers a query. Pure, so the
// IndexedDB repository and the in-memory test fake agree on what a filter and a summary mean.
import type { HistoryEntry, HistoryQuery, HistoryRow } from './types';

/** Stored beside each entry so IndexedDB can index it (an index cannot compute). */
export interface EntryKeys {
  /** See `entryCategory`. */
  category: string;
  /** '' when the entry has no field. */
  field: string;
  /** Monday of the entry's week, local date. */
  week: string;
  /** 1 for a whole check (counted in summaries); absent on the leaves of a several-leaf check, which keeps them
   * out of the summary indexes. */
  check?: 1;
}

export const HEALTHY_LABEL = 'healthy';

/** The chart's and the filter's category: the class when the answer was sure (or saved before outcomes
 * existed), otherwise the outcome itself ('unsure', 'not-bean-leaf'). */
export function entryCategory(entry: Pick<HistoryEntry, 'labels' | 'top' | 'outcome'>): string {
  if (entry.outcome === 'unsure' || entry.outcome === 'not-bean-leaf') return entry.outcome;
  return entry.labels[entry.top] ?? '';
}

export function isOutcomeCategory(category: string): boolean {
  return category === 'unsure' || category === 'not-bean-leaf';
}

export function isDiseasedCategory(category: string): boolean {
  return category !== '' && category !== HEALTHY_LABEL && !isOutcomeCategory(category);
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Local date 'YYYY-MM-DD' of a Date. */
export function localDay(date: Date): string {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** Monday (local time) of the week an ISO timestamp falls in. */
export function weekOf(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const monday = new Date(d.getFullYear(), d.getMonth(), d.getDate() - ((d.getDay() + 6) % 7));
  return localDay(monday);
}

/** 'YYYY-MM-DD' local → the ISO instant of its local midnight. */
export function dayStartIso(day: string): string {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(y!, m! - 1, d!).toISOString();
}

/** The week after `week` ('YYYY-MM-DD' Monday). */
export function nextWeek(week: string): string {
  const [y, m, d] = week.split('-').map(Number);
  return localDay(new Date(y!, m! - 1, d! + 7));
}

export function entryKeys(entry: HistoryEntry | HistoryRow): EntryKeys {
  const keys: EntryKeys = { category: entryCategory(entry), field: entry.field ?? '', week: weekOf(entry.createdAt) };
  const leafOfGroup = entry.groupId !== undefined && entry.group === undefined;
  if (!leafOfGroup) keys.check = 1;
  return keys;
}

export function matchesQuery(entry: HistoryEntry | HistoryRow, query: HistoryQuery): boolean {
  const keys = entryKeys(entry);
  if (query.category !== undefined && keys.category !== query.category) return false;
  if (query.field !== undefined && keys.field !== query.field) return false;
  if (query.from !== undefined && entry.createdAt < query.from) return false;
  if (query.to !== undefined && entry.createdAt >= query.to) return false;
  return true;
}

/** The index that answers a query with one key range, and that range's ends (newest at `upper`). */
export interface IndexPlan {
  index: 'createdAt' | 'category' | 'field' | 'fieldCategory';
  lower: string | string[];
  upper: string | string[];
}

// ISO timestamps sort as strings; '' is below all of them and '\uffff' above.
const LOW = '';
const HIGH = '\uffff';

export function indexPlan(query: HistoryQuery): IndexPlan {
  const from = query.from ?? LOW;
  const to = query.to ?? HIGH;
  if (query.field !== undefined && query.category !== undefined) {
    return { index: 'fieldCategory', lower: [query.field, query.category, from], upper: [query.field, query.category, to] };
  }
  if (query.field !== undefined) return { index: 'field', lower: [query.field, from], upper: [query.field, to] };
  if (query.category !== undefined) return { index: 'category', lower: [query.category, from], upper: [query.category, to] };
  return { index: 'createdAt', lower: from, upper: to };
}

/** Two entries are the same check when time, model and answer agree (what an import calls a duplicate). */
export function entryFingerprint(entry: Pick<HistoryEntry, 'createdAt' | 'modelName' | 'labels' | 'top' | 'probabilities'>): string {
  return [entry.createdAt, entry.modelName, entry.labels[entry.top] ?? '', entry.probabilities.map((p) => p.toFixed(4)).join(',')].join('|');
}
