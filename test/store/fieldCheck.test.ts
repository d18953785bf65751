// The field check driven through its actions with a fake engine (whose combineLeaves is the engine's own
// maths) and an in-memory history.
import { beforeEach, expect, test } from 'vitest';
import { configureActions, disposeEngine, loadModel } from '../../src/store/actions';
import { addGroupPhotos, clearFieldCheck, removeGroupLeaf } from '../../src/store/fieldCheck';
import { resetAppStore, useAppStore } from '../../src/store/index';
import { FakeEngine } from './fakeEngine.fixture';
import { MemoryHistory } from './memoryHistory.fixture';

let engines: FakeEngine[];
let history: MemoryHistory;

/** The fake engine's answer depends on the byte count, so photos of different sizes differ. */
function photos(...sizes: number[]): { blob: Blob; name: string }[] {
  return sizes.map((bytes, i) => ({ blob: new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' }), name: `leaf-${i}-${bytes}.jpg` }));
}

beforeEach(() => {
  disposeEngine();
  clearFieldCheck();
  resetAppStore();
  engines = [];
  history = new MemoryHistory();
  configureActions({
    history,
    async createEngine() {
      const engine = new FakeEngine();
      engines.push(engine);
      return engine;
    },
    makeThumbnail: async (p) => `data:image/jpeg;base64,thumb${p.id}`,
  });
});

test('each leaf is judged and saved under one groupId, then one combined entry with the leaves it used', async () => {
  await loadModel('models/fixture/');
  await addGroupPhotos(photos(100, 101, 102));
  const s = useAppStore.getState();
  expect(s.groupLeaves.map((l) => l.status)).toEqual(['done', 'done', 'done']);
  expect(s.groupResult?.judged).toEqual([0, 1, 2]);
  const entries = await history.list();
  expect(entries).toHaveLength(4);
  const groupIds = new Set(entries.map((e) => e.groupId));
  expect(groupIds.size).toBe(1);
  expect([...groupIds][0]).toBe(s.groupId);
  const combined = entries.find((e) => e.group);
  expect(combined?.group).toMatchObject({ leafCount: 3, refused: 0 });
  expect(combined?.group?.leafIds).toHaveLength(3);
  expect(combined?.outcome).toBe(s.groupResult?.outcome);
  expect(combined?.probabilities).toEqual(Array.from(s.groupResult!.probabilities));
  for (const leaf of entries.filter((e) => !e.group)) expect(['sure', 'unsure']).toContain(leaf.outcome);
});

test('more than six photos: six are judged, the rest counted as left out', async () => {
  await loadModel('models/fixture/');
  await addGroupPhotos(photos(100, 101, 102, 103, 104, 105, 106, 107));
  const s = useAppStore.getState();
  expect(s.groupLeaves).toHaveLength(6);
  expect(s.groupOverflow).toBe(2);
  await addGroupPhotos(photos(200));
  expect(useAppStore.getState().groupLeaves).toHaveLength(6);
  expect(useAppStore.getState().groupOverflow).toBe(1);
});

test('removing a leaf removes its entry, closes its photo and updates the combined entry', async () => {
  await loadModel('models/fixture/');
  await addGroupPhotos(photos(100, 101, 102));
  const removed = useAppStore.getState().groupLeaves[1]!;
  await removeGroupLeaf(removed.key);
  const s = useAppStore.getState();
  expect(s.groupLeaves.map((l) => l.key)).not.toContain(removed.key);
  expect(s.groupResult?.judged).toHaveLength(2);
  expect(engines[0]!.closedPhotos).toBe(1);
  const entries = await history.list();
  expect(entries).toHaveLength(3);
  expect(entries.find((e) => e.group)?.group).toMatchObject({ leafCount: 2 });
});

test('a new check after clearing gets a new groupId; the old entries stay in history', async () => {
  await loadModel('models/fixture/');
  await addGroupPhotos(photos(100, 101));
  const first = useAppStore.getState().groupId;
  clearFieldCheck();
  expect(useAppStore.getState().groupLeaves).toEqual([]);
  expect(engines[0]!.closedPhotos).toBe(2);
  await addGroupPhotos(photos(300, 301));
  const second = useAppStore.getState().groupId;
  expect(second).not.toBe(first);
  expect(new Set((await history.list()).map((e) => e.groupId))).toEqual(new Set([first, second]));
});

test('photos before the model is ready are refused with a message, nothing is added', async () => {
  await addGroupPhotos(photos(100));
  expect(useAppStore.getState().groupLeaves).toEqual([]);
  expect(useAppStore.getState().appError?.code).toBe('model-missing');
});

test('a photo that cannot be opened is marked, the others still combine', async () => {
  await loadModel('models/fixture/');
  await addGroupPhotos([...photos(100), { blob: new Blob([]), name: 'empty.jpg' }, ...photos(102)]);
  const s = useAppStore.getState();
  expect(s.groupLeaves.map((l) => l.status)).toEqual(['done', 'error', 'done']);
  expect(s.groupLeaves[1]!.error?.code).toBe('image-empty');
  expect(s.groupResult?.judged).toHaveLength(2);
  expect((await history.list()).find((e) => e.group)?.group).toMatchObject({ leafCount: 2, failed: 1 });
});
