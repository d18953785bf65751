// IndexedDB through `idb`: saved diagnoses, their photos, and a small key–value store for settings that must
// survive a reload (a custom classifier head, a model folder loaded from disk). A failed write aborts its own
// transaction only, so a full quota never touches what was saved before.
//
// Schema 2 (season scale): entries without their photo, plus the derived `keys` the indexes need; photos as
// image Blobs in `thumbnails` (same id), read only for rows on screen. Lists page through an index cursor and
// summaries count index ranges, so nothing reads every entry.
//
// Upgrading a schema-1 database (one record per entry, its photo a data-URL string): the upgrade transaction only
// adds the stores and indexes and notes where the work starts (UPGRADE_KEY in `settings`); `finishUpgrade` then
// adds each entry's keys and moves its photo into a Blob, 100 entries per transaction (each all or nothing, the
// position saved with it), while the app runs. Rewriting 10,000 records and writing 10,000 Blobs inside the
// upgrade held the first start for over a minute here. Until an entry is done it is still listed (the
// `createdAt` index needs no keys) and every read uses the photo text in its record; filters and summaries count
// it once its keys exist. Schema 3 added `pendingPhoto` (photos left in records by an interim build).
import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';
import { blobToDataUrl, dataUrlToBlob } from './dataUrl';
import { entryFingerprint, entryKeys, indexPlan, isDiseasedCategory, matchesQuery, type EntryKeys } from './keys';
import type { HistoryBatchItem, HistoryEntry, HistoryQuery, HistoryRepository, HistoryRow, HistorySummary, WeekCounts } from './types';

export const DB_NAME = 'leaf-lens';
export const DB_VERSION = 3;

/** A stored record: the entry without its photo, and its index keys (absent until `finishUpgrade` reaches a
 * schema-1 entry). A schema-1 photo stays here as text until then, or for good when it is not a readable data URL. */
export type StoredEntry = Omit<HistoryEntry, 'thumbnail'> & { keys: EntryKeys; thumbnail?: string; pendingPhoto?: 1 };

interface LeafLensDb extends DBSchema {
  diagnoses: {
    key: number;
    value: StoredEntry;
    indexes: {
      createdAt: string;
      category: [string, string];
      field: [string, string];
      fieldCategory: [string, string, string];
      summaryAll: [number, string, string];
      summaryField: [number, string, string, string];
      pendingPhoto: number;
    };
  };
  thumbnails: { key: number; value: Blob };
  settings: { key: string; value: unknown };
}

type UpgradeTx = IDBPTransaction<LeafLensDb, StoreNames<LeafLensDb>[], 'versionchange'>;

/** Where `finishUpgrade` continues: entries with a larger id still need keys and a Blob photo. */
export const UPGRADE_KEY = 'history-upgrade';
interface UpgradeState { after: number }

/** Schema 1 → 2: stores and indexes only; the entries are done by `finishUpgrade`. */
async function upgradeToV2(database: IDBPDatabase<LeafLensDb>, transaction: UpgradeTx): Promise<void> {
  database.createObjectStore('thumbnails');
  const diagnoses = transaction.objectStore('diagnoses');
  diagnoses.createIndex('category', ['keys.category', 'createdAt']);
  diagnoses.createIndex('field', ['keys.field', 'createdAt']);
  diagnoses.createIndex('fieldCategory', ['keys.field', 'keys.category', 'createdAt']);
  diagnoses.createIndex('summaryAll', ['keys.check', 'keys.week', 'keys.category']);
  diagnoses.createIndex('summaryField', ['keys.check', 'keys.field', 'keys.week', 'keys.category']);
  if (await diagnoses.count() > 0) await transaction.objectStore('settings').put({ after: 0 } satisfies UpgradeState, UPGRADE_KEY);
}

export function openHistoryDb(name = DB_NAME): Promise<IDBPDatabase<LeafLensDb>> {
  return openDB<LeafLensDb>(name, DB_VERSION, {
    async upgrade(database, oldVersion, _newVersion, transaction) {
      if (oldVersion < 1) {
        const diagnoses = database.createObjectStore('diagnoses', { keyPath: 'id', autoIncrement: true });
        diagnoses.createIndex('createdAt', 'createdAt');
        database.createObjectStore('settings');
      }
      if (oldVersion < 2) await upgradeToV2(database, transaction);
      if (oldVersion < 3) transaction.objectStore('diagnoses').createIndex('pendingPhoto', 'pendingPhoto');
    },
    blocking(_current, _next, event) {
      // Another tab upgrades the schema: let it, and reopen on the next call.
      (event.target as IDBDatabase).close();
      openDbs.delete(name);
    },
  });
}

const openDbs = new Map<string, Promise<IDBPDatabase<LeafLensDb>>>();

function db(name: string): Promise<IDBPDatabase<LeafLensDb>> {
  let opened = openDbs.get(name);
  if (!opened) {
    opened = openHistoryDb(name);
    openDbs.set(name, opened);
    opened.catch(() => openDbs.delete(name));
  }
  return opened;
}

function toRecord(entry: HistoryEntry): { record: StoredEntry; photo: Blob | null } {
  const { thumbnail, id, ...rest } = entry;
  const record: StoredEntry = { ...rest, keys: entryKeys(entry) };
  if (id !== undefined) record.id = id;
  return { record, photo: thumbnail ? dataUrlToBlob(thumbnail) : null };
}

function toRow(record: StoredEntry): HistoryRow {
  const { keys: _keys, thumbnail: _legacy, ...row } = record;
  return row as HistoryRow;
}

function rangeOf(query: HistoryQuery): { index: ReturnType<typeof indexPlan>['index']; range: IDBKeyRange } {
  const plan = indexPlan(query);
  // `to` is exclusive; `from` inclusive.
  return { index: plan.index, range: IDBKeyRange.bound(plan.lower, plan.upper, false, true) };
}

/** Everything per-database, so tests can open a throwaway database by name. */
export function historyRepository(name = DB_NAME) {
  const open = () => db(name);
  return {
    async add(entry: HistoryEntry): Promise<number> {
      const { record, photo } = toRecord({ ...entry, id: undefined } as HistoryEntry);
      delete record.id;
      const tx = (await open()).transaction(['diagnoses', 'thumbnails'], 'readwrite');
      const id = await tx.objectStore('diagnoses').add(record);
      if (photo) await tx.objectStore('thumbnails').put(photo, id);
      await tx.done;
      return id;
    },

    async get(id: number): Promise<HistoryEntry | undefined> {
      const tx = (await open()).transaction(['diagnoses', 'thumbnails']);
      const [record, photo] = await Promise.all([tx.objectStore('diagnoses').get(id), tx.objectStore('thumbnails').get(id)]);
      await tx.done;
      if (!record) return undefined;
      const thumbnail = photo ? await blobToDataUrl(photo) : (record.thumbnail ?? '');
      return { ...toRow(record), thumbnail };
    },

    async update(entry: HistoryEntry): Promise<void> {
      if (entry.id === undefined) throw new Error('update() needs a saved entry (with an id)');
      const { record, photo } = toRecord(entry);
      const tx = (await open()).transaction(['diagnoses', 'thumbnails'], 'readwrite');
      const old = await tx.objectStore('diagnoses').get(entry.id);
      if (!photo && old?.thumbnail) {
        record.thumbnail = old.thumbnail;
        if (old.pendingPhoto) record.pendingPhoto = 1;
      }
      await tx.objectStore('diagnoses').put(record);
      if (photo) await tx.objectStore('thumbnails').put(photo, entry.id);
      await tx.done;
    },

    async remove(id: number): Promise<void> {
      const tx = (await open()).transaction(['diagnoses', 'thumbnails'], 'readwrite');
      await Promise.all([tx.objectStore('diagnoses').delete(id), tx.objectStore('thumbnails').delete(id), tx.done]);
    },

    async clear(): Promise<void> {
      const tx = (await open()).transaction(['diagnoses', 'thumbnails'], 'readwrite');
      await Promise.all([tx.objectStore('diagnoses').clear(), tx.objectStore('thumbnails').clear(), tx.done]);
    },

    async count(query: HistoryQuery = {}): Promise<number> {
      const { index, range } = rangeOf(query);
      return (await open()).countFromIndex('diagnoses', index, range);
    },

    async page(query: HistoryQuery, offset: number, limit: number): Promise<HistoryRow[]> {
      const { index, range } = rangeOf(query);
      const tx = (await open()).transaction('diagnoses');
      let cursor = await tx.store.index(index).openCursor(range, 'prev');
      if (cursor && offset > 0) cursor = await cursor.advance(offset);
      const rows: HistoryRow[] = [];
      while (cursor && rows.length < limit) {
        rows.push(toRow(cursor.value));
        cursor = await cursor.continue();
      }
      await tx.done;
      return rows;
    },

    async thumbnail(id: number): Promise<Blob | undefined> {
      const database = await open();
      const blob = await database.get('thumbnails', id);
      if (blob) return blob;
      // A schema-1 photo not moved yet (or not a readable data URL: then text, which no row shows as an image).
      const legacy = (await database.get('diagnoses', id))?.thumbnail;
      return legacy ? (dataUrlToBlob(legacy) ?? new Blob([legacy], { type: 'text/plain' })) : undefined;
    },

    async fields(): Promise<string[]> {
      const tx = (await open()).transaction('diagnoses');
      const names: string[] = [];
      let cursor = await tx.store.index('field').openKeyCursor(IDBKeyRange.lowerBound([' ', '']));
      // One step per distinct field: jump past all of its dates.
      while (cursor) {
        const name = (cursor.key as [string, string])[0];
        if (name) names.push(name);
        cursor = await cursor.continue([name, '\uffff\uffff']);
      }
      await tx.done;
      return names.sort((a, b) => a.localeCompare(b));
    },

    async summary(field?: string): Promise<HistorySummary> {
      const tx = (await open()).transaction('diagnoses');
      const index = field === undefined ? tx.store.index('summaryAll') : tx.store.index('summaryField');
      const prefix: (string | number)[] = field === undefined ? [1] : [1, field];
      const weeks = new Map<string, WeekCounts>();
      let checks = 0;
      let diseased = 0;
      // One key per distinct (week, category): count it, then jump past its duplicates.
      let cursor = await index.openKeyCursor(IDBKeyRange.bound(prefix, [...prefix, []]) as IDBKeyRange);
      while (cursor) {
        const key = cursor.key as unknown as (string | number)[];
        const n = await index.count(IDBKeyRange.only(key));
        const week = String(key[key.length - 2]);
        const category = String(key[key.length - 1]);
        const bucket = weeks.get(week) ?? { week, counts: {}, total: 0 };
        bucket.counts[category] = (bucket.counts[category] ?? 0) + n;
        bucket.total += n;
        weeks.set(week, bucket);
        checks += n;
        if (isDiseasedCategory(category)) diseased += n;
        cursor = await cursor.continue([...key, []] as never);
      }
      const newest = field === undefined
        ? await tx.store.index('createdAt').openCursor(null, 'prev')
        : await tx.store.index('field').openCursor(IDBKeyRange.bound([field, ''], [field, '\uffff']), 'prev');
      const lastCheck = newest?.value.createdAt ?? null;
      await tx.done;
      return { checks, diseased, lastCheck, weeks: [...weeks.values()].sort((a, b) => a.week.localeCompare(b.week)) };
    },

    /** Entries oldest first in batches (id order), each with its photo Blob: for exports, whatever the size. */
    async forEachBatch(
      visit: (batch: HistoryBatchItem[]) => Promise<void> | void,
      options: { batchSize?: number; query?: HistoryQuery; photos?: boolean } = {},
    ): Promise<number> {
      const size = options.batchSize ?? 200;
      let after: number | null = null;
      let total = 0;
      for (;;) {
        const tx = (await open()).transaction(['diagnoses', 'thumbnails']);
        const range = after === null ? null : IDBKeyRange.lowerBound(after, true);
        let cursor = await tx.objectStore('diagnoses').openCursor(range);
        const records: StoredEntry[] = [];
        while (cursor && records.length < size) {
          records.push(cursor.value);
          cursor = await cursor.continue();
        }
        const chosen = options.query ? records.filter((r) => matchesQuery(toRow(r), options.query!)) : records;
        const photos = options.photos === false
          ? chosen.map(() => undefined)
          : await Promise.all(chosen.map((r) => tx.objectStore('thumbnails').get(r.id!)));
        await tx.done;
        if (records.length === 0) return total;
        after = records[records.length - 1]!.id!;
        const batch = chosen.map((r, i) => ({ row: toRow(r), photo: photos[i], ...(r.thumbnail ? { legacyPhoto: r.thumbnail } : {}) }));
        total += batch.length;
        if (batch.length > 0) await visit(batch);
        if (records.length < size) return total;
      }
    },

    /** Adds entries that are not there yet (same time, model and answer = a duplicate); never overwrites. */
    async addMissing(items: readonly { entry: HistoryEntry; photo?: Blob }[]): Promise<{ added: number; duplicates: number }> {
      const prepared = items.map(({ entry, photo }) => {
        const converted = toRecord({ ...entry, id: undefined } as HistoryEntry);
        return { record: converted.record, photo: photo ?? converted.photo, fingerprint: entryFingerprint(entry) };
      });
      const tx = (await open()).transaction(['diagnoses', 'thumbnails'], 'readwrite');
      const byTime = tx.objectStore('diagnoses').index('createdAt');
      // All look-ups queued at once, then the writes: a batch costs a few round trips, not two per entry.
      const sameTimes = await Promise.all(prepared.map(({ record }) => byTime.getAll(record.createdAt)));
      const seen = new Set<string>();
      const writes: Promise<unknown>[] = [];
      let added = 0;
      let duplicates = 0;
      prepared.forEach(({ record, photo, fingerprint }, i) => {
        delete record.id;
        if (seen.has(fingerprint) || sameTimes[i]!.some((r) => entryFingerprint(r) === fingerprint)) {
          duplicates++;
          return;
        }
        seen.add(fingerprint);
        writes.push(tx.objectStore('diagnoses').add(record).then((id) => (photo ? tx.objectStore('thumbnails').put(photo, id) : undefined)));
        added++;
      });
      await Promise.all(writes);
      await tx.done;
      return { added, duplicates };
    },

    /** Finishes a schema-1 upgrade (keys added, photo text → Blob), `chunk` entries per transaction, yielding
     * between chunks; also moves any photo an interim build left in a record. Resolves the entries done. */
    async finishUpgrade(chunk = 100): Promise<number> {
      let done = 0;
      for (;;) {
        const tx = (await open()).transaction(['diagnoses', 'thumbnails', 'settings'], 'readwrite');
        const diagnoses = tx.objectStore('diagnoses');
        const state = await tx.objectStore('settings').get(UPGRADE_KEY) as UpgradeState | undefined;
        const records = state
          ? await diagnoses.getAll(IDBKeyRange.lowerBound(state.after, true), chunk)
          : await diagnoses.index('pendingPhoto').getAll(1, chunk);
        const writes: Promise<unknown>[] = [];
        for (const record of records) {
          record.keys ??= entryKeys(record as unknown as HistoryEntry);
          const blob = record.thumbnail ? dataUrlToBlob(record.thumbnail) : null;
          if (blob) {
            writes.push(tx.objectStore('thumbnails').put(blob, record.id!));
            delete record.thumbnail;
          } else if (record.thumbnail === '') {
            delete record.thumbnail;
          }
          delete record.pendingPhoto;
          writes.push(diagnoses.put(record));
        }
        const finished = records.length < chunk;
        if (state) {
          writes.push(finished
            ? tx.objectStore('settings').delete(UPGRADE_KEY)
            : tx.objectStore('settings').put({ after: records[records.length - 1]!.id! } satisfies UpgradeState, UPGRADE_KEY));
        }
        await Promise.all(writes);
        await tx.done;
        done += records.length;
        if (finished) return done;
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    },

    /** Entries a schema-1 upgrade has still to finish (0 when none is under way). */
    async upgradeRemaining(): Promise<number> {
      const database = await open();
      const state = await database.get('settings', UPGRADE_KEY) as UpgradeState | undefined;
      return state ? database.count('diagnoses', IDBKeyRange.lowerBound(state.after, true)) : 0;
    },

    async readSetting<T>(key: string): Promise<T | undefined> {
      return (await (await open()).get('settings', key)) as T | undefined;
    },
    async writeSetting(key: string, value: unknown): Promise<void> {
      await (await open()).put('settings', value, key);
    },
    async deleteSetting(key: string): Promise<void> {
      await (await open()).delete('settings', key);
    },
    /** Closes this tab's connection (tests that delete the database). */
    async close(): Promise<void> {
      const opened = openDbs.get(name);
      openDbs.delete(name);
      (await opened)?.close();
    },
  };
}

export type IndexedDbHistory = ReturnType<typeof historyRepository>;

export const indexedDbHistory: IndexedDbHistory & HistoryRepository = historyRepository();

export const readSetting = <T>(key: string) => indexedDbHistory.readSetting<T>(key);
export const writeSetting = (key: string, value: unknown) => indexedDbHistory.writeSetting(key, value);
export const deleteSetting = (key: string) => indexedDbHistory.deleteSetting(key);
