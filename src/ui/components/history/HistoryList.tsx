// The saved entries, newest first, as a window-virtualised list: only the rows near the screen exist in the
// DOM; their data comes in pages of PAGE_SIZE read through an index cursor (TanStack Query shares one page
// between its rows and forgets pages no row has shown for a while); each photo is read when its row appears.
import { useQuery } from '@tanstack/react-query';
import { useWindowVirtualizer } from '@tanstack/react-virtual';
import { memo, useEffect, useId, useLayoutEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { HistoryQuery, HistoryRow } from '../../../history/types';
import { className, formatDate, formatProbability } from '../../../i18n/index';
import { deleteEntry, historyPage, historyThumbnail, reopenEntry, updateField, updateNote } from '../../../store/actions';
import { toUiError } from '../../../store/errors';
import { useAppStore } from '../../../store/index';
import { modelQuality, qualityMarkKey } from '../../../store/modelQuality';
import { historyPageKey } from '../../setup';
import { FIELD_MAX_LENGTH } from '../../../history/fieldName';
import { categoryName } from './categories';
import { entryCategory } from '../../../history/keys';

export const PAGE_SIZE = 40;
const ESTIMATED_ROW_PX = 240;

function reportError(error: unknown) {
  useAppStore.getState().setAppError(toUiError(error, 'storage'));
}

export function HistoryList({ query, total, fieldListId }: { query: HistoryQuery; total: number; fieldListId: string }) {
  const listRef = useRef<HTMLUListElement>(null);
  const [offset, setOffset] = useState(0);
  // The list's distance from the page top (the summary above it loads later): re-read after every render.
  useLayoutEffect(() => {
    const top = (listRef.current?.getBoundingClientRect().top ?? 0) + window.scrollY;
    if (Math.abs(top - offset) > 1) setOffset(top);
  });
  const virtualizer = useWindowVirtualizer({
    count: total,
    estimateSize: () => ESTIMATED_ROW_PX,
    overscan: 4,
    scrollMargin: offset,
  });
  const items = virtualizer.getVirtualItems();
  return (
    <ul ref={listRef} className="history-list" data-testid="history-list" style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
      {items.map((item) => (
        <li
          key={item.key} data-index={item.index} ref={virtualizer.measureElement} className="history-slot"
          style={{ position: 'absolute', top: 0, left: 0, width: '100%', transform: `translateY(${item.start - virtualizer.options.scrollMargin}px)` }}
        >
          <HistorySlot query={query} index={item.index} fieldListId={fieldListId} />
        </li>
      ))}
    </ul>
  );
}

/** Memoised: a re-measure of the list re-renders the list, not every row on screen. */
const HistorySlot = memo(function HistorySlot({ query, index, fieldListId }: { query: HistoryQuery; index: number; fieldListId: string }) {
  const { t } = useTranslation();
  const page = Math.floor(index / PAGE_SIZE);
  const { data, error } = useQuery({
    queryKey: historyPageKey(query, page),
    queryFn: () => historyPage(query, page * PAGE_SIZE, PAGE_SIZE),
    gcTime: 30_000,
  });
  const row = data?.[index % PAGE_SIZE];
  if (error) return <p className="history-item">{String(error)}</p>;
  if (!row) return <div className="history-item placeholder" aria-busy="true">{t('history.loading')}</div>;
  return <HistoryItem key={row.id} entry={row} fieldListId={fieldListId} />;
});

/** The photo of a row as an object URL while the row is on screen. */
function useThumbnail(id: number): string | null {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    let made: string | null = null;
    let cancelled = false;
    historyThumbnail(id).then((blob) => {
      if (cancelled || !blob || !blob.type.startsWith('image/')) return;
      made = URL.createObjectURL(blob);
      setUrl(made);
    }, () => undefined);
    return () => { cancelled = true; if (made) URL.revokeObjectURL(made); };
  }, [id]);
  return url;
}

function HistoryItem({ entry, fieldListId }: { entry: HistoryRow; fieldListId: string }) {
  const { t, i18n } = useTranslation();
  const [editing, setEditing] = useState(false);
  const thumbnail = useThumbnail(entry.id);
  const category = entryCategory(entry);
  const name = className(i18n, entry.labels[entry.top] ?? '');
  const date = formatDate(entry.createdAt, i18n.language);
  const qualityKey = qualityMarkKey(modelQuality(entry.modelTrained, entry.modelValAccuracy));
  return (
    <div className="history-item" data-testid="history-item" data-label={entry.labels[entry.top]} data-id={entry.id}
      data-category={category} data-field={entry.field ?? ''} data-created={entry.createdAt}>
      <button type="button" className="history-open" onClick={() => reopenEntry(entry.id).catch(reportError)}
        aria-label={`${t('history.open')}: ${t('history.entryLabel', { label: name, date })}`}>
        {thumbnail ? <img src={thumbnail} alt="" width={72} height={72} decoding="async" /> : <span className="thumb-placeholder" aria-hidden="true" />}
        <span>
          <strong>{category === entry.labels[entry.top] ? name : `${categoryName(t, i18n, category)} (${name}?)`}</strong>{' '}
          {formatProbability(entry.probabilities[entry.top] ?? 0, i18n.language)}
          <small>{date}{qualityKey ? ` · ${t(qualityKey)}` : ''}{entry.field ? ` · ${entry.field}` : ''}</small>
          {entry.group && <small>{t('history.group', { count: entry.group.leafCount })}</small>}
          {entry.groupId && !entry.group && <small>{t('history.groupLeaf')}</small>}
          {entry.location && <small>{t('history.location')}: {entry.location.latitude.toFixed(4)}, {entry.location.longitude.toFixed(4)}</small>}
          {entry.note && <small className="entry-note-text">{t('history.note')}: {entry.note}</small>}
        </span>
      </button>
      {/* The edit form exists only while open: a season's rows stay light to mount while scrolling. */}
      {editing ? <EntryEditor entry={entry} fieldListId={fieldListId} onDone={() => setEditing(false)} /> : (
        <div className="actions entry-actions">
          <button type="button" className="button secondary small" data-testid="entry-edit" aria-expanded="false" onClick={() => setEditing(true)}>
            {t('history.edit')}
          </button>
          <button type="button" className="button danger-outline small" data-testid="history-delete" onClick={() => deleteEntry(entry.id).catch(reportError)}>
            {t('history.delete')}
          </button>
        </div>
      )}
    </div>
  );
}

function EntryEditor({ entry, fieldListId, onDone }: { entry: HistoryRow; fieldListId: string; onDone: () => void }) {
  const { t } = useTranslation();
  const formId = useId();
  const [note, setNote] = useState(entry.note ?? '');
  const [field, setField] = useState(entry.field ?? '');
  const [saved, setSaved] = useState(false);
  const save = async () => {
    if ((entry.field ?? '') !== field.trim()) await updateField(entry.id, field);
    await updateNote(entry.id, note);
    setSaved(true);
  };
  return (
    <form className="note" onSubmit={(e) => { e.preventDefault(); save().catch(reportError); }}>
      <label htmlFor={`${formId}-f`}>{t('history.field')}</label>
      <input id={`${formId}-f`} className="entry-field" data-testid="entry-field" value={field} list={fieldListId} maxLength={FIELD_MAX_LENGTH}
        placeholder={t('history.fieldPlaceholder')} onChange={(e) => { setField(e.target.value); setSaved(false); }} />
      <label htmlFor={`${formId}-n`}>{t('history.note')}</label>
      <input id={`${formId}-n`} className="entry-note" data-testid="entry-note" value={note} placeholder={t('history.notePlaceholder')}
        onChange={(e) => { setNote(e.target.value); setSaved(false); }} maxLength={500} />
      <div className="actions">
        <button type="submit" className="button secondary small" data-saved={saved ? 'true' : 'false'}>{saved ? '✓' : t('history.saveEntry')}</button>
        <button type="button" className="button secondary small" onClick={onDone}>{t('history.doneEditing')}</button>
        <button type="button" className="button danger-outline small" data-testid="history-delete" onClick={() => deleteEntry(entry.id).catch(reportError)}>
          {t('history.delete')}
        </button>
      </div>
    </form>
  );
}
