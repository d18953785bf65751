// Saved diagnoses on this phone: list, reopen, note, delete, delete all, export as CSV or JSON.
import { useQuery } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { historyToCsv, historyToJson } from '../../history/export';
import type { HistoryEntry } from '../../history/types';
import { className, formatDate, formatPercent } from '../../i18n/index';
import { deleteAllEntries, deleteEntry, listHistory, reopenEntry, updateNote } from '../../store/actions';
import { toUiError } from '../../store/errors';
import { modelQuality, qualityMarkKey } from '../../store/modelQuality';
import { useAppStore } from '../../store/index';
import { selectSaveLocation } from '../../store/selectors';
import { HISTORY_QUERY_KEY } from '../setup';
import { ErrorMessage } from './ErrorMessage';

function download(text: string, type: string, name: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function reportError(error: unknown) {
  useAppStore.getState().setAppError(toUiError(error, 'storage'));
}

export function HistoryPanel() {
  const { t } = useTranslation();
  const id = useId();
  const query = useQuery({ queryKey: HISTORY_QUERY_KEY, queryFn: listHistory });
  const saveLocation = useAppStore(selectSaveLocation);
  const [confirming, setConfirming] = useState(false);
  const entries = query.data ?? [];

  // Read fresh from the database: an edit made a moment ago must be in the file.
  async function exportAs(kind: 'csv' | 'json') {
    try {
      const all = await listHistory();
      const stamp = new Date().toISOString().slice(0, 10);
      if (kind === 'csv') download(historyToCsv(all), 'text/csv', `leaf-lens-history-${stamp}.csv`);
      else download(historyToJson(all), 'application/json', `leaf-lens-history-${stamp}.json`);
    } catch (error) {
      reportError(error);
    }
  }

  return (
    <section className="card history" aria-labelledby={`${id}-h`} data-testid="history">
      <h2 id={`${id}-h`}>{t('history.heading')}</h2>
      {query.error && <ErrorMessage error={toUiError(query.error, 'storage')} />}
      <label className="check">
        <input
          type="checkbox" checked={saveLocation} data-testid="save-location"
          onChange={(e) => {
            useAppStore.getState().setSaveLocation(e.target.checked);
            try { localStorage.setItem('leaf-lens.save-location', e.target.checked ? '1' : '0'); } catch { /* not remembered */ }
          }}
        />
        <span>{t('history.saveLocation')}<small>{t('history.saveLocationHint')}</small></span>
      </label>
      {query.isSuccess && entries.length === 0 && <p data-testid="history-empty">{t('history.empty')}</p>}
      {entries.length > 0 && (
        <>
          <p data-testid="history-count">{t('history.count', { count: entries.length })}</p>
          <div className="actions">
            <button type="button" className="button secondary" data-testid="export-csv" onClick={() => void exportAs('csv')}>
              {t('history.exportCsv')}
            </button>
            <button type="button" className="button secondary" data-testid="export-json" onClick={() => void exportAs('json')}>
              {t('history.exportJson')}
            </button>
          </div>
          <ul className="history-list">
            {entries.map((e) => <HistoryItem key={e.id} entry={e} />)}
          </ul>
          {confirming ? (
            <div className="confirm" role="alertdialog" aria-label={t('history.deleteAll')}>
              <p>{t('history.confirmDeleteAll', { count: entries.length })}</p>
              <div className="actions">
                <button type="button" className="button danger" data-testid="confirm-delete-all" onClick={() => { setConfirming(false); deleteAllEntries().catch(reportError); }}>
                  {t('history.deleteAll')}
                </button>
                <button type="button" className="button secondary" onClick={() => setConfirming(false)}>{t('update.later')}</button>
              </div>
            </div>
          ) : (
            <button type="button" className="button danger-outline" data-testid="delete-all" onClick={() => setConfirming(true)}>{t('history.deleteAll')}</button>
          )}
        </>
      )}
    </section>
  );
}

function HistoryItem({ entry }: { entry: HistoryEntry }) {
  const { t, i18n } = useTranslation();
  const noteId = useId();
  const [note, setNote] = useState(entry.note ?? '');
  const [noteSaved, setNoteSaved] = useState(false);
  const name = className(i18n, entry.labels[entry.top] ?? '');
  const date = formatDate(entry.createdAt, i18n.language);
  const id = entry.id!;
  return (
    <li className="history-item" data-testid="history-item" data-label={entry.labels[entry.top]}>
      <button type="button" className="history-open" onClick={() => reopenEntry(entry)} aria-label={`${t('history.open')}: ${t('history.entryLabel', { label: name, date })}`}>
        <img src={entry.thumbnail} alt="" width={72} height={72} />
        <span>
          <strong>{name}</strong> {formatPercent(entry.probabilities[entry.top] ?? 0, i18n.language)}
          <small>{date}{historyModelTag(t, entry)}</small>
          {entry.location && <small>{t('history.location')}: {entry.location.latitude.toFixed(4)}, {entry.location.longitude.toFixed(4)}</small>}
        </span>
      </button>
      <form className="note" onSubmit={(e) => { e.preventDefault(); updateNote(id, note).then(() => setNoteSaved(true), reportError); }}>
        <label htmlFor={noteId} className="visually-hidden">{t('history.note')}</label>
        <input id={noteId} value={note} placeholder={t('history.notePlaceholder')} onChange={(e) => { setNote(e.target.value); setNoteSaved(false); }} maxLength={500} />
        <button type="submit" className="button secondary small" data-saved={noteSaved ? 'true' : 'false'}>{noteSaved ? '✓' : t('history.saveNote')}</button>
      </form>
      <button type="button" className="button danger-outline small" data-testid="history-delete" onClick={() => deleteEntry(id).catch(reportError)}>
        {t('history.delete')}
      </button>
    </li>
  );
}

/** " · untrained model" / " · preliminary model" after the date, or nothing for a tested model. */
function historyModelTag(t: (key: string) => string, entry: HistoryEntry): string {
  const key = qualityMarkKey(modelQuality(entry.modelTrained, entry.modelValAccuracy));
  return key ? ` · ${t(key)}` : '';
}
