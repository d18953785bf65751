// Teaching through the store's actions with a fake engine that carries a real head with statistics: refused and
// poor photos left out, too few photos, a duplicate name, a full storage quota (nothing lost), switching back,
// a refused import, corrections and undo.
import { beforeEach, describe, expect, test } from 'vitest';
import { ldaHead } from '../../src/engine/model/teach';
import type { ModelInfo } from '../../src/engine/types';
import { configureActions, disposeEngine, loadModel, type HeadLibrary, type StoredHead } from '../../src/store/actions';
import { resetAppStore, useAppStore } from '../../src/store/index';
import {
  addTeachPhotos, correctDiagnosis, deleteHead, exportHead, importHead, keepTeachPhoto, renameHead, saveTaughtClass, switchHead,
  undoCorrection,
} from '../../src/store/teachActions';
import { FakeEngine, fakeModelInfo } from './fakeEngine.fixture';
import { MemoryHistory } from './memoryHistory.fixture';

const F = 192;
const SHA = 'f'.repeat(64);

/** The fake engine's labels with statistics (unit-vector means, 30 photos each), LDA rows. */
function headWithStatistics(): Record<string, unknown> {
  const labels = fakeModelInfo().labels;
  const classMeans = labels.map((_, c) => Float64Array.from({ length: F }, (_, f) => (f === c * 7 ? 1 : 0)));
  const scatter = new Float64Array(F * F);
  for (let i = 0; i < F; i++) scatter[i * F + i] = 0.5;
  const stats = { classMeans, classCounts: labels.map(() => 30), scatter, shrinkage: 0.1 };
  const lda = ldaHead(stats);
  return {
    format: 'leaf-lens-head', contract_version: 1, labels, features: F, backbone_sha256: SHA, trained: true, created: '2026-11-30T00:00:00Z',
    weight: labels.map((_, c) => Array.from(lda.weight.subarray(c * F, (c + 1) * F))), bias: Array.from(lda.bias),
    statistics: {
      feature_norm: 'l2', class_means: classMeans.map((m) => Array.from(m)), class_counts: stats.classCounts,
      scatter: Array.from({ length: F }, (_, i) => Array.from(scatter.subarray(i * F, (i + 1) * F))), shrinkage: 0.1,
    },
  };
}

/** The fake engine with a real head: setHead keeps the JSON so headJson('active') returns it. */
class TeachingEngine extends FakeEngine {
  shipped = headWithStatistics();
  active: Record<string, unknown> = this.shipped;
  setHeadCalls = 0;
  constructor() { super(fakeModelInfo({ canTeach: true })); }
  override headJson(which: 'active' | 'shipped'): Record<string, unknown> { return which === 'shipped' ? this.shipped : this.active; }
  override async setHead(head: unknown): Promise<ModelInfo> {
    this.setHeadCalls++;
    const model = await super.setHead(head);
    this.active = head as Record<string, unknown>;
    return model;
  }
}

let engine: TeachingEngine;
let stored: StoredHead | undefined;
let libraryStore: HeadLibrary | undefined;
let quotaFull: boolean;

const photos = (sizes: number[]) => sizes.map((n) => new File([new Uint8Array(n)], `leaf-${n}.jpg`, { type: 'image/jpeg' }));
const notice = () => useAppStore.getState().teachNotice;

beforeEach(async () => {
  disposeEngine();
  resetAppStore();
  stored = undefined;
  libraryStore = undefined;
  quotaFull = false;
  configureActions({
    history: new MemoryHistory(),
    createEngine: async () => { engine = new TeachingEngine(); return engine; },
    makeThumbnail: async () => 'data:,',
    readStoredHead: async () => stored,
    writeStoredHead: async (v) => { stored = v; },
    readHeadLibrary: async () => libraryStore,
    writeHeadLibrary: async (v) => {
      if (quotaFull) throw new DOMException('quota', 'QuotaExceededError');
      libraryStore = structuredClone(v);
    },
  });
  await loadModel('models/fixture/');
  globalThis.URL.createObjectURL ??= () => 'blob:fake';
  globalThis.URL.revokeObjectURL ??= () => undefined;
});

describe('teaching a class', () => {
  test('photos with quality issues are left out unless kept; too few photos and a taken name are refused', async () => {
    engine.qualityIssues = ['blurred'];
    await addTeachPhotos(photos([101]));
    engine.qualityIssues = [];
    await addTeachPhotos(photos([102]));
    const [poor, good] = useAppStore.getState().teachPhotos;
    expect([poor!.status, poor!.keep, good!.status, good!.keep, good!.novel]).toEqual(['quality', false, 'ok', true, false]);

    expect(await saveTaughtClass({ name: 'Antracnosis', note: '', reservedNames: [] })).toBe(false);
    expect(notice()).toMatchObject({ kind: 'error', key: 'tooFewPhotos', values: { count: 1, min: 5, more: 4 } });
    keepTeachPhoto(poor!.id, true);
    await addTeachPhotos(photos([103, 104, 105]));
    expect(await saveTaughtClass({ name: 'Bean rust', note: '', reservedNames: [] })).toBe(false);
    expect(notice()?.key).toBe('nameProblems.duplicate');
    expect(await saveTaughtClass({ name: 'Roya', note: '', reservedNames: ['Roya'] })).toBe(false);
    expect(notice()?.key).toBe('nameProblems.duplicate');
    expect(engine.setHeadCalls).toBe(0);
  });

  test('a photo a little beyond the threshold is taught (a new disease is new to the head); far beyond it, or NaN, is refused', async () => {
    for (const score of [45, 90, Number.NaN]) {
      engine.domainVerdict = { score, threshold: 30, teachThreshold: 60 };
      await addTeachPhotos(photos([200]));
    }
    const [near, far, broken] = useAppStore.getState().teachPhotos;
    expect([near!.status, near!.keep, near!.novel]).toEqual(['ok', true, true]); // shown as new to the app
    expect([far!.status, far!.keep]).toEqual(['not-leaf', false]);
    expect([broken!.status, broken!.keep]).toEqual(['not-leaf', false]);
    // A head without a teach margin (teachThreshold = threshold) refuses what the diagnosis refuses, as before.
    engine.domainVerdict = { score: 45, threshold: 30, teachThreshold: 30 };
    await addTeachPhotos(photos([201]));
    expect(useAppStore.getState().teachPhotos[3]!.status).toBe('not-leaf');
  });

  test('a full storage quota changes nothing and keeps the photos; the next try teaches', async () => {
    await addTeachPhotos(photos([201, 202, 203, 204, 205, 206]));
    quotaFull = true;
    expect(await saveTaughtClass({ name: ' Mancha  nueva ', note: 'Mi consejo', reservedNames: [] })).toBe(false);
    expect(notice()?.key).toBe('storageFull');
    expect(useAppStore.getState().teachPhotos).toHaveLength(6);
    expect(useAppStore.getState().heads).toEqual([]);
    expect(engine.setHeadCalls).toBe(0);
    expect(stored).toBeUndefined();

    quotaFull = false;
    expect(await saveTaughtClass({ name: ' Mancha  nueva ', note: 'Mi consejo', reservedNames: [] })).toBe(true);
    const s = useAppStore.getState();
    expect(notice()).toMatchObject({ kind: 'ok', key: 'taught', values: { name: 'Mancha nueva', count: 6 } });
    expect(s.teachPhotos).toEqual([]);
    expect(s.heads).toHaveLength(1);
    expect(s.activeHeadId).toBe(s.heads[0]!.id);
    expect(s.model?.labels).toEqual([...fakeModelInfo().labels, 'Mancha nueva']);
    expect(libraryStore?.heads[0]?.head.labels).toEqual(s.model?.labels);
    expect(stored?.name).toBe(s.heads[0]!.name);

    // Back to the model's own head: the taught head stays in the library.
    await switchHead(null);
    expect(useAppStore.getState().activeHeadId).toBeNull();
    expect(useAppStore.getState().model?.labels).toEqual(fakeModelInfo().labels);
    expect(stored).toBeUndefined();
    expect(libraryStore?.heads).toHaveLength(1);
  });

  test('a refused import changes nothing', async () => {
    const before = useAppStore.getState().model?.labels;
    expect(await importHead(new File(['{"format": "leaf-lens-he'], 'broken.json'))).toBe(false);
    expect(useAppStore.getState().headsNotice).toMatchObject({ kind: 'error', key: 'importCorrupt', values: { file: 'broken.json' } });
    const other = { ...headWithStatistics(), backbone_sha256: '0'.repeat(64) };
    expect(await importHead(new File([JSON.stringify(other)], 'other.json'))).toBe(false);
    expect(useAppStore.getState().headsNotice?.key).toBe('importOtherModel');
    expect(engine.setHeadCalls).toBe(0);
    expect(useAppStore.getState().model?.labels).toEqual(before);
    expect(useAppStore.getState().heads).toEqual([]);
  });
});

describe('the heads on this phone', () => {
  test('rename (not empty, not taken), share as a file and import it again, delete the active one', async () => {
    await addTeachPhotos(photos([401, 402, 403, 404, 405]));
    expect(await saveTaughtClass({ name: 'Kutu', note: 'Ushauri wangu', reservedNames: [] })).toBe(true);
    const id = useAppStore.getState().heads[0]!.id;
    await renameHead(id, '   ');
    expect(useAppStore.getState().headsNotice?.key).toBe('headNameEmpty');
    await renameHead(id, ' Shamba  la Juma ');
    expect(useAppStore.getState().heads[0]!.name).toBe('Shamba la Juma');
    expect(useAppStore.getState().customHeadName).toBe('Shamba la Juma');
    expect(libraryStore?.heads[0]?.head.name).toBe('Shamba la Juma');

    const file = exportHead(id)!;
    expect(file.fileName).toBe('Shamba-la-Juma.leaflens-head.json');
    expect(await importHead(new File([file.text], file.fileName))).toBe(true);
    const heads = useAppStore.getState().heads;
    expect(heads.map((h) => h.name)).toEqual(['Shamba la Juma', 'Shamba la Juma (2)']);
    expect(heads[1]!.head.labels).toEqual(heads[0]!.head.labels);
    await renameHead(heads[1]!.id, 'shamba la juma');
    expect(useAppStore.getState().headsNotice?.key).toBe('headNameTaken');

    await deleteHead(heads[1]!.id); // the active one: back to the model's own head
    expect(useAppStore.getState().heads).toHaveLength(1);
    expect(useAppStore.getState().activeHeadId).toBeNull();
    expect(useAppStore.getState().model?.labels).toEqual(fakeModelInfo().labels);
    expect(stored).toBeUndefined();
  });
});

describe('corrections', () => {
  test('the first correction makes a local copy of the shipped head; undo goes back to it', async () => {
    const file = photos([301])[0]!;
    const { choosePhoto } = await import('../../src/store/actions');
    await choosePhoto(file, file.name);
    expect(useAppStore.getState().diagnosis).not.toBeNull();
    await correctDiagnosis(2, 'Fake model with my corrections');
    let s = useAppStore.getState();
    expect(s.correctionNotice).toMatchObject({ kind: 'ok', key: 'corrected', values: { label: 'healthy' } });
    expect(s.heads).toHaveLength(1);
    expect(s.heads[0]!.origin).toBe('corrected');
    expect((s.heads[0]!.head.taught as { local_examples: Record<string, number> }).local_examples).toEqual({ healthy: 1 });
    expect(engine.shipped.taught).toBeUndefined(); // the shipped head is never changed in place
    await correctDiagnosis(0, 'unused');
    s = useAppStore.getState();
    expect(s.heads).toHaveLength(1);
    expect((s.heads[0]!.head.taught as { local_examples: Record<string, number> }).local_examples).toEqual({ healthy: 1, angular_leaf_spot: 1 });
    await undoCorrection();
    s = useAppStore.getState();
    expect((s.heads[0]!.head.taught as { local_examples: Record<string, number> }).local_examples).toEqual({ healthy: 1 });
    expect(s.lastCorrection).toBeNull();
    expect(s.correctionNotice?.key).toBe('undone');
  });
});
