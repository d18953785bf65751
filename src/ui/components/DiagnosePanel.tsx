// The main screen: photo in, result, where the model looked, what to do. Also shows a history entry
// reopened from the list (with its stored heatmap).
import { useEffect, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { HistoryEntry } from '../../history/types';
import { className, formatDate, formatProbability } from '../../i18n/index';
import { modelQuality, qualityMarkKey } from '../../store/modelQuality';
import { WarningIcon } from './Icons';
import { retrySave } from '../../store/actions';
import { useAppStore } from '../../store/index';
import {
  selectColorMap, selectDiagnosing, selectDiagnosis, selectDiagnosisError, selectMethod, selectModel, selectModelStatus,
  selectOpacity, selectPhotoError, selectPhotoName, selectPhotoPreviewUrl, selectPhotoStatus, selectReopened, selectSaveError,
  selectSaveState, selectDiagnoseMode, selectRevealedOutOfDomain,
} from '../../store/selectors';
import { setDiagnoseMode } from '../../store/fieldCheck';
import { FieldCheck } from './FieldCheck';
import { AdvicePanel } from './AdvicePanel';
import { CorrectionControl } from './CorrectionControl';
import { DiagnosisCard, DomainUncheckedNotice } from './DiagnosisCard';
import { ErrorMessage } from './ErrorMessage';
import { ExplainControls } from './ExplainControls';
import { HeatmapCanvas } from './HeatmapCanvas';
import { ModelStatus } from './ModelStatus';
import { PhotoPicker } from './PhotoPicker';
import { FieldPicker } from './history/FieldPicker';
import { ReopenedGroupLeaves, SavedLeafDetail, useStoredHeatmap } from './history/ReopenedGroup';

export function DiagnosePanel({ onRetryModel }: { onRetryModel: () => void }) {
  const reopened = useAppStore(selectReopened);
  const modelStatus = useAppStore(selectModelStatus);
  const mode = useAppStore(selectDiagnoseMode);
  // The mode switch and field box come right after the photo buttons (in the DOM too): taking a photo is the
  // first thing a keyboard reaches, and they are there from the start, so nothing appears above the photo.
  // One slim card for both, so that on a phone the photo and its answer still fit on the first screen.
  const controls = <section className="card check-options"><ModeSwitch /><FieldPicker inline /></section>;
  // data-model-status: lets tests and benchmarks wait for a settled model rather than guess from the DOM.
  return (
    <div className="diagnose-panel" data-model-status={modelStatus}>
      <ModelStatus onRetry={onRetryModel} />
      {reopened ? <ReopenedEntry entry={reopened} /> : mode === 'group' ? <FieldCheck controls={controls} /> : <LiveDiagnosis controls={controls} />}
    </div>
  );
}

/** `controls`: the mode switch and field box, shown under the photo buttons. */
function LiveDiagnosis({ controls }: { controls: ReactNode }) {
  const { t } = useTranslation();
  const modelStatus = useAppStore(selectModelStatus);
  const model = useAppStore(selectModel);
  const previewUrl = useAppStore(selectPhotoPreviewUrl);
  const photoName = useAppStore(selectPhotoName);
  const photoStatus = useAppStore(selectPhotoStatus);
  const photoError = useAppStore(selectPhotoError);
  const diagnosis = useAppStore(selectDiagnosis);
  const diagnosing = useAppStore(selectDiagnosing);
  const diagnosisError = useAppStore(selectDiagnosisError);
  const method = useAppStore(selectMethod);
  const colorMap = useAppStore(selectColorMap);
  const opacity = useAppStore(selectOpacity);
  const revealed = useAppStore(selectRevealedOutOfDomain);
  const hasPhoto = photoStatus !== 'empty';

  // Two columns on wide screens (photo side: picture and explanation; answer side: result and advice);
  // on phones the columns dissolve and CSS `order` gives picker (and controls), photo, result, explanation,
  // advice. Whatever comes and goes with the model or the result sits below the photo, so the photo stays put.
  return (
    <div className="diagnose-layout">
      <div className="col col-answer">
      <PhotoPicker compact={hasPhoto} />
      {controls}
      {model && !model.domainCheck && !diagnosis && <DomainUncheckedNotice />}
      {diagnosis && model && (
        <>
          <DiagnosisCard
            labels={diagnosis.labels} probabilities={diagnosis.probabilities} outcome={diagnosis.outcome} quality={modelQuality(model.trained, model.valAccuracy)}
            qualityIssues={diagnosis.quality.issues} domainUnchecked={!model.domainCheck}
            revealed={revealed} onReveal={(v) => useAppStore.getState().setRevealedOutOfDomain(v)}
            footer={<SaveStatus />}
          />
          {diagnosis.outcome !== 'not-bean-leaf' && <AdvicePanel classId={diagnosis.labels[diagnosis.top] ?? ''} />}
          <CorrectionControl />
        </>
      )}
      </div>
      <div className="col col-photo">
      {hasPhoto && (
        <section
          className="card photo-card" aria-busy={photoStatus === 'decoding' || diagnosing} data-testid="photo-card"
          // What the heatmap on screen shows and whether the model had to run for it (tests read these).
          data-method={diagnosis?.options.method} data-explained={diagnosis?.explainedClass}
          data-model-ms={diagnosis?.timings.modelMs} data-backend={diagnosis?.backend} data-photo-name={photoName ?? undefined}
        >
          <HeatmapCanvas
            heatmap={diagnosis?.heatmap ?? null} colorMap={colorMap} opacity={opacity} previewUrl={previewUrl}
            label={t('explain.canvasLabel', { method: t(`explain.methods.${method}`) })} testId="heatmap" readout
            busy={photoStatus === 'decoding' || diagnosing} above={<ResultLine />}
          />
          {photoStatus === 'decoding' && modelStatus === 'ready' && <p className="hint" aria-live="polite">{t('photo.decoding')}</p>}
          {photoStatus === 'decoding' && modelStatus !== 'ready' && modelStatus !== 'loading' && <p className="hint">{t('photo.waitingForModel')}</p>}
          {photoError && <ErrorMessage error={photoError}><p className="hint">{t('photo.tips')}</p></ErrorMessage>}
          {diagnosisError && <ErrorMessage error={diagnosisError} />}
        </section>
      )}
      {diagnosis && model && (diagnosis.outcome !== 'not-bean-leaf' || revealed) && <ExplainControls />}
      </div>
    </div>
  );
}

/** The answer right above the photo, in space reserved from the start (no jump), so a phone's first screen
 * shows the answer with the photo; the full card below has the details. Screen readers get the card, not this. */
function ResultLine() {
  const { t, i18n } = useTranslation();
  const diagnosis = useAppStore(selectDiagnosis);
  const model = useAppStore(selectModel);
  const photoStatus = useAppStore(selectPhotoStatus);
  let text = '';
  if (diagnosis) {
    const name = className(i18n, diagnosis.labels[diagnosis.top] ?? '');
    const topProbability = diagnosis.probabilities[diagnosis.top] ?? 0;
    if (diagnosis.outcome === 'not-bean-leaf') text = t('outcome.notLeafShort');
    else text = diagnosis.outcome !== 'sure' ? `${t('diagnosis.unsureTitle')} (${name}?)` : `${name} · ${t('diagnosis.confidence', { percent: formatProbability(topProbability, i18n.language) })}`;
  } else if (photoStatus === 'decoding' || photoStatus === 'ready') {
    text = t('diagnosis.working');
  }
  return (
    <div className="result-line" aria-hidden="true">
      <span className={diagnosis && diagnosis.outcome !== 'sure' ? 'unsure' : ''}>{photoStatus === 'error' ? '' : text}</span>
      {diagnosis && model && <QualityTag trained={model.trained} valAccuracy={model.valAccuracy} />}
    </div>
  );
}

function QualityTag({ trained, valAccuracy }: { trained: boolean; valAccuracy: number | undefined }) {
  const { t } = useTranslation();
  const key = qualityMarkKey(modelQuality(trained, valAccuracy));
  return key && <span className="untrained-tag"><WarningIcon /> {t(key)}</span>;
}

function SaveStatus() {
  const { t } = useTranslation();
  const state = useAppStore(selectSaveState);
  const error = useAppStore(selectSaveError);
  if (state === 'saved') return <p className="save-status ok" data-testid="save-status" data-state="saved">✓ {t('save.saved')}</p>;
  if (state === 'saving') return <p className="save-status" data-testid="save-status" data-state="saving">{t('save.saving')}</p>;
  if ((state === 'storage-full' || state === 'error') && error) {
    return (
      <ErrorMessage error={error} message={state === 'storage-full' ? t('save.full') : t('save.error')}>
        <button type="button" className="button" onClick={() => void retrySave()}>{t('save.retry')}</button>
      </ErrorMessage>
    );
  }
  return null;
}

function ReopenedEntry({ entry }: { entry: HistoryEntry }) {
  const { t, i18n } = useTranslation();
  const colorMap = useAppStore(selectColorMap);
  const opacity = useAppStore(selectOpacity);
  const heatmap = useStoredHeatmap(entry);
  const [revealed, setRevealed] = useState(false);
  // A field check's leaf opened from its list: shown alone, as in the live field check, until "back".
  const [openLeaf, setOpenLeaf] = useState<{ entry: HistoryEntry; index: number } | null>(null);
  useEffect(() => setOpenLeaf(null), [entry.id]);
  if (openLeaf) return <SavedLeafDetail entry={openLeaf.entry} index={openLeaf.index} onClose={() => setOpenLeaf(null)} />;
  return (
    <>
      <section className="card photo-card" data-testid="reopened">
        <p className="reopened-title">{t('diagnosis.reopenedFrom', { date: formatDate(entry.createdAt, i18n.language) })}</p>
        <HeatmapCanvas
          heatmap={heatmap} colorMap={colorMap} opacity={opacity} previewUrl={entry.thumbnail}
          label={t('explain.canvasLabel', { method: t(`explain.methods.${entry.method}`) })} testId="heatmap" readout
        />
        <p className="hint">{t('explain.method')}: {t(`explain.methods.${entry.method}`)}</p>
        {entry.field && <p>{t('history.field')}: {entry.field}</p>}
        {entry.note && <p>{t('history.note')}: {entry.note}</p>}
        <button type="button" className="button secondary" onClick={() => useAppStore.getState().setReopened(null)}>
          {t('diagnosis.closeReopened')}
        </button>
      </section>
      {entry.group && <GroupEntryNote group={entry.group} />}
      <DiagnosisCard
        labels={entry.labels} probabilities={entry.probabilities} outcome={entry.outcome} quality={modelQuality(entry.modelTrained, entry.modelValAccuracy)}
        revealed={revealed} onReveal={setRevealed}
      />
      {entry.outcome !== 'not-bean-leaf' && <AdvicePanel classId={entry.labels[entry.top] ?? ''} />}
      {entry.group?.leafIds && entry.group.leafIds.length > 0 && <ReopenedGroupLeaves ids={entry.group.leafIds} onOpen={(leaf) => { setOpenLeaf(leaf); window.scrollTo({ top: 0 }); }} />}
    </>
  );
}

/** One leaf or a field check of several leaves. */
function ModeSwitch() {
  const { t } = useTranslation();
  const mode = useAppStore(selectDiagnoseMode);
  return (
    <div className="mode-switch" role="radiogroup" aria-label={t('fieldCheck.modeLabel')}>
      {(['single', 'group'] as const).map((m) => (
        <button
          key={m} type="button" role="radio" aria-checked={mode === m} data-testid={`mode-${m}`}
          className={`button ${mode === m ? 'primary' : 'secondary'}`} onClick={() => setDiagnoseMode(m)}
        >
          {t(m === 'single' ? 'fieldCheck.modeSingle' : 'fieldCheck.modeGroupShort')}
        </button>
      ))}
    </div>
  );
}

/** A saved field check: how many leaves went into it and how many were left out. */
function GroupEntryNote({ group }: { group: NonNullable<HistoryEntry['group']> }) {
  const { t } = useTranslation();
  return (
    <p className="notice" data-testid="reopened-group">
      {t('fieldCheck.fromLeaves', { count: group.leafCount })}
      {group.refused > 0 && <> · {t('fieldCheck.refusedNote', { count: group.refused })}</>}
    </p>
  );
}
