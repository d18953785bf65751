// The five slices of the app's state. Each is typed over the whole state (so actions could read across
// slices) but returns only its own part; `index.ts` combines them into one bound store.
import type { StateCreator } from 'zustand';
import type {
  BackendName, BackendPreference, ColorMapName, Diagnosis, EngineStatus, ExplainMethod, GroupResult, HeadFusion, LoadProgress,
  ModelInfo, PhotoHandle,
} from '../engine/types';
import type { HistoryEntry, HistoryQuery } from '../history/types';
import type { UiError } from './errors';
import type { TeachSlice } from './teachSlice';

export type ModelStatus = 'idle' | 'loading' | 'ready' | 'missing' | 'error';

export interface ModelSlice {
  /** The model the user asked for (what the TanStack query loads). */
  requestedModelUrl: string;
  modelUrl: string;
  modelStatus: ModelStatus;
  /** Download progress over all model files, 0..1, or null when unknown. */
  downloadFraction: number | null;
  lastProgress: LoadProgress | null;
  /** True once any downloaded file came from the cache (a later visit). */
  fromCache: boolean;
  /** Bytes per file seen so far, so the bar covers all files rather than restarting for each. */
  downloads: Record<string, { loaded: number; total: number }>;
  model: ModelInfo | null;
  backend: BackendName | null;
  backendPreference: BackendPreference;
  engineStatus: EngineStatus | null;
  modelError: UiError | null;
  /** The name of a custom head (from disk) in use, if any. */
  customHeadName: string | null;
  modelLoading(url: string): void;
  modelProgress(progress: LoadProgress): void;
  modelReady(model: ModelInfo, backend: BackendName): void;
  modelFailed(error: UiError): void;
  setBackendPreference(preference: BackendPreference): void;
  setEngineStatus(status: EngineStatus): void;
  setCustomHead(name: string | null, model: ModelInfo | null): void;
  requestModel(url: string, backend?: BackendPreference): void;
}

export type PhotoStatus = 'empty' | 'decoding' | 'ready' | 'error';

export interface PhotoSlice {
  /** Object URL of the chosen file, shown at once, before the engine has decoded it. */
  photoPreviewUrl: string | null;
  photoName: string | null;
  photoStatus: PhotoStatus;
  photo: PhotoHandle | null;
  photoError: UiError | null;
  photoPending(previewUrl: string | null, name: string): void;
  photoDecoded(photo: PhotoHandle): void;
  photoFailed(error: UiError): void;
  clearPhoto(): void;
}

export interface ExplainSettings {
  method: ExplainMethod;
  /** undefined = explain the top class. */
  targetClass: number | undefined;
  /** undefined = the method's default. */
  startLayer: number | undefined;
  headFusion: HeadFusion;
  discardRatio: number;
  colorMap: ColorMapName;
  opacity: number;
}

export interface ExplainSlice extends ExplainSettings {
  diagnosis: Diagnosis | null;
  diagnosing: boolean;
  diagnosisError: UiError | null;
  /** Side-by-side comparison: one diagnosis per method, same photo and class. */
  comparison: Partial<Record<ExplainMethod, Diagnosis>>;
  comparing: boolean;
  /** The expert asked to see the model's guess for a photo refused as not a bean leaf (marked out of domain). */
  revealedOutOfDomain: boolean;
  setRevealedOutOfDomain(value: boolean): void;
  setExplainSettings(patch: Partial<ExplainSettings>): void;
  diagnosisStarted(): void;
  diagnosisDone(diagnosis: Diagnosis): void;
  diagnosisFailed(error: UiError): void;
  setComparison(comparison: Partial<Record<ExplainMethod, Diagnosis>>, comparing: boolean): void;
  clearDiagnosis(): void;
}

export type Panel = 'diagnose' | 'teach' | 'history' | 'settings';

export interface UiSlice {
  panel: Panel;
  /** An error not tied to the photo or the model (file loading, export, settings). */
  appError: UiError | null;
  updateAvailable: boolean;
  installAvailable: boolean;
  offlineReady: boolean;
  setPanel(panel: Panel): void;
  setAppError(error: UiError | null): void;
  setUpdateAvailable(value: boolean): void;
  setInstallAvailable(value: boolean): void;
  setOfflineReady(value: boolean): void;
}

export type SaveState = 'idle' | 'saving' | 'saved' | 'storage-full' | 'error';

export interface HistorySlice {
  saveState: SaveState;
  saveError: UiError | null;
  /** Id of the entry saved for the diagnosis on screen. */
  savedEntryId: number | null;
  /** An entry built but not saved (storage full); kept so "try again" loses nothing. */
  unsavedEntry: HistoryEntry | null;
  /** A history entry opened from the list (shown instead of a live diagnosis). */
  reopened: HistoryEntry | null;
  /** The user allowed saving the location with each diagnosis. */
  saveLocation: boolean;
  /** The field/plot new checks are tagged with ('' = none). */
  currentField: string;
  /** What the History list shows (kept while switching tabs). */
  historyFilter: HistoryQuery;
  saveStarted(): void;
  /** A new photo: nothing saved or waiting to be saved for what is on screen. */
  saveReset(): void;
  /** The saved entry of the diagnosis on screen was deleted. */
  savedEntryDeleted(): void;
  saveDone(id: number): void;
  saveFailed(error: UiError, entry: HistoryEntry | null): void;
  setReopened(entry: HistoryEntry | null): void;
  setSaveLocation(value: boolean): void;
  setCurrentField(field: string): void;
  setHistoryFilter(filter: HistoryQuery): void;
}

export type LeafStatus = 'decoding' | 'diagnosing' | 'done' | 'error';

/** One leaf of a field check: judged alone, then combined with the others. */
export interface FieldLeaf {
  /** Stable across removals (React key, test id). */
  key: number;
  name: string;
  previewUrl: string | null;
  status: LeafStatus;
  photo: PhotoHandle | null;
  diagnosis: Diagnosis | null;
  error: UiError | null;
}

export type DiagnoseMode = 'single' | 'group';

export interface FieldCheckSlice {
  diagnoseMode: DiagnoseMode;
  groupLeaves: FieldLeaf[];
  /** The combined answer over the leaves judged so far (null until one leaf is done). */
  groupResult: GroupResult | null;
  /** Shared by the history entries of this check. */
  groupId: string | null;
  /** Photos left out because the check was full. */
  groupOverflow: number;
  /** The leaf whose own result and heatmap are open (its key), or null for the overview. */
  groupOpenLeaf: number | null;
  setDiagnoseMode(mode: DiagnoseMode): void;
  setGroupLeaves(leaves: FieldLeaf[]): void;
  patchGroupLeaf(key: number, patch: Partial<FieldLeaf>): void;
  setGroupResult(result: GroupResult | null): void;
  setGroupOpenLeaf(key: number | null): void;
  resetFieldCheck(groupId: string | null): void;
  setGroupOverflow(count: number): void;
}

export type AppState = ModelSlice & PhotoSlice & ExplainSlice & UiSlice & HistorySlice & FieldCheckSlice & TeachSlice;

type Slice<T> = StateCreator<AppState, [], [], T>;

export const DEFAULT_MODEL_URL = 'models/deit-tiny-beans/';

export const createModelSlice: Slice<ModelSlice> = (set) => ({
  requestedModelUrl: DEFAULT_MODEL_URL,
  modelUrl: DEFAULT_MODEL_URL,
  modelStatus: 'idle',
  downloadFraction: null,
  lastProgress: null,
  fromCache: false,
  downloads: {},
  model: null,
  backend: null,
  backendPreference: 'auto',
  engineStatus: null,
  modelError: null,
  customHeadName: null,
  modelLoading: (url) => set({
    modelUrl: url, modelStatus: 'loading', downloadFraction: 0, lastProgress: null, fromCache: false, downloads: {}, model: null,
    backend: null, modelError: null, engineStatus: null, customHeadName: null,
  }),
  modelProgress: (progress) => set((s) => {
    if (progress.kind !== 'download') {
      return { lastProgress: progress, downloadFraction: progress.kind === 'ready' ? 1 : s.downloadFraction };
    }
    const downloads = { ...s.downloads, [progress.file]: { loaded: progress.loaded, total: progress.total } };
    let loaded = 0;
    let total = 0;
    for (const d of Object.values(downloads)) { loaded += Math.min(d.loaded, d.total); total += d.total; }
    return {
      lastProgress: progress,
      downloads,
      downloadFraction: total > 0 ? loaded / total : s.downloadFraction,
      fromCache: s.fromCache || progress.fromCache,
    };
  }),
  modelReady: (model, backend) => set({ modelStatus: 'ready', model, backend, downloadFraction: 1, modelError: null }),
  modelFailed: (error) => set({
    modelStatus: error.code === 'model-missing' ? 'missing' : 'error', modelError: error, model: null, backend: null,
  }),
  setBackendPreference: (backendPreference) => set({ backendPreference }),
  setEngineStatus: (engineStatus) => set(engineStatus.kind === 'recovering'
    ? { engineStatus }
    : { engineStatus, backend: engineStatus.kind === 'ready' ? engineStatus.backend : engineStatus.to }),
  setCustomHead: (customHeadName, model) => set(model ? { customHeadName, model } : { customHeadName }),
  requestModel: (requestedModelUrl, backend) => set(backend ? { requestedModelUrl, backendPreference: backend } : { requestedModelUrl }),
});

export const createPhotoSlice: Slice<PhotoSlice> = (set) => ({
  photoPreviewUrl: null,
  photoName: null,
  photoStatus: 'empty',
  photo: null,
  photoError: null,
  photoPending: (photoPreviewUrl, photoName) => set({ photoPreviewUrl, photoName, photoStatus: 'decoding', photo: null, photoError: null }),
  photoDecoded: (photo) => set({ photo, photoStatus: 'ready', photoError: null }),
  photoFailed: (photoError) => set({ photoStatus: 'error', photoError, photo: null }),
  clearPhoto: () => set({ photoPreviewUrl: null, photoName: null, photoStatus: 'empty', photo: null, photoError: null }),
});

export const DEFAULT_EXPLAIN_SETTINGS: ExplainSettings = {
  method: 'relevance',
  targetClass: undefined,
  startLayer: undefined,
  headFusion: 'mean',
  discardRatio: 0,
  colorMap: 'turbo',
  opacity: 0.5,
};

export const createExplainSlice: Slice<ExplainSlice> = (set) => ({
  ...DEFAULT_EXPLAIN_SETTINGS,
  diagnosis: null,
  diagnosing: false,
  diagnosisError: null,
  comparison: {},
  comparing: false,
  revealedOutOfDomain: false,
  setRevealedOutOfDomain: (revealedOutOfDomain) => set({ revealedOutOfDomain }),
  setExplainSettings: (patch) => set(patch),
  diagnosisStarted: () => set({ diagnosing: true, diagnosisError: null }),
  diagnosisDone: (diagnosis) => set({ diagnosis, diagnosing: false, diagnosisError: null }),
  diagnosisFailed: (diagnosisError) => set({ diagnosing: false, diagnosisError }),
  setComparison: (comparison, comparing) => set({ comparison, comparing }),
  clearDiagnosis: () => set({ diagnosis: null, diagnosing: false, diagnosisError: null, comparison: {}, comparing: false, revealedOutOfDomain: false }),
});

export const createUiSlice: Slice<UiSlice> = (set) => ({
  panel: 'diagnose',
  appError: null,
  updateAvailable: false,
  installAvailable: false,
  offlineReady: false,
  setPanel: (panel) => set({ panel }),
  setAppError: (appError) => set({ appError }),
  setUpdateAvailable: (updateAvailable) => set({ updateAvailable }),
  setInstallAvailable: (installAvailable) => set({ installAvailable }),
  setOfflineReady: (offlineReady) => set({ offlineReady }),
});

export const createHistorySlice: Slice<HistorySlice> = (set) => ({
  saveState: 'idle',
  saveError: null,
  savedEntryId: null,
  unsavedEntry: null,
  reopened: null,
  saveLocation: false,
  currentField: '',
  historyFilter: {},
  saveStarted: () => set({ saveState: 'saving', saveError: null }),
  saveReset: () => set({ saveState: 'idle', savedEntryId: null, saveError: null, unsavedEntry: null }),
  savedEntryDeleted: () => set({ savedEntryId: null, saveState: 'idle' }),
  saveDone: (savedEntryId) => set({ saveState: 'saved', savedEntryId, saveError: null, unsavedEntry: null }),
  saveFailed: (saveError, unsavedEntry) => set({
    saveState: saveError.code === 'storage-full' ? 'storage-full' : 'error', saveError, unsavedEntry,
  }),
  setReopened: (reopened) => set({ reopened }),
  setSaveLocation: (saveLocation) => set({ saveLocation }),
  setCurrentField: (currentField) => set({ currentField }),
  setHistoryFilter: (historyFilter) => set({ historyFilter }),
});

export const createFieldCheckSlice: Slice<FieldCheckSlice> = (set) => ({
  diagnoseMode: 'single',
  groupLeaves: [],
  groupResult: null,
  groupId: null,
  groupOverflow: 0,
  groupOpenLeaf: null,
  setDiagnoseMode: (diagnoseMode) => set({ diagnoseMode }),
  setGroupLeaves: (groupLeaves) => set({ groupLeaves }),
  patchGroupLeaf: (key, patch) => set((s) => ({ groupLeaves: s.groupLeaves.map((l) => (l.key === key ? { ...l, ...patch } : l)) })),
  setGroupResult: (groupResult) => set({ groupResult }),
  setGroupOpenLeaf: (groupOpenLeaf) => set({ groupOpenLeaf, revealedOutOfDomain: false }),
  resetFieldCheck: (groupId) => set({ groupLeaves: [], groupResult: null, groupId, groupOverflow: 0, groupOpenLeaf: null }),
  setGroupOverflow: (groupOverflow) => set({ groupOverflow }),
});
