// i18next set-up: English, Spanish, Swahili bundled (no network), the language picked from the browser
// unless the user chose one, and Intl helpers for numbers and dates.
import i18next, { type i18n as I18n } from 'i18next';
import { initReactI18next } from 'react-i18next';
import { readPreference, writePreference } from '../store/preferences';
import { en } from './en';
import { es } from './es';
import { sw } from './sw';

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

export function createI18n(language: LanguageCode = initialLanguage()): I18n {
  const instance = i18next.createInstance();
  void instance.use(initReactI18next).init({
    resources: { en: { translation: en }, es: { translation: es }, sw: { translation: sw } },
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
