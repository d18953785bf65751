// The store driven through its actions with a fake engine and an in-memory history.
import { beforeEach, describe, expect, test } from 'vitest';
import type { EngineOptions } from '../../src/engine/types';
import {
  changeExplainSettings, choosePhoto, compareMethods, configureActions, deleteAllEntries, deleteEntry, disposeEngine,
  chooseField, keepHistory, loadHead, loadModel, PERSIST_AFTER_ENTRIES, reopenEntry, retrySave, updateField, updateNote,
  type StoredHead,
} from '../../src/store/actions';
import { resetAppStore, useAppStore } from '../../src/store/index';
import { FakeEngine, FakeEngineError, fakeModelInfo, fakeProbabilities } from './fakeEngine.fixture';
import { MemoryHistory } from './memoryHistory.fixture';

let engines: FakeEngine[];
let history: MemoryHistory;
let storedHead: StoredHead | undefined;
let createdWith: { baseUrl: string; options: EngineOptions }[];
let failCreate: unknown;

function photo(bytes: number): Blob {
  return new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' });
}

beforeEach(() => {
  disposeEngine();
  resetAppStore();
  engines = [];
  history = new MemoryHistory();
  storedHead = undefined;
  createdWith = [];
  failCreate = null;
  configureActions({
    history,
    async createEngine(baseUrl, options) {
      createdWith.push({ baseUrl, options });
      if (failCreate) throw failCreate;
      options.onProgress?.({ kind: 'manifest' });
      options.onProgress?.({ kind: 'download', file: 'model.weights', loaded: 50, total: 100, fromCache: false });
      const engine = new FakeEngine();
      engines.push(engine);
      return engine;
    },
    makeThumbnail: async (p) => `data:image/jpeg;base64,thumb${p.id}`,
    getLocation: async () => ({ latitude: 0.31, longitude: 32.58, accuracy: 12 }),
    readStoredHead: async () => storedHead,
    writeStoredHead: async (v) => { storedHead = v; },
  });
});

describe('model loading', () => {
  test('a loaded model is ready with its backend; progress is reported', async () => {
    const seen: (number | null)[] = [];
    const unsubscribe = useAppStore.subscribe((s) => seen.push(s.downloadFraction));
    const model = await loadModel('models/fixture/');
    unsubscribe();
    const s = useAppStore.getState();
    expect(s.modelStatus).toBe('ready');
    expect(s.model).toEqual(model);
    expect(s.backend).toBe('wasm');
    expect(seen).toContain(0.5);
    expect(createdWith[0]?.baseUrl).toBe('models/fixture/');
  });

  test('a missing model is reported as missing, not as a crash', async () => {
    failCreate = new FakeEngineError('model-missing', 'GET manifest.json: 404');
    await expect(loadModel('models/deit-tiny-beans/')).rejects.toThrow();
    const s = useAppStore.getState();
    expect(s.modelStatus).toBe('missing');
    expect(s.modelError?.code).toBe('model-missing');
    expect(s.modelError?.detail).toContain('404');
  });

  test('loading another model disposes the previous engine', async () => {
    await loadModel('a/');
    await loadModel('b/');
    expect(engines[0]?.disposed).toBe(true);
    expect(engines[1]?.disposed).toBe(false);
    expect(useAppStore.getState().modelUrl).toBe('b/');
  });

  test('a stored custom head is applied on load; a head for another backbone is refused with a message', async () => {
    storedHead = { name: 'maize.json', head: { labels: ['a', 'b'], features: 192 } };
    await loadModel('m/');
    expect(useAppStore.getState().model?.labels).toEqual(['a', 'b']);
    expect(useAppStore.getState().customHeadName).toBe('maize.json');

    storedHead = { name: 'other.json', head: { labels: ['a', 'b'], features: 384 } };
    await loadModel('m/');
    const s = useAppStore.getState();
    expect(s.model?.labels).toEqual(fakeModelInfo().labels);
    expect(s.customHeadName).toBeNull();
    expect(s.appError?.code).toBe('head-mismatch');
  });
});

test('download progress covers all files, not just the current one', () => {
  const s = useAppStore.getState();
  s.modelLoading('m/');
  s.modelProgress({ kind: 'download', file: 'model.onnx', loaded: 100, total: 100, fromCache: false });
  s.modelProgress({ kind: 'download', file: 'model.weights', loaded: 0, total: 300, fromCache: false });
  expect(useAppStore.getState().downloadFraction).toBeCloseTo(0.25);
  s.modelProgress({ kind: 'download', file: 'model.weights', loaded: 150, total: 300, fromCache: false });
  expect(useAppStore.getState().downloadFraction).toBeCloseTo(0.625);
  s.modelProgress({ kind: 'ready' });
  expect(useAppStore.getState().downloadFraction).toBe(1);
  s.modelLoading('other/');
  expect(useAppStore.getState().downloads).toEqual({});
});

describe('photo → diagnosis → history', () => {
  test('a photo is shown at once, diagnosed and saved with its heatmap', async () => {
    await loadModel('m/');
    const done = choosePhoto(photo(300), 'leaf.jpg');
    expect(useAppStore.getState().photoStatus).toBe('decoding');
    expect(useAppStore.getState().photoPreviewUrl).toMatch(/^blob:/);
    await done;
    const s = useAppStore.getState();
    expect(s.photoStatus).toBe('ready');
    const expected = fakeProbabilities(300, 3);
    expect(Array.from(s.diagnosis!.probabilities)).toEqual(Array.from(expected));
    expect(s.diagnosis!.options.method).toBe('relevance');
    expect(s.saveState).toBe('saved');
    const saved = await history.get(s.savedEntryId!);
    expect(saved?.heatmap.values).toHaveLength(196);
    expect(saved?.heatmap.values).toEqual(Array.from(s.diagnosis!.heatmap.values));
    expect(saved?.thumbnail).toBe(`data:image/jpeg;base64,thumb${s.photo!.id}`);
    expect(saved?.location).toBeUndefined();
  });

  test('location is saved only when the user allowed it', async () => {
    await loadModel('m/');
    useAppStore.getState().setSaveLocation(true);
    await choosePhoto(photo(10), 'a.jpg');
    const saved = await history.get(useAppStore.getState().savedEntryId!);
    expect(saved?.location).toEqual({ latitude: 0.31, longitude: 32.58, accuracy: 12 });
  });

  test('a photo chosen before the model is ready is diagnosed once it is', async () => {
    const pending = choosePhoto(photo(42), 'early.jpg');
    await pending;
    expect(useAppStore.getState().photoStatus).toBe('decoding');
    await loadModel('m/');
    await new Promise((r) => setTimeout(r, 0));
    await vitestUntil(() => useAppStore.getState().diagnosis !== null);
    expect(engines[0]?.loadPhotoCalls).toBe(1);
  });

  test('an undecodable photo gives a photo error and leaves history alone', async () => {
    await loadModel('m/');
    engines[0]!.failPhotoWith = 'image-unsupported-format';
    await choosePhoto(photo(5), 'leaf.heic');
    const s = useAppStore.getState();
    expect(s.photoStatus).toBe('error');
    expect(s.photoError?.code).toBe('image-unsupported-format');
    expect(s.diagnosis).toBeNull();
    expect(history.entries.size).toBe(0);
  });

  test('a new photo closes the previous one', async () => {
    await loadModel('m/');
    await choosePhoto(photo(5), 'a.jpg');
    await choosePhoto(photo(6), 'b.jpg');
    expect(engines[0]?.closedPhotos).toBe(1);
    expect(history.entries.size).toBe(2);
  });
});

describe('explanation settings', () => {
  test('method and class changes re-explain and update the saved entry; colour and opacity do not', async () => {
    await loadModel('m/');
    await choosePhoto(photo(7), 'a.jpg');
    const engine = engines[0]!;
    expect(engine.diagnoseCalls).toHaveLength(1);

    await changeExplainSettings({ colorMap: 'viridis', opacity: 0.8 });
    expect(engine.diagnoseCalls).toHaveLength(1);

    await changeExplainSettings({ method: 'rollout' });
    expect(engine.diagnoseCalls).toHaveLength(2);
    expect(engine.diagnoseCalls[1]?.method).toBe('rollout');

    await changeExplainSettings({ targetClass: 2 });
    expect(engine.diagnoseCalls[2]?.targetClass).toBe(2);
    const s = useAppStore.getState();
    expect(s.diagnosis?.explainedClass).toBe(2);
    expect(history.entries.size).toBe(1);
    const saved = await history.get(s.savedEntryId!);
    expect(saved?.method).toBe('rollout');
    expect(saved?.explainedClass).toBe(2);
  });

  test('changing method forgets a start layer set for the previous method', async () => {
    await loadModel('m/');
    await choosePhoto(photo(7), 'a.jpg');
    await changeExplainSettings({ startLayer: 2 });
    expect(engines[0]!.diagnoseCalls.at(-1)?.startLayer).toBe(2);
    await changeExplainSettings({ method: 'rollout' });
    expect(engines[0]!.diagnoseCalls.at(-1)?.startLayer).toBeUndefined();
  });

  test('a slow earlier answer never overwrites a later one', async () => {
    await loadModel('m/');
    await choosePhoto(photo(7), 'a.jpg');
    const engine = engines[0]!;
    engine.diagnoseDelay = 30;
    const first = changeExplainSettings({ method: 'rollout' });
    engine.diagnoseDelay = 0;
    const second = changeExplainSettings({ method: 'attention' });
    await Promise.all([first, second]);
    expect(useAppStore.getState().diagnosis?.options.method).toBe('attention');
    expect(useAppStore.getState().diagnosing).toBe(false);
  });

  test('comparison computes one map per method the model offers', async () => {
    await loadModel('m/');
    await choosePhoto(photo(7), 'a.jpg');
    await compareMethods();
    const s = useAppStore.getState();
    expect(Object.keys(s.comparison).sort()).toEqual(['attention', 'relevance', 'rollout']);
    expect(s.comparison.rollout?.options.method).toBe('rollout');
  });
});

describe('history', () => {
  test('a full quota keeps the diagnosis, loses nothing saved, and a retry saves it', async () => {
    await loadModel('m/');
    await choosePhoto(photo(7), 'a.jpg');
    const before = await history.list();
    history.full = true;
    await choosePhoto(photo(8), 'b.jpg');
    let s = useAppStore.getState();
    expect(s.saveState).toBe('storage-full');
    expect(s.saveError?.code).toBe('storage-full');
    expect(s.diagnosis).not.toBeNull();
    expect(s.unsavedEntry?.probabilities).toEqual(Array.from(s.diagnosis!.probabilities));
    expect(await history.list()).toEqual(before);

    history.full = false;
    await retrySave();
    s = useAppStore.getState();
    expect(s.saveState).toBe('saved');
    expect(s.unsavedEntry).toBeNull();
    expect(history.entries.size).toBe(2);
  });

  test('notes, delete and delete all', async () => {
    await loadModel('m/');
    await choosePhoto(photo(7), 'a.jpg');
    await choosePhoto(photo(9), 'b.jpg');
    const [newest, oldest] = await history.list();
    await updateNote(oldest!.id!, '  north field  ');
    expect((await history.get(oldest!.id!))?.note).toBe('north field');
    await deleteEntry(newest!.id!);
    expect(history.entries.size).toBe(1);
    await deleteAllEntries();
    expect(history.entries.size).toBe(0);
    expect(useAppStore.getState().savedEntryId).toBeNull();
  });

  test('new checks carry the chosen field and the outcome; a field can be changed later, the photo kept', async () => {
    await loadModel('m/');
    chooseField('  North   plot ');
    await choosePhoto(photo(7), 'a.jpg');
    const id = useAppStore.getState().savedEntryId!;
    const saved = await history.get(id);
    expect(saved?.field).toBe('North plot');
    expect(saved?.outcome).toBe(useAppStore.getState().diagnosis!.outcome);
    chooseField('');
    await choosePhoto(photo(9), 'b.jpg');
    expect((await history.get(useAppStore.getState().savedEntryId!))?.field).toBeUndefined();
    await updateField(id, 'River');
    const moved = await history.get(id);
    expect(moved?.field).toBe('River');
    expect(moved?.thumbnail).toBe(saved?.thumbnail);
    expect(await history.fields()).toEqual(['River']);
    await reopenEntry(id);
    expect(useAppStore.getState().reopened?.thumbnail).toBe(saved?.thumbnail);
    expect(useAppStore.getState().panel).toBe('diagnose');
  });

  test('persistent storage is asked for once the history has PERSIST_AFTER_ENTRIES entries, and once only', async () => {
    let asked = 0;
    configureActions({
      history, createEngine: async () => new FakeEngine(), makeThumbnail: async () => 'data:image/jpeg;base64,AA',
      requestPersistence: async () => { asked++; return true; },
    });
    await loadModel('m/');
    for (let i = 1; i < PERSIST_AFTER_ENTRIES; i++) await choosePhoto(photo(i), `${i}.jpg`);
    expect(asked).toBe(0);
    await choosePhoto(photo(99), 'tenth.jpg');
    await keepHistory();
    expect(history.entries.size).toBe(PERSIST_AFTER_ENTRIES);
    expect(asked).toBe(1);
    await choosePhoto(photo(100), 'eleventh.jpg');
    await keepHistory();
    expect(asked).toBe(1);
  });

  test('loading a head re-explains the photo and stores the head for the next visit', async () => {
    await loadModel('m/');
    await choosePhoto(photo(7), 'a.jpg');
    await loadHead({ labels: ['x', 'y'], features: 192 }, 'xy.json');
    expect(storedHead?.name).toBe('xy.json');
    expect(useAppStore.getState().diagnosis?.labels).toEqual(['x', 'y']);
    await expect(loadHead({ labels: ['x'], features: 192 }, 'bad.json')).rejects.toThrow();
    expect(storedHead?.name).toBe('xy.json');
  });
});

async function vitestUntil(condition: () => boolean, timeoutMs = 1000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
