// A field check reopened from history: its leaves, each with its own saved result and heatmap one tap away, as
// the live field check shows them (FieldCheck.tsx). The leaf entries are read whole from the history by the ids
// the combined entry keeps; a leaf deleted since is said so, not silently skipped.
import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Heatmap } from '../../../engine/types';
import type { HistoryEntry } from '../../../history/types';
import { className } from '../../../i18n/index';
import { historyEntries } from '../../../store/actions';
import { toUiError } from '../../../store/errors';
import { useAppStore } from '../../../store/index';
import { modelQuality } from '../../../store/modelQuality';
import { selectColorMap, selectOpacity } from '../../../store/selectors';
import { HISTORY_QUERY_KEY } from '../../setup';
import { storedHeatmap } from '../../heatmap/storedHeatmap';
import { loadImage } from '../../thumbnail';
import { DiagnosisCard } from '../DiagnosisCard';
import { ErrorMessage } from '../ErrorMessage';
import { HeatmapCanvas } from '../HeatmapCanvas';

/** The entry's stored heatmap redrawn over its own thumbnail (null until loaded, or when the photo is missing). */
export function useStoredHeatmap(entry: HistoryEntry): Heatmap | null {
  const [heatmap, setHeatmap] = useState<Heatmap | null>(null);
  useEffect(() => {
    let cancelled = false;
    setHeatmap(null);
    loadImage(entry.thumbnail)
      .then((image) => { if (!cancelled) setHeatmap(storedHeatmap(entry.heatmap, image)); })
      .catch(() => { if (!cancelled) setHeatmap(null); });
    return () => { cancelled = true; };
  }, [entry]);
  return heatmap;
}

function leafSummary(entry: HistoryEntry, t: (key: string) => string, name: (id: string) => string): string {
  if (entry.outcome === 'not-bean-leaf') return t('outcome.notLeafShort');
  const label = name(entry.labels[entry.top] ?? '');
  return entry.outcome === 'unsure' ? `${t('diagnosis.unsureTitle')} (${label}?)` : label;
}

/** The leaves of a reopened field check (`ids`: the combined entry's `group.leafIds`); `onOpen` shows one. */
export function ReopenedGroupLeaves({ ids, onOpen }: { ids: number[]; onOpen: (leaf: { entry: HistoryEntry; index: number }) => void }) {
  const { t, i18n } = useTranslation();
  const leaves = useQuery({ queryKey: [...HISTORY_QUERY_KEY, 'entries', ids], queryFn: () => historyEntries(ids) });
  if (leaves.error) return <ErrorMessage error={toUiError(leaves.error, 'storage')} />;
  if (!leaves.data) return <p className="hint" aria-busy="true">{t('history.loading')}</p>;
  return (
    <section className="card" aria-labelledby="saved-leaves-heading" data-testid="reopened-group-leaves">
      <h2 id="saved-leaves-heading" className="small-heading">{t('fieldCheck.leaves')}</h2>
      <ul className="leaf-grid">
        {leaves.data.map(({ id, entry }, index) => (
          <li key={id} data-testid="group-leaf" data-status={entry ? 'done' : 'missing'} data-outcome={entry?.outcome} data-label={entry ? entry.labels[entry.top] : undefined}>
            <button
              type="button" className="leaf-tile" data-testid="group-leaf-open" disabled={!entry}
              aria-label={t('fieldCheck.openLeaf', { index: index + 1 })} onClick={() => entry && onOpen({ entry, index })}
            >
              {entry?.thumbnail && <img src={entry.thumbnail} alt="" width={96} height={96} />}
              <span>{t('fieldCheck.leafLabel', { index: index + 1 })}</span>
              <span className={entry?.outcome === 'sure' ? '' : 'unsure'}>
                {entry ? leafSummary(entry, t, (label) => className(i18n, label)) : t('history.groupLeafDeleted')}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** One saved leaf: its photo with its own heatmap, and its own result (the advice stays with the combined answer). */
export function SavedLeafDetail({ entry, index, onClose }: { entry: HistoryEntry; index: number; onClose: () => void }) {
  const { t } = useTranslation();
  const colorMap = useAppStore(selectColorMap);
  const opacity = useAppStore(selectOpacity);
  const heatmap = useStoredHeatmap(entry);
  const [revealed, setRevealed] = useState(false);
  return (
    <div data-testid="group-leaf-detail" data-entry-id={entry.id}>
      <button type="button" className="button secondary" data-testid="group-leaf-close" onClick={onClose}>
        {t('fieldCheck.closeLeaf')}
      </button>
      <section className="card photo-card">
        <h2 className="small-heading">{t('fieldCheck.leafLabel', { index: index + 1 })}</h2>
        <HeatmapCanvas
          heatmap={heatmap} colorMap={colorMap} opacity={opacity} previewUrl={entry.thumbnail}
          label={t('explain.canvasLabel', { method: t(`explain.methods.${entry.method}`) })} testId="group-leaf-heatmap" readout
        />
        <p className="hint">{t('explain.method')}: {t(`explain.methods.${entry.method}`)}</p>
      </section>
      <DiagnosisCard
        labels={entry.labels} probabilities={entry.probabilities} outcome={entry.outcome}
        quality={modelQuality(entry.modelTrained, entry.modelValAccuracy)} revealed={revealed} onReveal={setRevealed}
      />
    </div>
  );
}
