// Everything asynchronous the app does, as plain functions outside React: they call the engine and the
// history database and report into the store. The engine factory and the database are injected
// (`configureActions`) so tests can drive the same code with fakes.
import type {
  BackendPreference, Diagnosis, Engine, EngineOptions, ExplainMethod, ExplainOptions, ModelFileSource, ModelInfo, PhotoHandle,
} from '../engine/types';
import type { ExportKind, ExportResult } from '../history/export';
import { normaliseFieldName } from '../history/fieldName';
import type {
  HistoryEntry, HistoryQuery, HistoryRepository, HistoryRow, HistorySummary, ImportReport, SavedLocation,
} from '../history/types';
import { toUiError } from './errors';
import { clearFieldCheck } from './fieldCheck';
import { useAppStore } from './index';
import { readPreference, writePreference } from './preferences';
import type { ExplainSettings } from './slices';
import type { SavedHead } from './teachSlice';

export type EngineFactory = (baseUrl: string, options: EngineOptions) => Promise<Engine>;

/** The heads kept on this phone and which one is active (null: the model's own). */
export interface HeadLibrary {
  heads: SavedHead[];
  activeHeadId: string | null;
}

/** A custom classifier head kept across reloads. */
export interface StoredHead {
  name: string;
  head: unknown;
}

export interface ActionDeps {
  createEngine: EngineFactory;
  history: HistoryRepository;
  /** A small JPEG data URL of the photo, for the history list. */
  makeThumbnail(photo: PhotoHandle): Promise<string>;
  /** Resolves undefined when the user or the browser says no. */
  getLocation?(): Promise<SavedLocation | undefined>;
  /** Called after the history changed (TanStack Query invalidation in the app). */
  onHistoryChanged?(): void;
  /** Asks the browser to keep the site's storage (navigator.storage.persist); resolves whether it will. */
  requestPersistence?(): Promise<boolean>;
  readStoredHead?(): Promise<StoredHead | undefined>;
  writeStoredHead?(value: StoredHead | undefined): Promise<void>;
  /** Heads kept on this phone (teach, corrections, imports); see teachActions.ts. */
  readHeadLibrary?(): Promise<HeadLibrary | undefined>;
  writeHeadLibrary?(value: HeadLibrary): Promise<void>;
  /** Turns a model URL into an absolute base URL (relative to the page in the app). */
  resolveModelUrl?(url: string): string;
  /** The files of a model that does not come from the network (a folder loaded from disk), by its URL. */
  modelFiles?(url: string): ModelFileSource | undefined;
}

let deps: ActionDeps | null = null;
let engine: Engine | null = null;
let loadSeq = 0;
let diagnoseSeq = 0;
/** A photo chosen while no engine was ready; decoded as soon as one is. */
let pendingPhoto: { blob: Blob; name: string } | null = null;
/** Persistent storage is asked for once per page (the browser remembers its answer). */
let persistenceAsked = false;

export function configureActions(next: ActionDeps): void {
  deps = next;
}

function need(): ActionDeps {
  if (!deps) throw new Error('configureActions() was not called');
  return deps;
}

/** The injected dependencies, for the other action modules (fieldCheck.ts, teachActions.ts). */
export const actionDeps = need;

const store = useAppStore;

/** For tests and teardown: drop the engine and any pending work. */
export function disposeEngine(): void {
  persistenceAsked = false;
  engine?.dispose();
  engine = null;
  pendingPhoto = null;
  loadSeq++;
  diagnoseSeq++;
}

export function currentEngine(): Engine | null {
  return engine;
}

// ---------------------------------------------------------------- model

export async function loadModel(url: string, backend: BackendPreference = store.getState().backendPreference): Promise<ModelInfo> {
  const d = need();
  const seq = ++loadSeq;
  const s = store.getState();
  // A field check's photos belong to the engine being replaced.
  clearFieldCheck();
  engine?.dispose();
  engine = null;
  s.modelLoading(url);
  s.setBackendPreference(backend);
  const baseUrl = d.resolveModelUrl ? d.resolveModelUrl(url) : url;
  let created: Engine;
  try {
    const files = d.modelFiles?.(url);
    created = await d.createEngine(baseUrl, {
      backend,
      firstMethod: s.method,
      ...(files ? { files } : {}),
      onProgress: (p) => { if (seq === loadSeq) store.getState().modelProgress(p); },
      onStatus: (status) => { if (seq === loadSeq) store.getState().setEngineStatus(status); },
    });
  } catch (error) {
    if (seq === loadSeq) store.getState().modelFailed(toUiError(error, 'model-corrupt'));
    throw error;
  }
  if (seq !== loadSeq) {
    created.dispose();
    throw new Error('superseded by a later model load');
  }
  engine = created;
  let model = created.model;
  const stored = await d.readStoredHead?.().catch(() => undefined);
  let customHeadName: string | null = null;
  if (stored) {
    try {
      model = await created.setHead(stored.head, stored.name);
      customHeadName = stored.name;
    } catch (error) {
      // A head kept for another backbone: keep the default head and say why.
      store.getState().setAppError(toUiError(error, 'head-invalid'));
    }
  }
  store.getState().modelReady(model, created.backend);
  store.getState().setCustomHead(customHeadName, null);
  const waiting = pendingPhoto;
  pendingPhoto = null;
  if (waiting) void choosePhoto(waiting.blob, waiting.name);
  else if (store.getState().photo === null && store.getState().photoStatus === 'decoding') store.getState().clearPhoto();
  return model;
}

/** Loads a classifier head (parsed head.json) into the running engine and keeps it across reloads. */
export async function loadHead(head: unknown, name: string): Promise<ModelInfo> {
  const d = need();
  if (!engine) throw new Error('no model is loaded');
  const model = await engine.setHead(head, name);
  // Leaves judged by the old head would be combined with the new one's threshold: start the check again.
  clearFieldCheck();
  store.getState().setCustomHead(name, model);
  store.getState().setExplainSettings({ targetClass: undefined });
  await d.writeStoredHead?.({ name, head });
  if (store.getState().photo) await rediagnose();
  return model;
}

/** Back to the model's own head.json. */
export async function resetHead(): Promise<void> {
  const d = need();
  await d.writeStoredHead?.(undefined);
  await loadModel(store.getState().modelUrl);
}

// ---------------------------------------------------------------- photo and diagnosis

export async function choosePhoto(blob: Blob, name: string): Promise<void> {
  const s = store.getState();
  const old = s.photo;
  const oldUrl = s.photoPreviewUrl;
  diagnoseSeq++;
  s.clearDiagnosis();
  s.setReopened(null);
  s.setExplainSettings({ targetClass: undefined });
  s.saveReset();
  const previewUrl = blob.size > 0 ? URL.createObjectURL(blob) : null;
  s.photoPending(previewUrl, name);
  old?.close();
  if (oldUrl) URL.revokeObjectURL(oldUrl);
  if (!engine) {
    pendingPhoto = { blob, name };
    return;
  }
  const seq = diagnoseSeq;
  let photo: PhotoHandle;
  try {
    photo = await engine.loadPhoto(blob);
  } catch (error) {
    if (seq === diagnoseSeq) store.getState().photoFailed(toUiError(error, 'image-undecodable'));
    return;
  }
  if (seq !== diagnoseSeq) {
    photo.close();
    return;
  }
  store.getState().photoDecoded(photo);
  const diagnosis = await rediagnose();
  if (diagnosis) await saveDiagnosis(diagnosis);
}

export function explainOptionsOf(settings: ExplainSettings): ExplainOptions {
  const options: ExplainOptions = { method: settings.method, headFusion: settings.headFusion, discardRatio: settings.discardRatio };
  if (settings.targetClass !== undefined) options.targetClass = settings.targetClass;
  if (settings.startLayer !== undefined) options.startLayer = settings.startLayer;
  return options;
}

/** Runs the engine on the current photo with the current settings; stale answers are dropped. */
export async function rediagnose(): Promise<Diagnosis | null> {
  const s = store.getState();
  const photo = s.photo;
  if (!engine || !photo) return null;
  const seq = ++diagnoseSeq;
  s.diagnosisStarted();
  try {
    const diagnosis = await engine.diagnose(photo, explainOptionsOf(s));
    if (seq !== diagnoseSeq) return null;
    store.getState().diagnosisDone(diagnosis);
    if (store.getState().comparing) void compareMethods();
    return diagnosis;
  } catch (error) {
    if (seq === diagnoseSeq) store.getState().diagnosisFailed(toUiError(error, 'internal'));
    return null;
  }
}

const RECOMPUTING_KEYS: ReadonlyArray<keyof ExplainSettings> = ['method', 'targetClass', 'startLayer', 'headFusion', 'discardRatio'];

/** Changes explanation settings; re-explains only when the heatmap itself changes (not for colour/opacity). */
export async function changeExplainSettings(patch: Partial<ExplainSettings>): Promise<void> {
  const before = store.getState();
  const changed = RECOMPUTING_KEYS.some((key) => key in patch && patch[key] !== before[key]);
  // A start layer tuned for one method means nothing for another.
  const next = 'method' in patch && patch.method !== before.method && !('startLayer' in patch)
    ? { ...patch, startLayer: undefined } : patch;
  before.setExplainSettings(next);
  if (!changed || !before.photo) return;
  const diagnosis = await rediagnose();
  if (diagnosis && store.getState().savedEntryId !== null) await saveDiagnosis(diagnosis);
}

/** One heatmap per method the model offers, same photo and class, for the side-by-side view. */
export async function compareMethods(): Promise<void> {
  const s = store.getState();
  if (!engine || !s.photo || !s.model) return;
  const photo = s.photo;
  const seq = diagnoseSeq;
  s.setComparison({}, true);
  const results: Partial<Record<ExplainMethod, Diagnosis>> = {};
  for (const method of s.model.methods) {
    const settings = store.getState();
    try {
      // Only the method differs; each method keeps its own default start layer.
      results[method] = await engine.diagnose(photo, { ...explainOptionsOf(settings), method, startLayer: undefined } as ExplainOptions);
    } catch (error) {
      store.getState().diagnosisFailed(toUiError(error, 'internal'));
    }
    if (seq !== diagnoseSeq || !store.getState().comparing) return;
    store.getState().setComparison({ ...results }, true);
  }
}

export function stopComparing(): void {
  store.getState().setComparison({}, false);
}

// ---------------------------------------------------------------- history

export async function buildEntry(diagnosis: Diagnosis, photo: PhotoHandle, model: ModelInfo, groupId?: string): Promise<HistoryEntry> {
  const d = need();
  const location = store.getState().saveLocation && d.getLocation ? await d.getLocation().catch(() => undefined) : undefined;
  const entry: HistoryEntry = {
    createdAt: new Date().toISOString(),
    thumbnail: await d.makeThumbnail(photo),
    modelName: model.name,
    modelVersion: model.version,
    modelTrained: model.trained,
    labels: [...diagnosis.labels],
    probabilities: Array.from(diagnosis.probabilities),
    top: diagnosis.top,
    explainedClass: diagnosis.explainedClass,
    method: diagnosis.options.method,
    startLayer: diagnosis.options.startLayer,
    headFusion: diagnosis.options.headFusion,
    discardRatio: diagnosis.options.discardRatio,
    heatmap: {
      gridSize: diagnosis.heatmap.gridSize, values: Array.from(diagnosis.heatmap.values),
      min: diagnosis.heatmap.min, max: diagnosis.heatmap.max,
    },
    outcome: diagnosis.outcome,
  };
  if (model.valAccuracy !== undefined) entry.modelValAccuracy = model.valAccuracy;
  if (location) entry.location = location;
  const field = normaliseFieldName(store.getState().currentField);
  if (field) entry.field = field;
  if (groupId !== undefined) entry.groupId = groupId;
  return entry;
}

/** Saves the diagnosis on screen (or updates its entry after a re-explanation). Never throws. */
export async function saveDiagnosis(diagnosis: Diagnosis): Promise<void> {
  const d = need();
  const s = store.getState();
  if (!s.photo || !s.model) return;
  s.saveStarted();
  let entry: HistoryEntry | null = null;
  try {
    entry = await buildEntry(diagnosis, s.photo, s.model);
    const existing = s.savedEntryId;
    if (existing !== null) {
      const old = await d.history.get(existing);
      if (old) {
        // An empty thumbnail keeps the stored photo (no decode and re-encode of the same bytes).
        entry = { ...entry, id: existing, createdAt: old.createdAt, thumbnail: '' };
        if (old.note !== undefined) entry.note = old.note;
        if (old.location) entry.location = old.location;
        if (old.field !== undefined) entry.field = old.field;
        else delete entry.field;
        await d.history.update(entry);
        store.getState().saveDone(existing);
        d.onHistoryChanged?.();
        return;
      }
    }
    const id = await d.history.add(entry);
    store.getState().saveDone(id);
    d.onHistoryChanged?.();
    void keepHistory();
  } catch (error) {
    store.getState().saveFailed(toUiError(error, 'storage'), entry);
  }
}

/** Entries after which the history is worth asking the browser not to evict. */
export const PERSIST_AFTER_ENTRIES = 10;

/** Once the history matters (PERSIST_AFTER_ENTRIES), asks once per page for persistent storage. */
export async function keepHistory(): Promise<void> {
  const d = need();
  if (persistenceAsked || !d.requestPersistence) return;
  try {
    if (await d.history.count() < PERSIST_AFTER_ENTRIES) return;
    persistenceAsked = true;
    await d.requestPersistence();
  } catch { /* the browser decides; the history works either way */ }
}

/** After "storage full": the user freed space; save the kept entry. */
export async function retrySave(): Promise<void> {
  const d = need();
  const entry = store.getState().unsavedEntry;
  if (!entry) return;
  store.getState().saveStarted();
  try {
    const id = await d.history.add(entry);
    store.getState().saveDone(id);
    d.onHistoryChanged?.();
  } catch (error) {
    store.getState().saveFailed(toUiError(error, 'storage'), entry);
  }
}

export function countHistory(query: HistoryQuery = {}): Promise<number> {
  return need().history.count(query);
}

export function historyPage(query: HistoryQuery, offset: number, limit: number): Promise<HistoryRow[]> {
  return need().history.page(query, offset, limit);
}

/** Saved entries read whole (photos included), in the order asked; `entry` undefined for one deleted since. */
export async function historyEntries(ids: readonly number[]): Promise<{ id: number; entry: HistoryEntry | undefined }[]> {
  const history = need().history;
  return Promise.all(ids.map(async (id) => ({ id, entry: await history.get(id) })));
}

export function historyThumbnail(id: number): Promise<Blob | undefined> {
  return need().history.thumbnail(id);
}

export async function historyUpgradeRemaining(): Promise<number> {
  return (await need().history.upgradeRemaining?.()) ?? 0;
}

export function historyFields(): Promise<string[]> {
  return need().history.fields();
}

export function historySummary(field?: string): Promise<HistorySummary> {
  return need().history.summary(field);
}

/** Reads the database as it is now (an edit made a moment ago is in the file), streamed. */
export async function exportHistoryFile(kind: ExportKind): Promise<ExportResult> {
  const history = need().history;
  // Export and import are chunks of their own, loaded on first use (the service worker precaches them).
  const { exportHistory } = await import('../history/export');
  return exportHistory(history, kind);
}

/** Adds a JSON or ZIP export's entries that are not there yet. Throws HistoryImportError for a bad file. */
export async function importHistory(file: Blob): Promise<ImportReport> {
  const d = need();
  const { importHistoryFile } = await import('../history/import');
  try {
    return await importHistoryFile(file, (items) => d.history.addMissing(items));
  } finally {
    d.onHistoryChanged?.();
  }
}

/** The field new checks are tagged with; '' for none. */
/** The field new checks are filed under, remembered for the next visit. */
export function chooseField(name: string): void {
  store.getState().setCurrentField(normaliseFieldName(name));
  writePreference('field', store.getState().currentField);
}

/** Whether saved checks keep the phone's location, remembered for the next visit. */
export function chooseSaveLocation(on: boolean): void {
  store.getState().setSaveLocation(on);
  writePreference('saveLocation', on);
}

/** The backend to try first, remembered; the requested model is loaded again with it. */
export function chooseBackend(preference: BackendPreference): void {
  writePreference('backend', preference);
  const s = store.getState();
  s.requestModel(s.requestedModelUrl, preference);
}

/** The remembered choices into the store, at start-up. */
export function restorePreferences(): void {
  store.getState().setSaveLocation(readPreference('saveLocation'));
  store.getState().setCurrentField(readPreference('field'));
}

export async function updateField(id: number, field: string): Promise<void> {
  const d = need();
  const entry = await d.history.get(id);
  if (!entry) return;
  const name = normaliseFieldName(field);
  const next: HistoryEntry = { ...entry, thumbnail: '' };
  if (name) next.field = name;
  else delete next.field;
  await d.history.update(next);
  const reopened = store.getState().reopened;
  if (reopened?.id === id) store.getState().setReopened({ ...reopened, ...(name ? { field: name } : {}) });
  d.onHistoryChanged?.();
}

export async function deleteEntry(id: number): Promise<void> {
  const d = need();
  await d.history.remove(id);
  const s = store.getState();
  if (s.reopened?.id === id) s.setReopened(null);
  if (s.savedEntryId === id) s.savedEntryDeleted();
  d.onHistoryChanged?.();
}

export async function deleteAllEntries(): Promise<void> {
  const d = need();
  await d.history.clear();
  store.getState().setReopened(null);
  store.getState().savedEntryDeleted();
  d.onHistoryChanged?.();
}

export async function updateNote(id: number, note: string): Promise<void> {
  const d = need();
  const entry = await d.history.get(id);
  if (!entry) return;
  const trimmed = note.trim();
  const next: HistoryEntry = { ...entry, thumbnail: '' };
  if (trimmed) next.note = trimmed;
  else delete next.note;
  await d.history.update(next);
  if (store.getState().reopened?.id === id) store.getState().setReopened({ ...next, thumbnail: entry.thumbnail });
  d.onHistoryChanged?.();
}

/** Opens a saved entry (read whole, photo included) on the Diagnose screen. */
export async function reopenEntry(id: number): Promise<void> {
  const entry = await need().history.get(id);
  if (!entry) return;
  const s = store.getState();
  s.setReopened(entry);
  s.setPanel('diagnose');
}
