// A model folder chosen from disk, served to the engine under a virtual URL inside the app
// (`local-model/<name>/<file>`) so the engine loads it exactly like a downloaded one. The files are kept
// in IndexedDB so the choice survives a reload. Only that URL prefix is answered here; every other
// request goes to the real fetch.
import { deleteSetting, readSetting, writeSetting } from '../history/db';

const SETTING_KEY = 'local-model';
export const LOCAL_MODEL_PREFIX = 'local-model/';

export interface LocalModelFolder {
  name: string;
  files: Record<string, Blob>;
}

let active: LocalModelFolder | null = null;
let installed = false;

function localUrlBase(): string {
  return new URL(LOCAL_MODEL_PREFIX, document.baseURI).href;
}

function install(): void {
  if (installed) return;
  installed = true;
  const realFetch = globalThis.fetch.bind(globalThis);
  globalThis.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = typeof input === 'string' ? new URL(input, document.baseURI).href
      : input instanceof URL ? input.href : input.url;
    const base = localUrlBase();
    if (active && url.startsWith(base)) {
      const path = decodeURIComponent(url.slice(base.length).split(/[?#]/)[0] ?? '');
      const file = path.startsWith(`${active.name}/`) ? active.files[path.slice(active.name.length + 1)] : undefined;
      if (!file) return new Response('not in the loaded folder', { status: 404, statusText: 'Not Found' });
      return new Response(file, { status: 200, headers: { 'Content-Length': String(file.size) } });
    }
    return realFetch(input, init);
  };
}

/** Makes `folder` loadable at the returned model URL (relative to the page). */
export function activateLocalModel(folder: LocalModelFolder): string {
  install();
  active = folder;
  return `${LOCAL_MODEL_PREFIX}${encodeURIComponent(folder.name)}/`;
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
