// Saved diagnoses on this phone, for a whole season: the field new checks go to, where the history is kept,
// the season at a glance, find, export / import, the (virtualised) list, delete all. Every read is an index
// range or a page of one (src/history/db.ts), so the screen opens as fast at 10,000 entries as at 10.
import { useQuery } from '@tanstack/react-query';
import { useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { chooseSaveLocation, countHistory, deleteAllEntries, historyUpgradeRemaining } from '../../store/actions';
import { toUiError } from '../../store/errors';
import { useAppStore } from '../../store/index';
import { selectHistoryFilter, selectSaveLocation } from '../../store/selectors';
import { HISTORY_QUERY_KEY, historyCountKey } from '../setup';
import { ErrorMessage } from './ErrorMessage';
import { FieldNamesList } from './history/FieldPicker';
import { HistoryFilters } from './history/HistoryFilters';
import { HistoryList } from './history/HistoryList';
import { HistoryTransfer } from './history/HistoryTransfer';
import { SeasonSummary } from './history/SeasonSummary';
import { StorageInfo } from './history/StorageInfo';

function reportError(error: unknown) {
  useAppStore.getState().setAppError(toUiError(error, 'storage'));
}

export function HistoryPanel() {
  const { t } = useTranslation();
  const id = useId();
  const filter = useAppStore(selectHistoryFilter);
  const saveLocation = useAppStore(selectSaveLocation);
  const total = useQuery({ queryKey: [...HISTORY_QUERY_KEY, 'count', {}], queryFn: () => countHistory({}) });
  const shown = useQuery({ queryKey: historyCountKey(filter), queryFn: () => countHistory(filter) });
  // An upgrade from an older app finishing in the background: said plainly, re-checked until done.
  const upgrading = useQuery({
    queryKey: [...HISTORY_QUERY_KEY, 'upgrade'], queryFn: historyUpgradeRemaining,
    refetchInterval: (q) => (q.state.data ? 2000 : false),
  }).data ?? 0;
  const [confirming, setConfirming] = useState(false);
  const listTop = useRef<HTMLParagraphElement>(null);
  const all = total.data ?? 0;
  const error = total.error ?? shown.error;

  return (
    <section className="card history" aria-labelledby={`${id}-h`} data-testid="history">
      <h2 id={`${id}-h`}>{t('history.heading')}</h2>
      {error && <ErrorMessage error={toUiError(error, 'storage')} />}
      <label className="check">
        <input
          type="checkbox" checked={saveLocation} data-testid="save-location"
          onChange={(e) => chooseSaveLocation(e.target.checked)}
        />
        <span>{t('history.saveLocation')}<small>{t('history.saveLocationHint')}</small></span>
      </label>
      <StorageInfo />
      {upgrading > 0 && <p className="notice" role="status" data-testid="history-upgrading">{t('history.upgrading', { count: upgrading })}</p>}
      {total.isSuccess && all === 0 && <p data-testid="history-empty">{t('history.empty')}</p>}
      {all > 0 && (
        <>
          <SeasonSummary onPickWeek={() => listTop.current?.scrollIntoView({ block: 'start' })} />
          <HistoryFilters />
        </>
      )}
      <HistoryTransfer hasEntries={all > 0} />
      {all > 0 && (confirming ? (
        <div className="confirm" role="alertdialog" aria-label={t('history.deleteAll')}>
          <p>{t('history.confirmDeleteAll', { count: all })}</p>
          <div className="actions">
            <button type="button" className="button danger" data-testid="confirm-delete-all" onClick={() => { setConfirming(false); deleteAllEntries().catch(reportError); }}>
              {t('history.deleteAll')}
            </button>
            <button type="button" className="button secondary" onClick={() => setConfirming(false)}>{t('update.later')}</button>
          </div>
        </div>
      ) : (
        <button type="button" className="button danger-outline small" data-testid="delete-all" onClick={() => setConfirming(true)}>{t('history.deleteAll')}</button>
      ))}
      {all > 0 && (
        <>
          <p data-testid="history-count" data-total={all} data-shown={shown.data ?? ''} ref={listTop} aria-live="polite">
            {shown.data !== undefined && shown.data !== all
              ? t('history.shown', { shown: shown.data, total: all })
              : t('history.count', { count: all })}
          </p>
          <FieldNamesList id={`${id}-fields`} />
          {shown.data !== undefined && <HistoryList query={filter} total={shown.data} fieldListId={`${id}-fields`} />}
        </>
      )}
    </section>
  );
}
