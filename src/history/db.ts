// IndexedDB through `idb`: saved diagnoses plus a small key–value store for settings that must survive a
// reload (a custom classifier head, a model folder loaded from disk). A failed write aborts its own
// transaction only, so a full quota never touches what was saved before.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { HistoryEntry, HistoryRepository } from './types';

export const DB_NAME = 'leaf-lens';
const DB_VERSION = 1;

interface LeafLensDb extends DBSchema {
  diagnoses: { key: number; value: HistoryEntry; indexes: { createdAt: string } };
  settings: { key: string; value: unknown };
}

let dbPromise: Promise<IDBPDatabase<LeafLensDb>> | null = null;

function db(): Promise<IDBPDatabase<LeafLensDb>> {
  dbPromise ??= openDB<LeafLensDb>(DB_NAME, DB_VERSION, {
    upgrade(database) {
      const diagnoses = database.createObjectStore('diagnoses', { keyPath: 'id', autoIncrement: true });
      diagnoses.createIndex('createdAt', 'createdAt');
      database.createObjectStore('settings');
    },
    blocking() {
      // Another tab upgrades the schema: let it, and reopen on the next call.
      void dbPromise?.then((d) => d.close());
      dbPromise = null;
    },
  });
  return dbPromise;
}

export const indexedDbHistory: HistoryRepository = {
  async add(entry) {
    const { id: _ignored, ...withoutId } = entry;
    return (await db()).add('diagnoses', withoutId as HistoryEntry);
  },
  async list() {
    const all = await (await db()).getAllFromIndex('diagnoses', 'createdAt');
    return all.reverse();
  },
  async get(id) {
    return (await db()).get('diagnoses', id);
  },
  async update(entry) {
    if (entry.id === undefined) throw new Error('update() needs a saved entry (with an id)');
    await (await db()).put('diagnoses', entry);
  },
  async remove(id) {
    await (await db()).delete('diagnoses', id);
  },
  async clear() {
    await (await db()).clear('diagnoses');
  },
};

export async function readSetting<T>(key: string): Promise<T | undefined> {
  return (await (await db()).get('settings', key)) as T | undefined;
}

export async function writeSetting(key: string, value: unknown): Promise<void> {
  await (await db()).put('settings', value, key);
}

export async function deleteSetting(key: string): Promise<void> {
  await (await db()).delete('settings', key);
}
