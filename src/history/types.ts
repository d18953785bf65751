// One saved diagnosis, as kept in IndexedDB and exported. Plain data only (no typed arrays, no bitmaps),
// so it round-trips through structured clone, JSON and CSV unchanged.
import type { DiagnosisOutcome, ExplainMethod, HeadFusion } from '../engine/types';

export interface SavedLocation {
  latitude: number;
  longitude: number;
  /** Metres, as the browser reports it. */
  accuracy: number;
}

/** What the engine said about how far to trust the answer. */
export type HistoryOutcome = DiagnosisOutcome;
export const HISTORY_OUTCOMES: readonly HistoryOutcome[] = ['sure', 'unsure', 'not-bean-leaf'];

/** The combined answer of a several-leaf check (its leaf entries share the check's `groupId`). */
export interface HistoryGroup {
  leafIds?: number[];
  leafCount: number;
  /** Leaves the check refused (not a bean leaf, unusable photo). */
  refused: number;
  [detail: string]: unknown;
}

export interface HistoryEntry {
  /** Assigned by the database; absent before the first save. */
  id?: number;
  /** ISO 8601, UTC. */
  createdAt: string;
  /** A small JPEG of the photo as a data URL (about 256 px square), '' when there is none. The database keeps it
   * as an image Blob in its own store; list rows (`HistoryRow`) leave it out and read it lazily. */
  thumbnail: string;
  modelName: string;
  modelVersion: string;
  modelTrained: boolean;
  /** The model's validation accuracy as its files state it (absent in entries saved before it was kept). */
  modelValAccuracy?: number;
  labels: string[];
  probabilities: number[];
  top: number;
  explainedClass: number;
  method: ExplainMethod;
  startLayer: number;
  headFusion: HeadFusion;
  discardRatio: number;
  /** The min–max normalised G×G heatmap, row-major, so a reopened entry shows where the model looked. */
  heatmap: { gridSize: number; values: number[]; min: number; max: number };
  note?: string;
  location?: SavedLocation;
  /** Absent in entries saved before the app had a sure / unsure / not-a-leaf answer. */
  outcome?: HistoryOutcome;
  /** The field or plot the leaf came from, as the farmer named it. */
  field?: string;
  /** Every leaf entry of one several-leaf check shares it, and so does the check's combined entry. */
  groupId?: string;
  /** Only on the combined entry of a several-leaf check. */
  group?: HistoryGroup;
}

/** An entry as the list shows it: everything but the photo, always with its id. */
export type HistoryRow = Omit<HistoryEntry, 'thumbnail' | 'id'> & { id: number };

/** What the list and the exports show; every part optional. Dates are ISO strings, `to` exclusive. */
export interface HistoryQuery {
  /** A class label, or 'unsure' / 'not-bean-leaf' (see `entryCategory`). */
  category?: string;
  field?: string;
  from?: string;
  to?: string;
}

/** Counts of one week (Monday, local date 'YYYY-MM-DD') per category. */
export interface WeekCounts {
  week: string;
  counts: Record<string, number>;
  total: number;
}

export interface HistorySummary {
  /** Whole checks: single diagnoses and several-leaf checks (not their leaves). */
  checks: number;
  /** Checks whose answer is a disease (a class other than healthy, given as sure). */
  diseased: number;
  /** ISO date of the newest entry, null when there is none. */
  lastCheck: string | null;
  /** Oldest first, only weeks with checks. */
  weeks: WeekCounts[];
}

export interface ImportReport {
  added: number;
  duplicates: number;
  /** Entries that could not be read, with the first few reasons. */
  skipped: number;
  problems: string[];
}

/** What the store needs from the history database (a fake in tests, IndexedDB in the app). */
export interface HistoryRepository {
  add(entry: HistoryEntry): Promise<number>;
  /** The full entry, photo included. */
  get(id: number): Promise<HistoryEntry | undefined>;
  /** Rewrites an entry; an empty `thumbnail` keeps the stored photo. */
  update(entry: HistoryEntry): Promise<void>;
  remove(id: number): Promise<void>;
  clear(): Promise<void>;
  count(query?: HistoryQuery): Promise<number>;
  /** Newest first. */
  page(query: HistoryQuery, offset: number, limit: number): Promise<HistoryRow[]>;
  thumbnail(id: number): Promise<Blob | undefined>;
  /** Field names used so far, sorted. */
  fields(): Promise<string[]>;
  summary(field?: string): Promise<HistorySummary>;
  /** Every entry, oldest first, in batches with its photo (exports). Resolves the number visited. */
  forEachBatch(visit: (batch: HistoryBatchItem[]) => Promise<void> | void, options?: { photos?: boolean }): Promise<number>;
  /** Entries an upgrade from an older schema has still to finish (their filters and summaries follow). */
  upgradeRemaining?(): Promise<number>;
  /** Adds what is not there yet (imports); never overwrites. */
  addMissing(items: readonly { entry: HistoryEntry; photo?: Blob }[]): Promise<{ added: number; duplicates: number }>;
}

export interface HistoryBatchItem {
  row: HistoryRow;
  photo: Blob | undefined;
  /** A schema-1 photo kept as text because it was not a readable data URL. */
  legacyPhoto?: string;
}
