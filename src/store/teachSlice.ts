// Teaching the model a class on the phone, correcting results, and the heads kept on this phone.
// State only; the work is in teachActions.ts.
import type { StateCreator } from 'zustand';
import type { PhotoQualityIssue } from '../engine/types';
import type { UiError } from './errors';
import type { AppState } from './slices';

export type TeachPhotoStatus = 'checking' | 'ok' | 'not-leaf' | 'quality' | 'error';

export interface TeachPhoto {
  id: number;
  name: string;
  previewUrl: string | null;
  status: TeachPhotoStatus;
  /** Raw backbone features (once checked). */
  features?: Float32Array;
  issues?: PhotoQualityIssue[];
  error?: UiError;
  /** Used for teaching: good photos by default; refused or poor ones only when the user keeps them. */
  keep: boolean;
  /** Accepted for teaching although a diagnosis would call it not a bean leaf: new to the head, as a new disease is. */
  novel?: boolean;
}

/** A head kept on this phone (taught, corrected or imported), stored in IndexedDB under its name. */
export interface SavedHead {
  id: string;
  name: string;
  origin: 'taught' | 'corrected' | 'imported';
  createdAt: string;
  head: Record<string, unknown>;
}

/** What the teach screen says after an action: an i18n key under `teach.`, or an error. */
export interface TeachNotice {
  kind: 'ok' | 'error';
  key: string;
  values?: Record<string, string | number>;
  error?: UiError;
  /** Increases with every notice shown, so a repeated message is still a new one (tests wait on it). */
  seq?: number;
}

let noticeSeq = 0;
const stamped = (notice: TeachNotice | null): TeachNotice | null => (notice ? { ...notice, seq: ++noticeSeq } : null);

export interface CorrectionUndo {
  /** The head before the correction (null: the correction made a new local copy of the model's own head). */
  previous: SavedHead | null;
  previousActiveId: string | null;
  headId: string;
  label: string;
}

export interface TeachSlice {
  heads: SavedHead[];
  /** null = the model's own head. */
  activeHeadId: string | null;
  headsLoaded: boolean;
  teachPhotos: TeachPhoto[];
  teachBusy: boolean;
  teachNotice: TeachNotice | null;
  headsNotice: TeachNotice | null;
  lastCorrection: CorrectionUndo | null;
  correctionNotice: TeachNotice | null;
  setHeads(heads: SavedHead[], activeHeadId: string | null): void;
  setTeachPhotos(update: (photos: TeachPhoto[]) => TeachPhoto[]): void;
  setTeachBusy(busy: boolean): void;
  setTeachNotice(notice: TeachNotice | null): void;
  setHeadsNotice(notice: TeachNotice | null): void;
  setLastCorrection(undo: CorrectionUndo | null, notice?: TeachNotice | null): void;
}

export const createTeachSlice: StateCreator<AppState, [], [], TeachSlice> = (set) => ({
  heads: [],
  activeHeadId: null,
  headsLoaded: false,
  teachPhotos: [],
  teachBusy: false,
  teachNotice: null,
  headsNotice: null,
  lastCorrection: null,
  correctionNotice: null,
  setHeads: (heads, activeHeadId) => set({ heads, activeHeadId, headsLoaded: true }),
  setTeachPhotos: (update) => set((s) => ({ teachPhotos: update(s.teachPhotos) })),
  setTeachBusy: (teachBusy) => set({ teachBusy }),
  setTeachNotice: (notice) => set({ teachNotice: stamped(notice) }),
  setHeadsNotice: (notice) => set({ headsNotice: stamped(notice) }),
  setLastCorrection: (lastCorrection, notice = null) => set({ lastCorrection, correctionNotice: stamped(notice) }),
});
