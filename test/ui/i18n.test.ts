// Every string exists in every language; advice covers every known class in every language; language
// choice follows the browser.
import { describe, expect, test } from 'vitest';
import { EngineError } from '../../src/engine/errors';
import { ADVICE, ADVICE_SOURCES } from '../../src/i18n/advice';
import { en } from '../../src/i18n/en';
import { es } from '../../src/i18n/es';
import { changeLanguage, className, createI18n, formatPercent, formatProbability, loadAllLanguages, pickLanguage } from '../../src/i18n/index';
import { sw } from '../../src/i18n/sw';
import { toUiError } from '../../src/store/errors';
import { errorText } from '../../src/ui/components/ErrorMessage';

function keys(value: unknown, prefix = ''): string[] {
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k));
  }
  return [prefix];
}

function leaves(value: unknown): string[] {
  if (value && typeof value === 'object') return Object.values(value).flatMap(leaves);
  return [String(value)];
}

describe('translations', () => {
  test.each([['es', es], ['sw', sw]])('%s has exactly the English keys, none empty', (_, strings) => {
    expect(keys(strings).sort()).toEqual(keys(en).sort());
    expect(leaves(strings).filter((s) => s.trim() === '')).toEqual([]);
  });

  test.each([['es', es], ['sw', sw]])('%s keeps every interpolation placeholder', (_, strings) => {
    const placeholders = (s: string) => [...s.matchAll(/{{(\w+)}}/g)].map((m) => m[1]).sort();
    const enKeys = keys(en);
    for (const key of enKeys) {
      const get = (o: unknown) => key.split('.').reduce<unknown>((acc, k) => (acc as Record<string, unknown>)[k], o) as string;
      expect(placeholders(get(strings)), key).toEqual(placeholders(get(en)));
    }
  });

  test('translations differ from English (not copies)', () => {
    const same = (other: typeof en) => keys(en).filter((k) => {
      const get = (o: unknown) => k.split('.').reduce<unknown>((acc, p) => (acc as Record<string, unknown>)[p], o);
      return get(en) === get(other);
    });
    // Only names and pure placeholders may match.
    const allowed = /^(app\.title|diagnosis\.probability|history\.entryLabel|explain\.colorMaps\.turbo)$/;
    expect(same(es).filter((k) => !allowed.test(k))).toEqual([]);
    expect(same(sw).filter((k) => !allowed.test(k))).toEqual([]);
  });

  test('advice: every known class in every language, with named sources', () => {
    for (const language of ['en', 'es', 'sw'] as const) {
      for (const id of ['angular_leaf_spot', 'bean_rust', 'healthy'] as const) {
        const advice = ADVICE[language][id];
        expect(advice.summary.length, `${language} ${id}`).toBeGreaterThan(60);
        expect(advice.actions.length).toBeGreaterThanOrEqual(3);
        expect(advice.actions.length).toBe(ADVICE.en[id].actions.length);
        expect(ADVICE_SOURCES[id].length).toBeGreaterThan(0);
        for (const s of ADVICE_SOURCES[id]) expect(s.url).toMatch(/^https:\/\//);
      }
    }
  });
});

describe('language choice and formatting', () => {
  test('the first supported browser language wins, by base tag', () => {
    expect(pickLanguage(['fr-FR', 'es-CO', 'en'])).toBe('es');
    expect(pickLanguage(['sw-KE'])).toBe('sw');
    expect(pickLanguage(['de', 'fr'])).toBe('en');
    expect(pickLanguage([])).toBe('en');
  });

  test('class ids: translated when known, readable when not', async () => {
    const i18n = await createI18n('es');
    expect(className(i18n, 'bean_rust')).toBe('Roya del frijol');
    expect(className(i18n, 'maize_streak_virus')).toBe('maize streak virus');
  });

  test('numbers follow the language', () => {
    expect(formatPercent(0.5, 'en')).toBe('50%');
    expect(formatPercent(0.5, 'es')).toMatch(/^50\s%$/);
  });

  test('a probability never reads as certain: the ends are <1 % and >99 %', () => {
    expect(formatProbability(0.9968, 'en')).toBe('>99%');
    expect(formatProbability(0.995, 'en')).toBe('>99%');
    expect(formatProbability(0.994, 'en')).toBe('99%');
    expect(formatProbability(0.42, 'en')).toBe('42%');
    expect(formatProbability(0.006, 'en')).toBe('1%');
    expect(formatProbability(0.004, 'en')).toBe('<1%');
    expect(formatProbability(0, 'es')).toMatch(/^<1\s%$/);
    expect(formatProbability(1, 'sw')).toMatch(/^>99\s?%$/);
  });

  test('plural forms in every language', async () => {
    for (const lng of ['en', 'es', 'sw'] as const) {
      const i18n = await createI18n(lng);
      expect(i18n.t('history.count', { count: 1 })).not.toBe(i18n.t('history.count', { count: 2 }).replace('2', '1'));
      expect(i18n.t('history.count', { count: 2 })).toContain('2');
    }
  });
});

describe('languages load on demand', () => {
  test('only the language shown (and the English fallback) is loaded; another loads when chosen', async () => {
    const i18n = await createI18n('en');
    expect(i18n.hasResourceBundle('en', 'translation')).toBe(true);
    expect(i18n.hasResourceBundle('es', 'translation')).toBe(false);
    expect(i18n.hasResourceBundle('sw', 'translation')).toBe(false);
    await changeLanguage(i18n, 'sw');
    expect(i18n.language).toBe('sw');
    expect(i18n.t('nav.history')).toBe(sw.nav.history);
    expect(i18n.hasResourceBundle('es', 'translation')).toBe(false);
  });

  test('a Spanish start shows Spanish at once, English as the fallback', async () => {
    const i18n = await createI18n('es');
    expect(i18n.t('nav.history')).toBe(es.nav.history);
    expect(i18n.hasResourceBundle('en', 'translation')).toBe(true);
  });

  test('loadAllLanguages: every language, so a class name can be checked against all of them', async () => {
    const i18n = await createI18n('en');
    await loadAllLanguages(i18n);
    expect(i18n.t('classes.bean_rust', { lng: 'es' })).toBe(es.classes.bean_rust);
    expect(i18n.t('classes.bean_rust', { lng: 'sw' })).toBe(sw.classes.bean_rust);
  });
});

describe('engine errors: the engine gives codes, i18n every sentence', () => {
  test('a reason gives its own translated sentence; a code without one its code sentence', async () => {
    const i18n = await createI18n('es');
    const t = (k: string) => i18n.t(k);
    const exists = (k: string) => i18n.exists(k);
    const heic = toUiError(new EngineError('image-unsupported-format', 'HEIF/HEIC photo', 'heif'));
    expect(heic.reason).toBe('heif');
    expect(errorText(t, exists, heic)).toBe(es.errorReasons.heif);
    expect(errorText(t, exists, toUiError(new EngineError('image-empty', '0 bytes')))).toBe(es.errors['image-empty']);
  });
  test("the engine's own message is the English sentence from i18n (no second copy)", () => {
    expect(new EngineError('image-unsupported-format', 'x', 'heif').message).toBe(en.errorReasons.heif);
    expect(new EngineError('model-contract', 'tokens 16').message).toBe(en.errors['model-contract']);
  });
});
