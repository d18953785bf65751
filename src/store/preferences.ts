// The user's preferences: small choices remembered on this phone between visits. One table of typed keys, one
// storage (localStorage: read synchronously at start-up, before the first render picks a language or a backend),
// one reader and one writer. The store's actions write them; components go through those actions.
// Larger things kept on the phone (heads, a model folder loaded from disk, history) are data, not preferences:
// they live in IndexedDB (src/history/db.ts).
import type { BackendPreference } from '../engine/types';

export interface Preferences {
  /** Which backend to try first. */
  backend: BackendPreference;
  /** Whether a saved check keeps the phone's location. */
  saveLocation: boolean;
  /** The field new checks are filed under ('' for none). */
  field: string;
  /** The interface language, a code of src/i18n (validated there). Null until the user picks one. */
  language: string | null;
}

export type PreferenceKey = keyof Preferences;

interface Codec<T> {
  storageKey: string;
  fallback: T;
  /** The stored text back to a value; undefined for text this version does not understand (then the fallback). */
  parse(text: string): T | undefined;
  /** The text to store; null removes the key. */
  format(value: T): string | null;
}

// Storage keys and formats are those earlier versions wrote, so nothing a user chose is lost on update.
const CODECS: { [K in PreferenceKey]: Codec<Preferences[K]> } = {
  backend: {
    storageKey: 'leaf-lens.backend',
    fallback: 'auto',
    parse: (text) => (text === 'auto' || text === 'webgpu' || text === 'wasm' ? text : undefined),
    format: (value) => value,
  },
  saveLocation: {
    storageKey: 'leaf-lens.save-location',
    fallback: false,
    parse: (text) => (text === '1' ? true : text === '0' ? false : undefined),
    format: (value) => (value ? '1' : '0'),
  },
  field: { storageKey: 'leaf-lens.field', fallback: '', parse: (text) => text, format: (value) => value },
  language: {
    storageKey: 'leaf-lens.language',
    fallback: null,
    parse: (text) => text || undefined,
    format: (value) => value,
  },
};

/** The part of the Web Storage API used here; tests pass their own. */
export interface PreferenceStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

function browserStorage(): PreferenceStorage | undefined {
  // Reading `localStorage` itself throws where storage is blocked (some private modes, sandboxed frames).
  try { return globalThis.localStorage ?? undefined; } catch { return undefined; }
}

/** The stored value of `key`, or its default when nothing (or nothing readable) is stored. Never throws. */
export function readPreference<K extends PreferenceKey>(key: K, storage: PreferenceStorage | undefined = browserStorage()): Preferences[K] {
  const codec = CODECS[key] as Codec<Preferences[K]>;
  let text: string | null = null;
  try { text = storage?.getItem(codec.storageKey) ?? null; } catch { /* blocked storage: the default */ }
  if (text === null) return codec.fallback;
  return codec.parse(text) ?? codec.fallback;
}

/** Remembers `value` for `key`; false when the phone would not store it (private mode, full). Never throws:
 * a preference that is not remembered must not stop what the user asked for. */
export function writePreference<K extends PreferenceKey>(key: K, value: Preferences[K], storage: PreferenceStorage | undefined = browserStorage()): boolean {
  const codec = CODECS[key] as Codec<Preferences[K]>;
  if (!storage) return false;
  try {
    const text = codec.format(value);
    if (text === null) storage.removeItem(codec.storageKey);
    else storage.setItem(codec.storageKey, text);
    return true;
  } catch {
    return false;
  }
}
