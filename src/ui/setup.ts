// Wires the store's actions to the real engine, IndexedDB and browser APIs, and owns the app's QueryClient.
import { QueryClient } from '@tanstack/react-query';
import type { BackendPreference } from '../engine/types';
import { deleteSetting, indexedDbHistory, readSetting, writeSetting } from '../history/db';
import type { HistoryQuery, SavedLocation } from '../history/types';
import { configureActions, restorePreferences, type EngineFactory, type HeadLibrary, type StoredHead } from '../store/actions';
import { useAppStore } from '../store/index';
import { readPreference } from '../store/preferences';
import { DEFAULT_MODEL_URL } from '../store/slices';
import { localModelFiles, restoreLocalModel } from './localModel';
import { makeThumbnail } from './thumbnail';

export const queryClient = new QueryClient({
  defaultOptions: { queries: { retry: false, refetchOnWindowFocus: false, staleTime: Infinity } },
});

// Every history query key starts with HISTORY_QUERY_KEY, so one invalidation after a change refreshes them all.
export const HISTORY_QUERY_KEY = ['history'] as const;
export const HISTORY_FIELDS_KEY = ['history', 'fields'] as const;
export const HISTORY_STORAGE_KEY = ['history', 'storage'] as const;
export const historySummaryKey = (field: string | undefined) => ['history', 'summary', field ?? null] as const;
export const historyCountKey = (query: HistoryQuery) => ['history', 'count', query] as const;
export const historyPageKey = (query: HistoryQuery, page: number) => ['history', 'page', query, page] as const;
const HEAD_SETTING = 'custom-head';
/** The heads kept on this phone (taught, corrected, imported): src/store/teachActions.ts. */
const HEAD_LIBRARY_SETTING = 'head-library';

export function getLocation(): Promise<SavedLocation | undefined> {
  if (!('geolocation' in navigator)) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ latitude: p.coords.latitude, longitude: p.coords.longitude, accuracy: p.coords.accuracy }),
      () => resolve(undefined),
      { timeout: 8000, maximumAge: 5 * 60_000 },
    );
  });
}

/** `?backend=` (not remembered) wins over the remembered preference. */
function startBackendPreference(): BackendPreference {
  const fromUrl = new URLSearchParams(location.search).get('backend');
  return fromUrl === 'auto' || fromUrl === 'webgpu' || fromUrl === 'wasm' ? fromUrl : readPreference('backend');
}

export function setupApp(createEngine: EngineFactory): Promise<void> {
  configureActions({
    createEngine,
    history: indexedDbHistory,
    makeThumbnail,
    getLocation,
    onHistoryChanged: () => void queryClient.invalidateQueries({ queryKey: HISTORY_QUERY_KEY }),
    requestPersistence: () => navigator.storage?.persist?.() ?? Promise.resolve(false),
    readStoredHead: () => readSetting<StoredHead>(HEAD_SETTING),
    writeStoredHead: (value) => (value ? writeSetting(HEAD_SETTING, value) : deleteSetting(HEAD_SETTING)),
    readHeadLibrary: () => readSetting<HeadLibrary>(HEAD_LIBRARY_SETTING),
    writeHeadLibrary: (value) => writeSetting(HEAD_LIBRARY_SETTING, value),
    resolveModelUrl: (url) => new URL(url, document.baseURI).href,
    modelFiles: localModelFiles,
  });
  restorePreferences();
  // A schema-1 history is finished in the background, a small transaction at a time (see src/history/db.ts);
  // lists, filters and summaries are refreshed when it is done.
  void indexedDbHistory.finishUpgrade().then(
    (done) => { if (done > 0) void queryClient.invalidateQueries({ queryKey: HISTORY_QUERY_KEY }); },
    (error: unknown) => console.warn('history upgrade not finished yet; it continues on the next start', error),
  );
  return chooseInitialModel();
}

/** `?model=<url>` wins; else a model folder loaded from disk earlier; else the built-in model. */
async function chooseInitialModel(): Promise<void> {
  const fromUrl = new URLSearchParams(location.search).get('model');
  const local = fromUrl ? null : await restoreLocalModel();
  useAppStore.getState().requestModel(fromUrl ?? local ?? DEFAULT_MODEL_URL, startBackendPreference());
}

/** Switches the model and mirrors the choice in the address bar (so a reload keeps it). */
export function switchModel(url: string | null): void {
  const params = new URLSearchParams(location.search);
  if (url && url !== DEFAULT_MODEL_URL && !url.startsWith('local-model/')) params.set('model', url);
  else params.delete('model');
  const query = params.toString();
  history.replaceState(null, '', `${location.pathname}${query ? `?${query}` : ''}${location.hash}`);
  useAppStore.getState().requestModel(url ?? DEFAULT_MODEL_URL);
}
