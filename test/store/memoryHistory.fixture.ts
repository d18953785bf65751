// A test fixture: an in-memory HistoryRepository that can be told to fail like a full IndexedDB. Filters and
// summaries use the same pure key functions as the IndexedDB repository (src/history/keys.ts).
import { dataUrlToBlob } from '../../src/history/dataUrl';
import { entryFingerprint, entryKeys, isDiseasedCategory, matchesQuery } from '../../src/history/keys';
import type {
  HistoryBatchItem, HistoryEntry, HistoryQuery, HistoryRepository, HistoryRow, HistorySummary, WeekCounts,
} from '../../src/history/types';

export class MemoryHistory implements HistoryRepository {
  entries = new Map<number, HistoryEntry>();
  private nextId = 1;
  /** When true, writes throw a DOMException named QuotaExceededError and change nothing. */
  full = false;

  private check(): void {
    if (this.full) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
  }
  /** Newest first, like the app's list. */
  async list(query: HistoryQuery = {}): Promise<HistoryEntry[]> {
    return [...this.entries.values()].filter((e) => matchesQuery(e, query))
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id! - a.id!).map((e) => structuredClone(e));
  }
  async add(entry: HistoryEntry) {
    this.check();
    const id = this.nextId++;
    this.entries.set(id, structuredClone({ ...entry, id }));
    return id;
  }
  async get(id: number) {
    const e = this.entries.get(id);
    return e && structuredClone(e);
  }
  async update(entry: HistoryEntry) {
    this.check();
    const old = entry.id === undefined ? undefined : this.entries.get(entry.id);
    if (!old) throw new Error('no such entry');
    this.entries.set(entry.id!, structuredClone({ ...entry, thumbnail: entry.thumbnail || old.thumbnail }));
  }
  async remove(id: number) { this.entries.delete(id); }
  async clear() { this.entries.clear(); }
  async count(query: HistoryQuery = {}) { return (await this.list(query)).length; }
  async page(query: HistoryQuery, offset: number, limit: number): Promise<HistoryRow[]> {
    return (await this.list(query)).slice(offset, offset + limit).map(({ thumbnail: _t, ...row }) => row as HistoryRow);
  }
  async thumbnail(id: number) {
    const url = this.entries.get(id)?.thumbnail;
    return (url && dataUrlToBlob(url)) || undefined;
  }
  async fields() {
    return [...new Set([...this.entries.values()].map((e) => e.field ?? '').filter(Boolean))].sort((a, b) => a.localeCompare(b));
  }
  async summary(field?: string): Promise<HistorySummary> {
    const chosen = await this.list(field === undefined ? {} : { field });
    const weeks = new Map<string, WeekCounts>();
    let checks = 0;
    let diseased = 0;
    for (const e of chosen) {
      const keys = entryKeys(e);
      if (!keys.check) continue;
      const bucket = weeks.get(keys.week) ?? { week: keys.week, counts: {}, total: 0 };
      bucket.counts[keys.category] = (bucket.counts[keys.category] ?? 0) + 1;
      bucket.total++;
      weeks.set(keys.week, bucket);
      checks++;
      if (isDiseasedCategory(keys.category)) diseased++;
    }
    return { checks, diseased, lastCheck: chosen[0]?.createdAt ?? null, weeks: [...weeks.values()].sort((a, b) => a.week.localeCompare(b.week)) };
  }
  async forEachBatch(visit: (batch: HistoryBatchItem[]) => Promise<void> | void) {
    const all = [...this.entries.values()].sort((a, b) => a.id! - b.id!);
    for (let i = 0; i < all.length; i += 3) {
      await visit(all.slice(i, i + 3).map(({ thumbnail, ...row }) => ({ row: structuredClone(row) as HistoryRow, photo: (thumbnail && dataUrlToBlob(thumbnail)) || undefined })));
    }
    return all.length;
  }
  async addMissing(items: readonly { entry: HistoryEntry; photo?: Blob }[]) {
    this.check();
    const known = new Set([...this.entries.values()].map(entryFingerprint));
    let added = 0;
    let duplicates = 0;
    for (const { entry, photo } of items) {
      const fingerprint = entryFingerprint(entry);
      if (known.has(fingerprint)) { duplicates++; continue; }
      known.add(fingerprint);
      const thumbnail = photo ? `data:${photo.type};base64,${Buffer.from(await photo.arrayBuffer()).toString('base64')}` : entry.thumbnail;
      await this.add({ ...entry, thumbnail });
      added++;
    }
    return { added, duplicates };
  }
}
