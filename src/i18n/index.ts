// i18next set-up: English, Spanish, Swahili (no network: the service worker precaches every language's chunk), the
// language picked from the browser unless the user chose one, and Intl helpers for numbers and dates.
import i18next, { type i18n as I18n } from 'i18next';
import { initReactI18next } from 'react-i18next';
import { readPreference, writePreference } from '../store/preferences';
import { en, type Strings } from './en';

export const LANGUAGES = [
  { code: 'en', name: 'English' },
  { code: 'es', name: 'Español' },
  { code: 'sw', name: 'Kiswahili' },
] as const;
export type LanguageCode = (typeof LANGUAGES)[number]['code'];


export function isLanguage(code: string): code is LanguageCode {
  return LANGUAGES.some((l) => l.code === code);
}

/** The first of the browser's preferred languages the app offers ('es-CO' → 'es'), else English. */
export function pickLanguage(preferred: readonly string[]): LanguageCode {
  for (const tag of preferred) {
    const base = tag.toLowerCase().split('-')[0] ?? '';
    if (isLanguage(base)) return base;
  }
  return 'en';
}

function storedLanguage(): LanguageCode | null {
  const value = readPreference('language');
  return value && isLanguage(value) ? value : null;
}

export function initialLanguage(): LanguageCode {
  const nav = globalThis.navigator;
  return storedLanguage() ?? pickLanguage(nav?.languages?.length ? nav.languages : [nav?.language ?? 'en']);
}

// English is in the entry chunk (the fallback, and the engine's own messages); the other languages are chunks of
// their own, loaded when chosen, so the first screen does not download and parse strings it does not show.
const LANGUAGE_STRINGS: Record<LanguageCode, () => Promise<Strings>> = {
  en: () => Promise.resolve(en),
  es: () => import('./es').then((m) => m.es),
  sw: () => import('./sw').then((m) => m.sw),
};

/** Makes a language's strings available to the instance (loads its chunk once). */
export async function loadLanguage(instance: I18n, code: LanguageCode): Promise<void> {
  if (instance.hasResourceBundle(code, 'translation')) return;
  instance.addResourceBundle(code, 'translation', await LANGUAGE_STRINGS[code]());
}

/** Every language's strings (a taught class may not take a shipped class's name in any of them). */
export async function loadAllLanguages(instance: I18n): Promise<void> {
  await Promise.all(LANGUAGES.map((l) => loadLanguage(instance, l.code)));
}

/** An i18next instance showing `language`, its strings loaded. If they cannot be loaded (a chunk missing from a
 * broken deploy), the app starts in English rather than not at all. */
export async function createI18n(language: LanguageCode = initialLanguage()): Promise<I18n> {
  let strings: Strings = en;
  try {
    strings = await LANGUAGE_STRINGS[language]();
  } catch (error) {
    console.warn(`language ${language} could not be loaded; using English`, error);
    language = 'en';
  }
  const instance = i18next.createInstance();
  void instance.use(initReactI18next).init({
    resources: { en: { translation: en }, [language]: { translation: strings } },
    lng: language,
    fallbackLng: 'en',
    interpolation: { escapeValue: false }, // React escapes
    returnNull: false,
    initAsync: false,
  });
  instance.on('languageChanged', (lng) => {
    if (typeof document !== 'undefined') document.documentElement.lang = lng;
  });
  if (typeof document !== 'undefined') document.documentElement.lang = language;
  return instance;
}

export async function changeLanguage(instance: I18n, code: LanguageCode): Promise<void> {
  await loadLanguage(instance, code);
  writePreference('language', code); // not remembered in private mode: the change still applies
  await instance.changeLanguage(code);
}

// An Intl.NumberFormat costs about a millisecond to build: one per language, style and digits, kept.
const numberFormats = new Map<string, Intl.NumberFormat>();
function numberFormat(language: string, style: 'percent' | 'decimal', digits: number): Intl.NumberFormat {
  const key = `${language}|${style}|${digits}`;
  let format = numberFormats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(language, { style, maximumFractionDigits: digits, minimumFractionDigits: digits });
    numberFormats.set(key, format);
  }
  return format;
}

export function formatPercent(value: number, language: string, digits = 0): string {
  return numberFormat(language, 'percent', digits).format(value);
}

/** A model's probability as the farmer reads it. Rounded to whole percents, 0.996 would read "100 %": a certainty
 * no model has (the shipped one is wrong on 1 val photo in 11). So the ends read "<1 %" and ">99 %". */
export function formatProbability(p: number, language: string): string {
  if (p < 0.005) return `<${formatPercent(0.01, language)}`;
  if (p >= 0.995) return `>${formatPercent(0.99, language)}`;
  return formatPercent(p, language);
}

export function formatNumber(value: number, language: string, digits = 2): string {
  return numberFormat(language, 'decimal', digits).format(value);
}

export function formatDate(iso: string, language: string): string {
  return new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

/** A class id in plain words: the translation when the app knows it, else the id with spaces. A class taught
 * on a phone (any label that is not a `[a-z0-9_]+` id) is shown exactly as its teacher typed it. */
export function className(instance: I18n, id: string): string {
  if (!/^[a-z0-9_]+$/.test(id)) return id;
  const key = `classes.${id}`;
  return instance.exists(key) ? instance.t(key) : id.replaceAll('_', ' ');
}
