// One saved diagnosis, as kept in IndexedDB and exported. Plain data only (no typed arrays, no bitmaps),
// so it round-trips through structured clone, JSON and CSV unchanged.
import type { ExplainMethod, HeadFusion } from '../engine/types';

export interface SavedLocation {
  latitude: number;
  longitude: number;
  /** Metres, as the browser reports it. */
  accuracy: number;
}

export interface HistoryEntry {
  /** Assigned by the database; absent before the first save. */
  id?: number;
  /** ISO 8601, UTC. */
  createdAt: string;
  /** A small JPEG of the photo as a data URL (about 320 px on the long side). */
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
}

/** What the store needs from the history database (a fake in tests, IndexedDB in the app). */
export interface HistoryRepository {
  add(entry: HistoryEntry): Promise<number>;
  list(): Promise<HistoryEntry[]>;
  get(id: number): Promise<HistoryEntry | undefined>;
  update(entry: HistoryEntry): Promise<void>;
  remove(id: number): Promise<void>;
  clear(): Promise<void>;
}
