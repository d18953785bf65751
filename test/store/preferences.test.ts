// The preference store: typed keys with defaults, the formats earlier versions wrote, storage that refuses, and the
// store actions that write through it.
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { chooseBackend, chooseField, chooseSaveLocation, restorePreferences } from '../../src/store/actions';
import { resetAppStore, useAppStore } from '../../src/store/index';
import { readPreference, writePreference, type PreferenceStorage } from '../../src/store/preferences';

function memoryStorage(initial: Record<string, string> = {}): PreferenceStorage & { items: Map<string, string> } {
  const items = new Map(Object.entries(initial));
  return {
    items,
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => { items.set(key, value); },
    removeItem: (key) => { items.delete(key); },
  };
}

const refusing: PreferenceStorage = {
  getItem: () => { throw new DOMException('blocked', 'SecurityError'); },
  setItem: () => { throw new DOMException('full', 'QuotaExceededError'); },
  removeItem: () => { throw new DOMException('blocked', 'SecurityError'); },
};

describe('readPreference / writePreference', () => {
  test('nothing stored: the defaults', () => {
    const storage = memoryStorage();
    expect(readPreference('backend', storage)).toBe('auto');
    expect(readPreference('saveLocation', storage)).toBe(false);
    expect(readPreference('field', storage)).toBe('');
    expect(readPreference('language', storage)).toBeNull();
  });

  test('what earlier versions stored is read back under the same keys', () => {
    const storage = memoryStorage({
      'leaf-lens.backend': 'wasm', 'leaf-lens.save-location': '1', 'leaf-lens.field': 'North plot', 'leaf-lens.language': 'sw',
    });
    expect(readPreference('backend', storage)).toBe('wasm');
    expect(readPreference('saveLocation', storage)).toBe(true);
    expect(readPreference('field', storage)).toBe('North plot');
    expect(readPreference('language', storage)).toBe('sw');
  });

  test('a write round-trips and is stored in the earlier format', () => {
    const storage = memoryStorage();
    expect(writePreference('saveLocation', true, storage)).toBe(true);
    expect(writePreference('backend', 'webgpu', storage)).toBe(true);
    expect(storage.items.get('leaf-lens.save-location')).toBe('1');
    expect(readPreference('saveLocation', storage)).toBe(true);
    expect(readPreference('backend', storage)).toBe('webgpu');
    writePreference('saveLocation', false, storage);
    expect(storage.items.get('leaf-lens.save-location')).toBe('0');
    writePreference('language', 'es', storage);
    writePreference('language', null, storage);
    expect(storage.items.has('leaf-lens.language')).toBe(false);
  });

  test('text this version does not understand falls back to the default', () => {
    const storage = memoryStorage({ 'leaf-lens.backend': 'cuda', 'leaf-lens.save-location': 'yes' });
    expect(readPreference('backend', storage)).toBe('auto');
    expect(readPreference('saveLocation', storage)).toBe(false);
  });

  test('storage that refuses (private mode, full disk) gives defaults and reports an unremembered write, never throws', () => {
    expect(readPreference('backend', refusing)).toBe('auto');
    expect(writePreference('field', 'x', refusing)).toBe(false);
    expect(writePreference('field', 'x', undefined)).toBe(false);
  });
});

describe('store actions remember preferences', () => {
  let storage: ReturnType<typeof memoryStorage>;
  beforeEach(() => {
    resetAppStore();
    storage = memoryStorage();
    vi.stubGlobal('localStorage', storage);
  });
  afterEach(() => { vi.unstubAllGlobals(); });

  test('field, location choice and backend are written, and restored into a fresh store', () => {
    chooseField('  North   plot ');
    chooseSaveLocation(true);
    chooseBackend('wasm');
    const state = useAppStore.getState();
    expect(state.backendPreference).toBe('wasm');
    expect(storage.items.get('leaf-lens.backend')).toBe('wasm');
    expect(storage.items.get('leaf-lens.field')).toBe(state.currentField);
    expect(state.currentField).not.toBe('');

    resetAppStore();
    expect(useAppStore.getState().saveLocation).toBe(false);
    restorePreferences();
    expect(useAppStore.getState().saveLocation).toBe(true);
    expect(useAppStore.getState().currentField).toBe(state.currentField);
  });

  test('chooseBackend reloads the requested model with the new backend', () => {
    useAppStore.getState().requestModel('models/fixture-deit-micro/');
    chooseBackend('webgpu');
    expect(useAppStore.getState().requestedModelUrl).toBe('models/fixture-deit-micro/');
    expect(useAppStore.getState().backendPreference).toBe('webgpu');
  });
});
