// How a chart/filter category (a class, or the outcomes 'unsure' / 'not-bean-leaf') is named and coloured.
import type { i18n as I18n, TFunction } from 'i18next';
import { isOutcomeCategory } from '../../../history/keys';
import { className } from '../../../i18n/index';

export function categoryName(t: TFunction, i18n: I18n, category: string): string {
  return isOutcomeCategory(category) ? t(`history.categories.${category}`) : className(i18n, category);
}

const FIXED: Record<string, string> = {
  healthy: '#2e7d32',
  angular_leaf_spot: '#d17f00',
  bean_rust: '#8c2f0c',
  unsure: '#8a8f8a',
  'not-bean-leaf': '#d5d9d3',
};
// Taught classes (any name the farmer typed) get these in turn, by name, so a class keeps its colour.
const EXTRA = ['#1565c0', '#6a1b9a', '#00838f', '#ad1457', '#4e342e', '#283593'];

export function categoryColor(category: string): string {
  const fixed = FIXED[category];
  if (fixed) return fixed;
  let hash = 0;
  for (const ch of category) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return EXTRA[hash % EXTRA.length]!;
}
