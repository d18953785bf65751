// A test fixture: an in-memory HistoryRepository that can be told to fail like a full IndexedDB.
import type { HistoryEntry, HistoryRepository } from '../../src/history/types';

export class MemoryHistory implements HistoryRepository {
  entries = new Map<number, HistoryEntry>();
  private nextId = 1;
  /** When true, writes throw a DOMException named QuotaExceededError and change nothing. */
  full = false;

  private check(): void {
    if (this.full) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
  }
  async add(entry: HistoryEntry) {
    this.check();
    const id = this.nextId++;
    this.entries.set(id, structuredClone({ ...entry, id }));
    return id;
  }
  async list() {
    return [...this.entries.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt)).map((e) => structuredClone(e));
  }
  async get(id: number) {
    const e = this.entries.get(id);
    return e && structuredClone(e);
  }
  async update(entry: HistoryEntry) {
    this.check();
    if (entry.id === undefined || !this.entries.has(entry.id)) throw new Error('no such entry');
    this.entries.set(entry.id, structuredClone(entry));
  }
  async remove(id: number) { this.entries.delete(id); }
  async clear() { this.entries.clear(); }
}
