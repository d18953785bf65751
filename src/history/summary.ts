// The season chart's weeks: the summary's counted weeks with the empty weeks between them filled in, at most
// the last `maxWeeks` up to the newest check.
import { nextWeek } from './keys';
import type { HistorySummary, WeekCounts } from './types';

export const SEASON_WEEKS = 26;

export function seasonWeeks(summary: Pick<HistorySummary, 'weeks'>, maxWeeks = SEASON_WEEKS): WeekCounts[] {
  const counted = summary.weeks.filter((w) => w.week !== '');
  if (counted.length === 0) return [];
  const byWeek = new Map(counted.map((w) => [w.week, w]));
  const all: WeekCounts[] = [];
  const last = counted[counted.length - 1]!.week;
  for (let week = counted[0]!.week; week <= last; week = nextWeek(week)) {
    all.push(byWeek.get(week) ?? { week, counts: {}, total: 0 });
  }
  return all.slice(-maxWeeks);
}

/** Categories in a stable order: the given class order first, then any others, outcomes last. */
export function chartCategories(weeks: readonly WeekCounts[], classOrder: readonly string[]): string[] {
  const present = new Set<string>();
  for (const w of weeks) for (const [c, n] of Object.entries(w.counts)) if (n > 0) present.add(c);
  const outcomes = ['unsure', 'not-bean-leaf'];
  const ordered = classOrder.filter((c) => present.has(c));
  const others = [...present].filter((c) => !classOrder.includes(c) && !outcomes.includes(c)).sort();
  return [...ordered, ...others, ...outcomes.filter((c) => present.has(c))];
}
