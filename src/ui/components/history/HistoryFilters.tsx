// Find: result (class or outcome), field and a date range. Each choice is one index range in the database,
// so changing it costs a count and one page, whatever the size of the history.
import { useQuery } from '@tanstack/react-query';
import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import { dayStartIso, localDay } from '../../../history/keys';
import type { HistoryQuery } from '../../../history/types';
import { chartCategories } from '../../../history/summary';
import { historySummary } from '../../../store/actions';
import { useAppStore } from '../../../store/index';
import { selectHistoryFilter, selectModel } from '../../../store/selectors';
import { historySummaryKey } from '../../setup';
import { categoryName } from './categories';
import { useFieldNames } from './FieldPicker';

const dayAfter = (day: string) => {
  const [y, m, d] = day.split('-').map(Number);
  return localDay(new Date(y!, m! - 1, d! + 1));
};

export function HistoryFilters() {
  const { t, i18n } = useTranslation();
  const id = useId();
  const filter = useAppStore(selectHistoryFilter);
  const model = useAppStore(selectModel);
  const fields = useFieldNames();
  // The results that exist anywhere in the history (from the all-fields summary's counts), plus the model's.
  const all = useQuery({ queryKey: historySummaryKey(undefined), queryFn: () => historySummary(undefined) }).data;
  const classOrder = model?.labels ?? ['angular_leaf_spot', 'bean_rust', 'healthy'];
  const categories = [...new Set([...classOrder, ...chartCategories(all?.weeks ?? [], classOrder)])];
  const set = (patch: Partial<HistoryQuery>) => {
    const next: HistoryQuery = { ...filter, ...patch };
    for (const key of Object.keys(next) as (keyof HistoryQuery)[]) if (next[key] === undefined || next[key] === '') delete next[key];
    useAppStore.getState().setHistoryFilter(next);
  };
  const fromDay = filter.from ? localDay(new Date(filter.from)) : '';
  const toDay = filter.to ? localDay(new Date(Date.parse(filter.to) - 1)) : '';
  const active = Object.keys(filter).length > 0;
  return (
    <fieldset className="history-filters" data-testid="history-filters">
      <legend>{t('history.filter')}</legend>
      <label htmlFor={`${id}-c`}>{t('history.filterResult')}</label>
      <select id={`${id}-c`} data-testid="filter-category" value={filter.category ?? ''} onChange={(e) => set({ category: e.target.value || undefined })}>
        <option value="">{t('history.anyResult')}</option>
        {categories.map((c) => <option key={c} value={c}>{categoryName(t, i18n, c)}</option>)}
      </select>
      <label htmlFor={`${id}-f`}>{t('history.filterField')}</label>
      <select id={`${id}-f`} data-testid="filter-field" value={filter.field ?? ''} onChange={(e) => set({ field: e.target.value || undefined })}>
        <option value="">{t('history.allFields')}</option>
        {[...new Set([...fields, ...(filter.field ? [filter.field] : [])])].map((f) => <option key={f} value={f}>{f}</option>)}
      </select>
      <div className="date-range">
        <label>
          {t('history.from')}
          <input type="date" data-testid="filter-from" value={fromDay} max={toDay || undefined}
            onChange={(e) => set({ from: e.target.value ? dayStartIso(e.target.value) : undefined })} />
        </label>
        <label>
          {t('history.to')}
          <input type="date" data-testid="filter-to" value={toDay} min={fromDay || undefined}
            onChange={(e) => set({ to: e.target.value ? dayStartIso(dayAfter(e.target.value)) : undefined })} />
        </label>
      </div>
      {active && (
        <button type="button" className="button secondary small" data-testid="filter-clear" onClick={() => useAppStore.getState().setHistoryFilter({})}>
          {t('history.showAll')}
        </button>
      )}
    </fieldset>
  );
}
