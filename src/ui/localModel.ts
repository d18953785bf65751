// A model folder chosen from disk. It is named by a virtual URL (`local-model/<name>/`) so the store, the address
// bar and the engine's file cache treat it like any other model, and its files are handed to the engine as a file
// source (EngineOptions.files) when that URL is loaded. The files are kept in IndexedDB so the choice survives a reload.
import type { ModelFileSource } from '../engine/index';
import { deleteSetting, readSetting, writeSetting } from '../history/db';

const SETTING_KEY = 'local-model';
export const LOCAL_MODEL_PREFIX = 'local-model/';

export interface LocalModelFolder {
  name: string;
  files: Record<string, Blob>;
}

// The folder chosen in this tab: one at a time, like the model itself.
let active: { url: string; folder: LocalModelFolder } | null = null;

/** The file source for `url` when it names the folder chosen from disk; undefined for every other model. */
export function localModelFiles(url: string): ModelFileSource | undefined {
  if (!active || active.url !== url) return undefined;
  const { files } = active.folder;
  return async (relativePath) => (Object.hasOwn(files, relativePath) ? files[relativePath] : undefined);
}

/** Makes `folder` loadable at the returned model URL (relative to the page). */
export function activateLocalModel(folder: LocalModelFolder): string {
  const url = `${LOCAL_MODEL_PREFIX}${encodeURIComponent(folder.name)}/`;
  active = { url, folder };
  return url;
}

/** Files from `<input webkitdirectory>`: keeps the ones directly inside the folder that holds manifest.json. */
export function folderFromFiles(files: readonly File[]): LocalModelFolder | null {
  const relative = (f: File) => (f.webkitRelativePath || f.name).split('/');
  const manifest = files.find((f) => relative(f).at(-1) === 'manifest.json');
  if (!manifest) return null;
  const dir = relative(manifest).slice(0, -1).join('/');
  const result: Record<string, Blob> = {};
  for (const file of files) {
    const parts = relative(file);
    if (parts.slice(0, -1).join('/') === dir) result[parts.at(-1)!] = file;
  }
  const name = (dir.split('/').at(-1) || 'model').replace(/[^\w.-]/g, '_');
  return { name, files: result };
}

export async function saveLocalModel(folder: LocalModelFolder): Promise<void> {
  // Blobs are copied into IndexedDB, so the folder stays usable after the File objects are gone.
  const files: Record<string, Blob> = {};
  for (const [path, blob] of Object.entries(folder.files)) files[path] = new Blob([await blob.arrayBuffer()], { type: blob.type });
  await writeSetting(SETTING_KEY, { name: folder.name, files });
}

export async function restoreLocalModel(): Promise<string | null> {
  const folder = await readSetting<LocalModelFolder>(SETTING_KEY).catch(() => undefined);
  return folder ? activateLocalModel(folder) : null;
}

export async function forgetLocalModel(): Promise<void> {
  active = null;
  await deleteSetting(SETTING_KEY);
}
