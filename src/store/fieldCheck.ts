// The field check: up to six photos of different leaves of one plant or plot, each judged alone by the engine,
// then one combined answer (engine.combineLeaves). Every leaf and the combined answer are saved in history and
// share one groupId; removing a leaf removes its entry and updates the combined one.
import { MAX_GROUP_LEAVES, type Engine } from '../engine/index';
import type { HistoryEntry } from '../history/types';
import { actionDeps, buildEntry, currentEngine, explainOptionsOf } from './actions';
import { toUiError } from './errors';
import { useAppStore } from './index';
import type { DiagnoseMode, FieldLeaf } from './slices';

const store = useAppStore;

let nextLeafKey = 1;
/** Bumped when a check is cleared: work still running for the old check is dropped. */
let checkSeq = 0;
/** History ids of this check: each leaf's entry (by leaf key) and the combined entry. */
let leafEntryIds = new Map<number, number>();
let groupEntryId: number | null = null;
/** Saving runs one at a time, so the combined entry is never added twice. */
let saving: Promise<void> = Promise.resolve();

function newGroupId(): string {
  const c = globalThis.crypto;
  // randomUUID needs a secure context; a phone on a plain-http LAN address has only getRandomValues.
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  const bytes = new Uint8Array(16);
  c.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function setDiagnoseMode(mode: DiagnoseMode): void {
  store.getState().setDiagnoseMode(mode);
}

export function openGroupLeaf(key: number | null): void {
  store.getState().setGroupOpenLeaf(key);
}

/** Adds photos to the check (at most MAX_GROUP_LEAVES in all; the rest are counted and left out) and judges them. */
export async function addGroupPhotos(files: readonly { blob: Blob; name: string }[]): Promise<void> {
  const engine = currentEngine();
  const s = store.getState();
  if (!engine || s.modelStatus !== 'ready') {
    s.setAppError({ code: 'model-missing', message: 'The model is not ready yet.', detail: 'addGroupPhotos before the model was ready' });
    return;
  }
  if (files.length === 0) return;
  if (s.groupId === null) s.resetFieldCheck(newGroupId());
  const room = Math.max(0, MAX_GROUP_LEAVES - store.getState().groupLeaves.length);
  const taken = files.slice(0, room);
  store.getState().setGroupOverflow(files.length - taken.length);
  const added: FieldLeaf[] = taken.map((f) => ({
    key: nextLeafKey++, name: f.name, previewUrl: f.blob.size > 0 ? URL.createObjectURL(f.blob) : null,
    status: 'decoding', photo: null, diagnosis: null, error: null,
  }));
  store.getState().setGroupLeaves([...store.getState().groupLeaves, ...added]);
  const seq = checkSeq;
  for (const [i, leaf] of added.entries()) {
    await judgeLeaf(engine, leaf.key, taken[i]!.blob, seq);
    if (seq !== checkSeq) return;
    recombine(engine);
  }
  await saveCheck(seq);
}

async function judgeLeaf(engine: Engine, key: number, blob: Blob, seq: number): Promise<void> {
  const patch = (p: Partial<FieldLeaf>) => { if (seq === checkSeq) store.getState().patchGroupLeaf(key, p); };
  let photo;
  try {
    photo = await engine.loadPhoto(blob);
  } catch (error) {
    patch({ status: 'error', error: toUiError(error, 'image-undecodable') });
    return;
  }
  if (seq !== checkSeq) { photo.close(); return; }
  patch({ status: 'diagnosing', photo });
  try {
    const diagnosis = await engine.diagnose(photo, explainOptionsOf(store.getState()));
    patch({ status: 'done', diagnosis });
  } catch (error) {
    patch({ status: 'error', error: toUiError(error, 'internal') });
  }
}

function recombine(engine: Engine): void {
  const done = store.getState().groupLeaves.filter((l) => l.diagnosis !== null);
  store.getState().setGroupResult(done.length > 0 ? engine.combineLeaves(done.map((l) => l.diagnosis!)) : null);
}

/** Saves new leaves and adds or updates the combined entry. Never throws: a failure shows as an app error. */
function saveCheck(seq: number): Promise<void> {
  saving = saving.then(() => saveCheckNow(seq));
  return saving;
}

async function saveCheckNow(seq: number): Promise<void> {
  const d = actionDeps();
  const s = store.getState();
  const { model, groupId, groupResult } = s;
  if (seq !== checkSeq || !model || !groupId) return;
  try {
    const done = s.groupLeaves.filter((l) => l.diagnosis && l.photo);
    for (const leaf of done) {
      if (leafEntryIds.has(leaf.key)) continue;
      leafEntryIds.set(leaf.key, await d.history.add(await buildEntry(leaf.diagnosis!, leaf.photo!, model, groupId)));
    }
    if (seq !== checkSeq) return;
    if (groupResult && done.length > 0) {
      const entry = await combinedEntry(done, groupId);
      if (groupEntryId === null) groupEntryId = await d.history.add(entry);
      else await d.history.update({ ...entry, id: groupEntryId });
    } else if (groupEntryId !== null) {
      await d.history.remove(groupEntryId);
      groupEntryId = null;
    }
    d.onHistoryChanged?.();
  } catch (error) {
    store.getState().setAppError(toUiError(error, 'storage'));
  }
}

/** The combined answer as a history entry: the first judged leaf's photo and heatmap stand for the check. */
async function combinedEntry(done: FieldLeaf[], groupId: string): Promise<HistoryEntry> {
  const s = store.getState();
  const result = s.groupResult!;
  const judged = result.judged.map((i) => done[i]!);
  const face = judged[0] ?? done[0]!;
  const entry = await buildEntry(face.diagnosis!, face.photo!, s.model!, groupId);
  const answered = result.top >= 0;
  entry.probabilities = Array.from(result.probabilities);
  entry.top = answered ? result.top : face.diagnosis!.top;
  entry.explainedClass = entry.top;
  entry.outcome = result.outcome;
  entry.group = {
    leafIds: done.map((l) => leafEntryIds.get(l.key)).filter((id): id is number => id !== undefined),
    leafCount: done.length,
    refused: result.refused.length,
    judged: result.judged.length,
    agreeing: result.agreeing,
    reasons: result.reasons,
    failed: s.groupLeaves.filter((l) => l.status === 'error').length,
  };
  return entry;
}

/** Takes one leaf out of the check (and out of history), then recombines. */
export async function removeGroupLeaf(key: number): Promise<void> {
  const s = store.getState();
  const leaf = s.groupLeaves.find((l) => l.key === key);
  if (!leaf) return;
  leaf.photo?.close();
  if (leaf.previewUrl) URL.revokeObjectURL(leaf.previewUrl);
  s.setGroupLeaves(s.groupLeaves.filter((l) => l.key !== key));
  if (s.groupOpenLeaf === key) s.setGroupOpenLeaf(null);
  const engine = currentEngine();
  if (engine) recombine(engine);
  const entryId = leafEntryIds.get(key);
  leafEntryIds.delete(key);
  if (entryId !== undefined) {
    try {
      await actionDeps().history.remove(entryId);
    } catch (error) {
      store.getState().setAppError(toUiError(error, 'storage'));
    }
  }
  await saveCheck(checkSeq);
}

/** Ends the check (its history stays): photos closed, the next photo starts a new check. */
export function clearFieldCheck(): void {
  checkSeq++;
  const s = store.getState();
  for (const leaf of s.groupLeaves) {
    leaf.photo?.close();
    if (leaf.previewUrl) URL.revokeObjectURL(leaf.previewUrl);
  }
  leafEntryIds = new Map();
  groupEntryId = null;
  s.resetFieldCheck(null);
}
