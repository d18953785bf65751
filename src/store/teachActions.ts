// Teaching a class, corrections and the heads kept on this phone, as plain functions outside React (like
// actions.ts): they call the engine's public API and the injected head library, and report into the store.
// Nothing is lost on failure: the photos being taught stay on screen, and the library and the active head are
// only replaced once the new one is stored.
import {
  addExample, classNameProblem, cleanClassName, headFileText, MIN_TEACH_PHOTOS, readHeadFile, renamedHead, teachClass,
  type HeadJson, type ModelInfo,
} from '../engine/index';
import { actionDeps, currentEngine, rediagnose, type HeadLibrary } from './actions';
import { toUiError } from './errors';
import { useAppStore } from './index';
import type { SavedHead, TeachPhoto } from './teachSlice';

const store = useAppStore;
let nextPhotoId = 1;

function engineOrThrow() {
  const engine = currentEngine();
  if (!engine) throw Object.assign(new Error('no model is loaded'), { code: 'model-missing' });
  return engine;
}

function library(): HeadLibrary {
  const s = store.getState();
  return { heads: s.heads, activeHeadId: s.activeHeadId };
}

function newId(): string {
  return `head-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Reads the heads kept on this phone (once). The active head itself is restored by loadModel. */
export async function loadHeadLibrary(): Promise<void> {
  if (store.getState().headsLoaded) return;
  const stored = await actionDeps().readHeadLibrary?.().catch(() => undefined);
  const active = store.getState().customHeadName;
  // A stored active id whose head is no longer the one in use (e.g. refused for another backbone) is dropped.
  const activeId = stored?.heads.some((h) => h.id === stored.activeHeadId && h.name === active) ? stored.activeHeadId : null;
  store.getState().setHeads(stored?.heads ?? [], activeId);
}

/** Stores the library first (a full quota throws here, before anything changes), then updates the store. */
async function commitLibrary(next: HeadLibrary): Promise<void> {
  await actionDeps().writeHeadLibrary?.(next);
  store.getState().setHeads(next.heads, next.activeHeadId);
}

/** Makes `head` the engine's head and remembers it across reloads (null: the model's own head). */
async function activate(saved: SavedHead | null): Promise<ModelInfo> {
  const engine = engineOrThrow();
  const d = actionDeps();
  const model = await engine.setHead(saved ? saved.head : engine.headJson('shipped'), saved ? saved.name : 'head.json');
  store.getState().setCustomHead(saved ? saved.name : null, model);
  store.getState().setExplainSettings({ targetClass: undefined });
  await d.writeStoredHead?.(saved ? { name: saved.name, head: saved.head } : undefined);
  if (store.getState().photo) await rediagnose();
  return model;
}

/** A head name not used yet in the library ("Name", "Name (2)", …). */
function freeName(name: string, heads: readonly SavedHead[], except?: string): string {
  const taken = new Set(heads.filter((h) => h.id !== except).map((h) => h.name.toLocaleLowerCase()));
  if (!taken.has(name.toLocaleLowerCase())) return name;
  for (let i = 2; ; i++) if (!taken.has(`${name} (${i})`.toLocaleLowerCase())) return `${name} (${i})`;
}

// ---------------------------------------------------------------- teaching a class

/** Checks each photo as a diagnosis would (decode, quality, not-a-leaf) and keeps its features. */
export async function addTeachPhotos(files: readonly File[]): Promise<void> {
  const s = store.getState();
  s.setTeachNotice(null);
  const added: TeachPhoto[] = files.map((file) => ({
    id: nextPhotoId++, name: file.name || 'photo', previewUrl: file.size > 0 ? URL.createObjectURL(file) : null, status: 'checking', keep: false,
  }));
  s.setTeachPhotos((photos) => [...photos, ...added]);
  for (const [i, file] of files.entries()) {
    const id = added[i]!.id;
    const update = (patch: Partial<TeachPhoto>) => store.getState().setTeachPhotos((photos) => photos.map((p) => (p.id === id ? { ...p, ...patch } : p)));
    try {
      const engine = engineOrThrow();
      const photo = await engine.loadPhoto(file);
      try {
        const e = await engine.embed(photo);
        // Teaching has its own, wider limit: the photos of a disease the head does not know yet lie a little outside
        // what it knows (NaN scores are refused).
        const refused = e.domain.checked && !(e.domain.score <= e.domain.teachThreshold);
        if (refused) update({ status: 'not-leaf', features: e.features, keep: false });
        else if (e.quality.issues.length > 0) update({ status: 'quality', features: e.features, issues: e.quality.issues, keep: false });
        else update({ status: 'ok', features: e.features, keep: true, novel: e.outcome === 'not-bean-leaf' });
      } finally {
        photo.close();
      }
    } catch (error) {
      update({ status: 'error', error: toUiError(error, 'image-undecodable'), keep: false });
    }
  }
}

export function removeTeachPhoto(id: number): void {
  store.getState().setTeachPhotos((photos) => {
    const gone = photos.find((p) => p.id === id);
    if (gone?.previewUrl) URL.revokeObjectURL(gone.previewUrl);
    return photos.filter((p) => p.id !== id);
  });
}

/** Keep (or drop) a refused or poor photo anyway: the user knows it shows the disease. */
export function keepTeachPhoto(id: number, keep: boolean): void {
  store.getState().setTeachPhotos((photos) => photos.map((p) => (p.id === id && p.features ? { ...p, keep } : p)));
}

export function clearTeachPhotos(): void {
  for (const p of store.getState().teachPhotos) if (p.previewUrl) URL.revokeObjectURL(p.previewUrl);
  store.getState().setTeachPhotos(() => []);
}

export interface SaveClassRequest {
  name: string;
  note: string;
  /** The names people see for the active head's classes, in every language (a taught class may not repeat one). */
  reservedNames: readonly string[];
}

/** Teaches the class from the kept photos, stores the new head and makes it active. Reports into teachNotice;
 * returns true when the class was taught. */
export async function saveTaughtClass(request: SaveClassRequest): Promise<boolean> {
  const s = store.getState();
  const engine = currentEngine();
  const fail = (key: string, values?: Record<string, string | number>, error?: unknown) => {
    store.getState().setTeachNotice({ kind: 'error', key, values, error: error === undefined ? undefined : toUiError(error) });
    return false;
  };
  if (!engine) return fail('noModel');
  const name = cleanClassName(request.name);
  const problem = classNameProblem(name, [...engine.model.labels, ...request.reservedNames]);
  if (problem) return fail(`nameProblems.${problem}`, { name });
  if (s.teachPhotos.some((p) => p.status === 'checking')) return fail('stillChecking');
  const kept = s.teachPhotos.filter((p) => p.keep && p.features);
  if (kept.length < MIN_TEACH_PHOTOS) return fail('tooFewPhotos', { count: kept.length, min: MIN_TEACH_PHOTOS, more: MIN_TEACH_PHOTOS - kept.length });
  if (!engine.model.canTeach) return fail('noStatistics');
  store.getState().setTeachBusy(true);
  try {
    let head: HeadJson;
    try {
      head = teachClass(engine.headJson('active'), engine.model.backbone, {
        label: name, note: request.note, features: kept.map((p) => p.features!), reservedNames: request.reservedNames,
      });
    } catch (error) {
      return fail(toUiError(error).code === 'head-too-many-classes' ? 'tooManyClasses' : 'teachFailed', undefined, error);
    }
    const lib = library();
    const saved: SavedHead = { id: newId(), name: freeName(String(head.name), lib.heads), origin: 'taught', createdAt: new Date().toISOString(), head };
    saved.head = { ...head, name: saved.name };
    try {
      await commitLibrary({ heads: [...lib.heads, saved], activeHeadId: saved.id });
    } catch (error) {
      return fail(toUiError(error, 'storage').code === 'storage-full' ? 'storageFull' : 'storageFailed', undefined, error);
    }
    try {
      await activate(saved);
    } catch (error) {
      return fail('teachFailed', undefined, error);
    }
    clearTeachPhotos();
    store.getState().setTeachNotice({ kind: 'ok', key: 'taught', values: { name, count: kept.length, head: saved.name } });
    return true;
  } finally {
    store.getState().setTeachBusy(false);
  }
}

// ---------------------------------------------------------------- the heads on this phone

function headsFail(key: string, error?: unknown, values?: Record<string, string | number>): void {
  store.getState().setHeadsNotice({ kind: 'error', key, values, error: error === undefined ? undefined : toUiError(error) });
}

/** Switches to a kept head, or back to the model's own (null). */
export async function switchHead(id: string | null): Promise<void> {
  const lib = library();
  const saved = id === null ? null : lib.heads.find((h) => h.id === id) ?? null;
  try {
    await commitLibrary({ ...lib, activeHeadId: saved ? saved.id : null });
    await activate(saved);
    store.getState().setHeadsNotice(null);
    store.getState().setLastCorrection(null);
  } catch (error) {
    headsFail(toUiError(error).code === 'storage-full' ? 'storageFull' : 'switchFailed', error);
  }
}

export async function renameHead(id: string, rawName: string): Promise<void> {
  const lib = library();
  const name = cleanClassName(rawName);
  if (!name) return headsFail('headNameEmpty');
  if (lib.heads.some((h) => h.id !== id && h.name.toLocaleLowerCase() === name.toLocaleLowerCase())) return headsFail('headNameTaken', undefined, { name });
  const heads = lib.heads.map((h) => (h.id === id ? { ...h, name, head: renamedHead(h.head as HeadJson, name) } : h));
  try {
    await commitLibrary({ ...lib, heads });
    if (lib.activeHeadId === id) await activate(heads.find((h) => h.id === id)!);
    store.getState().setHeadsNotice(null);
  } catch (error) {
    headsFail(toUiError(error).code === 'storage-full' ? 'storageFull' : 'storageFailed', error);
  }
}

export async function deleteHead(id: string): Promise<void> {
  const lib = library();
  const wasActive = lib.activeHeadId === id;
  try {
    await commitLibrary({ heads: lib.heads.filter((h) => h.id !== id), activeHeadId: wasActive ? null : lib.activeHeadId });
    if (wasActive) await activate(null);
    store.getState().setHeadsNotice(null);
    if (store.getState().lastCorrection?.headId === id) store.getState().setLastCorrection(null);
  } catch (error) {
    headsFail('storageFailed', error);
  }
}

/** The shared file of a head (null: the active one): its name and text. */
export function exportHead(id: string | null): { fileName: string; text: string } | null {
  const engine = currentEngine();
  if (!engine) return null;
  const saved = id === null ? null : library().heads.find((h) => h.id === id);
  const head = (saved ? saved.head : engine.headJson('active')) as HeadJson;
  const name = saved?.name ?? (typeof head.name === 'string' ? head.name : engine.model.name);
  const safe = name.normalize('NFKD').replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '') || 'head';
  return { fileName: `${safe}.leaflens-head.json`, text: headFileText(head, engine.model.backbone) };
}

/** Reads a shared head file, keeps it and makes it active. Nothing changes when the file is refused. */
export async function importHead(file: File): Promise<boolean> {
  const engine = currentEngine();
  if (!engine) { headsFail('noModel'); return false; }
  let head: HeadJson;
  try {
    head = readHeadFile(await file.text(), engine.model.backbone, file.name);
  } catch (error) {
    const code = toUiError(error).code;
    const key = ({
      'head-corrupt': 'importCorrupt', 'head-mismatch': 'importOtherModel', 'head-not-finite': 'importNotFinite',
      'head-too-many-classes': 'importTooManyClasses',
    } as Record<string, string>)[code] ?? 'importInvalid';
    headsFail(key, error, { file: file.name });
    return false;
  }
  const lib = library();
  const baseName = typeof head.name === 'string' && head.name.trim() ? cleanClassName(head.name) : file.name.replace(/\.json$/i, '');
  const saved: SavedHead = { id: newId(), name: freeName(baseName, lib.heads), origin: 'imported', createdAt: new Date().toISOString(), head };
  saved.head = { ...head, name: saved.name };
  try {
    await commitLibrary({ heads: [...lib.heads, saved], activeHeadId: saved.id });
    await activate(saved);
  } catch (error) {
    headsFail(toUiError(error).code === 'storage-full' ? 'storageFull' : 'storageFailed', error);
    return false;
  }
  store.getState().setHeadsNotice({ kind: 'ok', key: 'imported', values: { name: saved.name } });
  return true;
}

// ---------------------------------------------------------------- "This is actually …"

/** Adds the photo on screen to class `classIndex` of a local copy of the active head (the model's own head is
 * never changed: the first correction makes a copy named `copyName`). Undo with undoCorrection. */
export async function correctDiagnosis(classIndex: number, copyName: string): Promise<void> {
  const s = store.getState();
  const engine = currentEngine();
  const diagnosis = s.diagnosis;
  if (!engine || !diagnosis) return;
  const fail = (key: string, error?: unknown) => store.getState().setLastCorrection(s.lastCorrection, { kind: 'error', key, error: error === undefined ? undefined : toUiError(error) });
  if (!engine.model.canTeach) return fail('noStatistics');
  const lib = library();
  const current = lib.activeHeadId === null ? null : lib.heads.find((h) => h.id === lib.activeHeadId) ?? null;
  let head: HeadJson;
  try {
    head = addExample(engine.headJson('active'), engine.model.backbone, classIndex, diagnosis.features, diagnosis.layerFeatures);
  } catch (error) {
    return fail('correctFailed', error);
  }
  const label = engine.model.labels[classIndex] ?? '';
  let saved: SavedHead;
  let heads: SavedHead[];
  if (current) {
    saved = { ...current, head: { ...head, name: current.name } };
    heads = lib.heads.map((h) => (h.id === current.id ? saved : h));
  } else {
    const name = freeName(copyName, lib.heads);
    saved = { id: newId(), name, origin: 'corrected', createdAt: new Date().toISOString(), head: { ...head, name } };
    heads = [...lib.heads, saved];
  }
  try {
    await commitLibrary({ heads, activeHeadId: saved.id });
    await activate(saved);
  } catch (error) {
    return fail(toUiError(error).code === 'storage-full' ? 'storageFull' : 'correctFailed', error);
  }
  store.getState().setLastCorrection({ previous: current, previousActiveId: lib.activeHeadId, headId: saved.id, label },
    { kind: 'ok', key: 'corrected', values: { label } });
}

/** Takes the last correction back: the head as it was before (or the model's own head again). */
export async function undoCorrection(): Promise<void> {
  const undo = store.getState().lastCorrection;
  if (!undo) return;
  const lib = library();
  const heads = undo.previous
    ? lib.heads.map((h) => (h.id === undo.headId ? undo.previous! : h))
    : lib.heads.filter((h) => h.id !== undo.headId);
  try {
    await commitLibrary({ heads, activeHeadId: undo.previousActiveId });
    await activate(undo.previous);
    store.getState().setLastCorrection(null, { kind: 'ok', key: 'undone', values: { label: undo.label } });
  } catch (error) {
    store.getState().setLastCorrection(undo, { kind: 'error', key: 'correctFailed', error: toUiError(error) });
  }
}
