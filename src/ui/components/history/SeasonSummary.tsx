// The season at a glance for one field or all: checks, share diseased, last check, and checks per week as
// stacked bars (one button per week: focusable, named for screen readers, tap → that week's entries).
// Plain HTML and CSS (no chart library): works offline, in every language, and scales with the text.
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { dayStartIso, nextWeek } from '../../../history/keys';
import { chartCategories, seasonWeeks } from '../../../history/summary';
import { formatDate, formatPercent } from '../../../i18n/index';
import { historySummary } from '../../../store/actions';
import { useAppStore } from '../../../store/index';
import { selectHistoryFilter, selectModel } from '../../../store/selectors';
import { historySummaryKey } from '../../setup';
import { categoryColor, categoryName } from './categories';

const weekLabel = (week: string, language: string) =>
  new Intl.DateTimeFormat(language, { day: 'numeric', month: 'short' }).format(new Date(dayStartIso(week)));

export function SeasonSummary({ onPickWeek }: { onPickWeek: () => void }) {
  const { t, i18n } = useTranslation();
  const filter = useAppStore(selectHistoryFilter);
  const model = useAppStore(selectModel);
  const field = filter.field;
  const { data } = useQuery({ queryKey: historySummaryKey(field), queryFn: () => historySummary(field) });
  if (!data) return null;
  const weeks = seasonWeeks(data);
  const categories = chartCategories(weeks, model?.labels ?? ['angular_leaf_spot', 'bean_rust', 'healthy']);
  const max = Math.max(1, ...weeks.map((w) => w.total));
  const language = i18n.language;
  const pickWeek = (week: string) => {
    useAppStore.getState().setHistoryFilter({ ...filter, from: dayStartIso(week), to: dayStartIso(nextWeek(week)) });
    onPickWeek();
  };
  const chosenWeek = filter.from && filter.to ? filter.from : null;
  return (
    <section className="season" aria-labelledby="season-h" data-testid="summary" data-field={field ?? ''}>
      <h3 id="season-h">{t('history.summaryHeading')} · {field === undefined ? t('history.summaryAll') : t('history.summaryFor', { field })}</h3>
      {data.checks === 0 ? <p className="hint">{t('history.noChecks')}</p> : (
        <>
          <p className="season-facts">
            <strong data-testid="summary-checks" data-count={data.checks}>{t('history.checks', { count: data.checks })}</strong>
            {' · '}
            <span data-testid="summary-diseased" data-share={(data.diseased / data.checks).toFixed(4)}>
              {t('history.diseasedShare', { percent: formatPercent(data.diseased / data.checks, language) })}
            </span>
            {data.lastCheck && <small data-testid="summary-last">{t('history.lastCheck', { date: formatDate(data.lastCheck, language) })}</small>}
          </p>
          <p className="hint" id="season-chart-hint">{t('history.chartLabel')}</p>
          <div className="season-chart" role="group" aria-describedby="season-chart-hint" data-testid="summary-chart">
            {weeks.map((w) => {
              const details = [t('history.weekTotal', { count: w.total }),
                ...categories.filter((c) => w.counts[c]).map((c) => `${w.counts[c]} ${categoryName(t, i18n, c)}`)].join(', ');
              return (
                <button
                  key={w.week} type="button" className="season-bar" data-testid="summary-bar" data-week={w.week} data-total={w.total}
                  aria-pressed={chosenWeek === dayStartIso(w.week)} disabled={w.total === 0}
                  aria-label={t('history.weekBar', { week: weekLabel(w.week, language), details })}
                  title={t('history.weekBar', { week: weekLabel(w.week, language), details })}
                  onClick={() => pickWeek(w.week)}
                >
                  <span className="season-stack" style={{ height: `${(w.total / max) * 100}%` }}>
                    {categories.filter((c) => w.counts[c]).map((c) => (
                      <span key={c} style={{ flexGrow: w.counts[c], background: categoryColor(c) }} />
                    ))}
                  </span>
                </button>
              );
            })}
          </div>
          <div className="season-axis" aria-hidden="true">
            <span>{weeks[0] && weekLabel(weeks[0].week, language)}</span>
            <span>{weeks.at(-1) && weekLabel(weeks.at(-1)!.week, language)}</span>
          </div>
          <ul className="season-legend">
            {categories.map((c) => (
              <li key={c}><span className="swatch" style={{ background: categoryColor(c) }} aria-hidden="true" />{categoryName(t, i18n, c)}</li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
