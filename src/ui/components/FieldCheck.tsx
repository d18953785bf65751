// The field check screen: photos of up to six leaves of one plant or plot, each judged alone, one combined
// answer on top, and each leaf's own result and heatmap one tap away.
import { useId, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { MAX_GROUP_LEAVES, type GroupResult } from '../../engine/index';
import { className, formatProbability } from '../../i18n/index';
import { addGroupPhotos, clearFieldCheck, openGroupLeaf, removeGroupLeaf } from '../../store/fieldCheck';
import { useAppStore } from '../../store/index';
import { modelQuality } from '../../store/modelQuality';
import {
  selectColorMap, selectGroupLeaves, selectGroupOpenLeaf, selectGroupOverflow, selectGroupResult, selectModel, selectModelStatus,
  selectOpacity, selectRevealedOutOfDomain,
} from '../../store/selectors';
import type { FieldLeaf } from '../../store/slices';
import { AdvicePanel } from './AdvicePanel';
import { DiagnosisCard, DomainUncheckedNotice, PreliminaryBanner, UntrainedBanner } from './DiagnosisCard';
import { ErrorMessage } from './ErrorMessage';
import { HeatmapCanvas } from './HeatmapCanvas';
import { CameraIcon, ImageIcon } from './Icons';
import { ProbabilityBars } from './ProbabilityBars';
import { takeFiles } from '../fileInput';

/** `controls`: the mode switch and field box, shown after the photo buttons (keyboard reaches those first). */
export function FieldCheck({ controls }: { controls?: ReactNode }) {
  const leaves = useAppStore(selectGroupLeaves);
  const openKey = useAppStore(selectGroupOpenLeaf);
  const open = openKey === null ? undefined : leaves.find((l) => l.key === openKey);
  if (open) return <><LeafDetail leaf={open} index={leaves.indexOf(open)} />{controls}</>;
  return (
    <div className="field-check" data-testid="field-check">
      <GroupPicker count={leaves.length} />
      {controls}
      <GroupAnswer leaves={leaves} />
      {leaves.length > 0 && <LeafList leaves={leaves} />}
    </div>
  );
}

function GroupPicker({ count }: { count: number }) {
  const { t } = useTranslation();
  const id = useId();
  const modelStatus = useAppStore(selectModelStatus);
  const overflow = useAppStore(selectGroupOverflow);
  const full = count >= MAX_GROUP_LEAVES;
  const disabled = modelStatus !== 'ready' || full;
  function onInput(event: React.ChangeEvent<HTMLInputElement>) {
    const files = takeFiles(event.target);
    if (files.length > 0) void addGroupPhotos(files.map((f) => ({ blob: f, name: f.name })));
  }
  return (
    <section className="card picker compact" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>{t('fieldCheck.modeGroup')}</h2>
      <p className="hint">{t('fieldCheck.intro', { max: MAX_GROUP_LEAVES })}</p>
      <div className="picker-buttons">
        <div className="file-pick">
          <input
            id={`${id}-camera`} className="visually-hidden" type="file" accept="image/*" capture="environment"
            data-testid="group-camera" onChange={onInput} disabled={disabled}
          />
          <label className={`button primary big${disabled ? ' disabled' : ''}`} htmlFor={`${id}-camera`} aria-disabled={disabled}>
            <CameraIcon /> {t('fieldCheck.addCamera')}
          </label>
        </div>
        <div className="file-pick">
          <input
            id={`${id}-files`} className="visually-hidden" type="file" accept="image/*" multiple
            data-testid="group-input" onChange={onInput} disabled={disabled}
          />
          <label className={`button secondary big${disabled ? ' disabled' : ''}`} htmlFor={`${id}-files`} aria-disabled={disabled}>
            <ImageIcon /> {t('fieldCheck.addPhotos')}
          </label>
        </div>
      </div>
      <p className="hint" data-testid="group-count">{t('fieldCheck.leafCount', { count, max: MAX_GROUP_LEAVES })}</p>
      {overflow > 0 && <p className="notice" role="status" data-testid="group-overflow">{t('fieldCheck.tooMany', { max: MAX_GROUP_LEAVES, count: overflow })}</p>}
    </section>
  );
}

/** The leaf a group's "leaves disagree" reason names: the first judged leaf sure of another class. */
function disagreeingLabel(result: GroupResult, leaves: FieldLeaf[]): string | undefined {
  const done = leaves.filter((l) => l.diagnosis !== null);
  for (const i of result.judged) {
    const d = done[i]?.diagnosis;
    if (d && d.outcome === 'sure' && d.top !== result.top) return d.labels[d.top];
  }
  return undefined;
}

function GroupAnswer({ leaves }: { leaves: FieldLeaf[] }) {
  const { t, i18n } = useTranslation();
  const result = useAppStore(selectGroupResult);
  const model = useAppStore(selectModel);
  if (!result || !model) return null;
  const working = leaves.some((l) => l.status === 'decoding' || l.status === 'diagnosing');
  const failed = leaves.filter((l) => l.status === 'error').length;
  const labels = model.labels;
  const answered = result.top >= 0;
  const topId = answered ? labels[result.top] ?? '' : '';
  const topName = className(i18n, topId);
  const percent = answered ? formatProbability(result.probabilities[result.top] ?? 0, i18n.language) : '';
  const quality = modelQuality(model.trained, model.valAccuracy);
  return (
    <>
      <section className="card diagnosis group-result" aria-live="polite" aria-busy={working}>
        <h2>{t('fieldCheck.resultHeading')}</h2>
        {quality.kind === 'untrained' && <UntrainedBanner />}
        {quality.kind === 'preliminary' && <PreliminaryBanner valAccuracy={quality.valAccuracy} />}
        {!model.domainCheck && <DomainUncheckedNotice />}
        <div
          className={`result${result.outcome === 'sure' ? '' : ' unsure'}`} data-testid="group-diagnosis"
          data-outcome={result.outcome} data-label={topId} data-leaves={leaves.length} data-judged={result.judged.length}
          data-refused={result.refused.length} data-busy={working ? 'true' : 'false'}
        >
          {!answered ? (
            <p className="result-title">{t('fieldCheck.allRefused')}</p>
          ) : result.outcome === 'sure' ? (
            <>
              <p className="result-title">{topName}</p>
              <p className="result-confidence">{t('diagnosis.confidence', { percent })}</p>
            </>
          ) : (
            <>
              <p className="result-title">{t('diagnosis.unsureTitle')}</p>
              <p>{t('diagnosis.unsureBody', { label: topName, percent })}</p>
              <ul className="retake-guide">
                {result.reasons.map((r) => (
                  <li key={r} data-reason={r}>{t(`fieldCheck.reason-${r}`, { label: className(i18n, disagreeingLabel(result, leaves) ?? '') })}</li>
                ))}
              </ul>
            </>
          )}
          {answered && <p>{t('fieldCheck.fromLeaves', { count: result.judged.length })} · {t('fieldCheck.agreeing', { agreeing: result.agreeing, judged: result.judged.length })}</p>}
        </div>
        {result.refused.length > 0 && <p className="notice" data-testid="group-refused-note">{t('fieldCheck.refusedNote', { count: result.refused.length })}</p>}
        {failed > 0 && <p className="notice">{t('fieldCheck.failedNote', { count: failed })}</p>}
        {answered && (
          <>
            <h3 className="small-heading">{t('diagnosis.allClasses')}</h3>
            <ProbabilityBars labels={labels} probabilities={result.probabilities} top={result.top} />
          </>
        )}
      </section>
      {answered && <AdvicePanel classId={topId} />}
    </>
  );
}

function leafSummary(leaf: FieldLeaf, t: (key: string, options?: Record<string, unknown>) => string, name: (id: string) => string): string {
  if (leaf.status === 'error') return t('fieldCheck.leafError');
  if (!leaf.diagnosis) return t('fieldCheck.leafPending');
  const d = leaf.diagnosis;
  if (d.outcome === 'not-bean-leaf') return t('outcome.notLeafShort');
  const label = name(d.labels[d.top] ?? '');
  return d.outcome === 'sure' ? label : `${t('diagnosis.unsureTitle')} (${label}?)`;
}

function LeafList({ leaves }: { leaves: FieldLeaf[] }) {
  const { t, i18n } = useTranslation();
  return (
    <section className="card" aria-labelledby="leaves-heading">
      <h2 id="leaves-heading" className="small-heading">{t('fieldCheck.leaves')}</h2>
      <ul className="leaf-grid">
        {leaves.map((leaf, index) => (
          <li
            key={leaf.key} data-testid="group-leaf" data-status={leaf.status} data-photo-name={leaf.name}
            data-outcome={leaf.diagnosis?.outcome} data-label={leaf.diagnosis ? leaf.diagnosis.labels[leaf.diagnosis.top] : undefined}
          >
            <button
              type="button" className="leaf-tile" data-testid="group-leaf-open" disabled={!leaf.diagnosis}
              aria-label={t('fieldCheck.openLeaf', { index: index + 1 })} onClick={() => openGroupLeaf(leaf.key)}
            >
              {leaf.previewUrl && <img src={leaf.previewUrl} alt="" width={96} height={96} />}
              <span>{t('fieldCheck.leafLabel', { index: index + 1 })}</span>
              <span className={leaf.diagnosis?.outcome === 'sure' ? '' : 'unsure'}>
                {leaf.status === 'decoding' || leaf.status === 'diagnosing'
                  ? t('fieldCheck.checking', { index: index + 1 })
                  : leafSummary(leaf, t, (id) => className(i18n, id))}
              </span>
            </button>
            <button
              type="button" className="button secondary leaf-remove" data-testid="group-leaf-remove"
              aria-label={t('fieldCheck.removeLeaf', { index: index + 1 })} onClick={() => void removeGroupLeaf(leaf.key)}
            >
              ×
            </button>
            {leaf.error && <ErrorMessage error={leaf.error} />}
          </li>
        ))}
      </ul>
      <button type="button" className="button secondary" data-testid="group-clear" onClick={clearFieldCheck}>{t('fieldCheck.newCheck')}</button>
    </section>
  );
}

/** One leaf's own result and heatmap, as for a single photo (no advice: the combined answer carries it). */
function LeafDetail({ leaf, index }: { leaf: FieldLeaf; index: number }) {
  const { t } = useTranslation();
  const model = useAppStore(selectModel);
  const colorMap = useAppStore(selectColorMap);
  const opacity = useAppStore(selectOpacity);
  const revealed = useAppStore(selectRevealedOutOfDomain);
  const d = leaf.diagnosis;
  return (
    <div className="field-check" data-testid="group-leaf-detail" data-photo-name={leaf.name}>
      <button type="button" className="button secondary" data-testid="group-leaf-close" onClick={() => openGroupLeaf(null)}>
        {t('fieldCheck.closeLeaf')}
      </button>
      <section className="card photo-card">
        <h2 className="small-heading">{t('fieldCheck.leafLabel', { index: index + 1 })}</h2>
        <HeatmapCanvas
          heatmap={d?.heatmap ?? null} colorMap={colorMap} opacity={opacity}
          previewUrl={leaf.previewUrl} label={t('explain.canvasLabel', { method: t(`explain.methods.${d?.options.method ?? 'relevance'}`) })}
          testId="group-leaf-heatmap" readout
        />
      </section>
      {d && model && (
        <DiagnosisCard
          labels={d.labels} probabilities={d.probabilities} outcome={d.outcome} quality={modelQuality(model.trained, model.valAccuracy)}
          qualityIssues={d.quality.issues} domainUnchecked={!model.domainCheck}
          revealed={revealed} onReveal={(v) => useAppStore.getState().setRevealedOutOfDomain(v)}
        />
      )}
    </div>
  );
}
