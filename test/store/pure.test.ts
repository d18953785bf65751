// Pure helpers behind the store: error mapping (history export: test/history/).
import { describe, expect, test } from 'vitest';
import { isQuotaError, toUiError } from '../../src/store/errors';
import { ACCURACY_FLOOR, modelQuality, qualityMarkKey } from '../../src/store/modelQuality';

describe('modelQuality', () => {
  test('untrained wins over any accuracy', () => {
    expect(modelQuality(false, 0.99)).toEqual({ kind: 'untrained' });
  });
  test('a trained model under the ship floor is preliminary, at the floor it is tested', () => {
    expect(modelQuality(true, 0.78)).toEqual({ kind: 'preliminary', valAccuracy: 0.78 });
    expect(modelQuality(true, ACCURACY_FLOOR)).toEqual({ kind: 'tested', valAccuracy: ACCURACY_FLOOR });
    expect(ACCURACY_FLOOR).toBe(0.85);
  });
  test('the mark beside an answer names untrained and preliminary models only', () => {
    expect(qualityMarkKey({ kind: 'untrained' })).toBe('history.untrained');
    expect(qualityMarkKey({ kind: 'preliminary', valAccuracy: 0.8 })).toBe('history.preliminary');
    expect(qualityMarkKey({ kind: 'tested', valAccuracy: 0.9 })).toBeNull();
  });
  test('an unknown or unreadable accuracy does not invent a warning', () => {
    expect(modelQuality(true, undefined)).toEqual({ kind: 'tested' });
    expect(modelQuality(true, Number.NaN).kind).toBe('tested');
  });
});

describe('errors', () => {
  test('QuotaExceededError, direct or wrapped, becomes storage-full', () => {
    const quota = new DOMException('full', 'QuotaExceededError');
    expect(isQuotaError(quota)).toBe(true);
    expect(isQuotaError(new Error('x', { cause: quota }))).toBe(true);
    expect(toUiError(quota).code).toBe('storage-full');
    expect(isQuotaError(new Error('other'))).toBe(false);
  });
  test('an engine-style error keeps its code and detail', () => {
    const e = Object.assign(new Error('The photo file is empty.'), { code: 'image-empty', detail: '0 bytes' });
    expect(toUiError(e)).toEqual({ code: 'image-empty', message: 'The photo file is empty.', detail: '0 bytes' });
  });
});
