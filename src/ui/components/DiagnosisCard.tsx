// The result in plain words: the top class and how sure the model is, every class as a bar, and an
// honest "not sure" (with how to retake the photo) instead of a guess presented as fact. A photo refused as
// not a bean leaf gets its own screen: no disease name, no advice, a retake guide, and (for experts) the
// model's guess on request, marked out of domain.
import { useTranslation } from 'react-i18next';
import { className, formatPercent, formatProbability } from '../../i18n/index';
import type { ModelQuality } from '../../store/modelQuality';
import { decideOutcome, type DiagnosisOutcome, type PhotoQualityIssue } from '../../engine/index';
import { WarningIcon } from './Icons';
import { ProbabilityBars } from './ProbabilityBars';

export interface DiagnosisCardProps {
  labels: readonly string[];
  probabilities: ArrayLike<number>;
  /** The engine's outcome; saved answers without one are judged by the engine's default rule. */
  outcome?: DiagnosisOutcome;
  /** Photo-quality issues of this photo (each shown with its retake advice). */
  qualityIssues?: readonly PhotoQualityIssue[];
  /** The head cannot check whether a photo shows a bean leaf: say so with the answer. */
  domainUnchecked?: boolean;
  /** A not-bean-leaf answer whose guess the expert asked to see (shown marked out of domain). */
  revealed?: boolean;
  /** Shows or hides the guess of a not-bean-leaf answer; without it there is no such button. */
  onReveal?: (value: boolean) => void;
  /** Untrained and preliminary models get a banner above the answer (store/modelQuality.ts). */
  quality: ModelQuality;
  footer?: React.ReactNode;
}

export function UntrainedBanner() {
  const { t } = useTranslation();
  return <p className="untrained-banner" role="alert" data-testid="untrained-banner"><WarningIcon /> {t('model.untrainedBanner')}</p>;
}

export function PreliminaryBanner({ valAccuracy }: { valAccuracy: number }) {
  const { t, i18n } = useTranslation();
  return (
    <p className="untrained-banner preliminary" role="note" data-testid="preliminary-banner">
      <WarningIcon /> {t('model.preliminaryBanner', { percent: formatPercent(valAccuracy, i18n.language) })}
    </p>
  );
}

export function DiagnosisCard({
  labels, probabilities, outcome, quality, footer, qualityIssues = [], domainUnchecked = false, revealed = false, onReveal,
}: DiagnosisCardProps) {
  const { t, i18n } = useTranslation();
  // The most probable class (the first of ties, as the bars order them).
  const top = Array.from(labels.keys()).reduce((best, i) => ((probabilities[i] ?? 0) > (probabilities[best] ?? 0) ? i : best), 0);
  const resolved = outcome ?? decideOutcome({ probabilities, inDomain: true });
  const unsure = resolved !== 'sure';
  const topId = labels[top] ?? '';
  const topName = className(i18n, topId);
  const percent = formatProbability(probabilities[top] ?? 0, i18n.language);
  const banners = (
    <>
      {quality.kind === 'untrained' && <UntrainedBanner />}
      {quality.kind === 'preliminary' && <PreliminaryBanner valAccuracy={quality.valAccuracy} />}
    </>
  );
  if (resolved === 'not-bean-leaf' && !revealed) {
    // Its own screen: no disease name, no probabilities, no advice; a retake guide and the expert's way out.
    return (
      <section className="card diagnosis" aria-live="polite" aria-labelledby="diagnosis-heading">
        <h2 id="diagnosis-heading" className="visually-hidden">{t('diagnosis.heading')}</h2>
        {banners}
        <div className="result not-leaf" data-testid="diagnosis" data-label={topId} data-outcome="not-bean-leaf" data-unsure="true">
          <p className="result-title">{t('outcome.notLeafTitle')}</p>
          <p>{t('outcome.notLeafBody')}</p>
          <p className="small-heading">{t('outcome.notLeafGuideTitle')}</p>
          <ul className="retake-guide">
            <li>{t('outcome.notLeafGuide1')}</li>
            <li>{t('outcome.notLeafGuide2')}</li>
            <li>{t('outcome.notLeafGuide3')}</li>
          </ul>
        </div>
        <PhotoQualityAdvice issues={qualityIssues} lowersConfidence={false} />
        {onReveal && (
          <button type="button" className="button secondary" data-testid="show-guess" onClick={() => onReveal(true)}>
            {t('outcome.showGuess')}
          </button>
        )}
        {footer}
      </section>
    );
  }
  const outOfDomain = resolved === 'not-bean-leaf';
  return (
    <section className="card diagnosis" aria-live="polite" aria-labelledby="diagnosis-heading">
      <h2 id="diagnosis-heading" className="visually-hidden">{t('diagnosis.heading')}</h2>
      {banners}
      {outOfDomain && <p className="untrained-banner" role="alert" data-testid="out-of-domain"><WarningIcon /> {t('outcome.outOfDomain')}</p>}
      {domainUnchecked && <DomainUncheckedNotice />}
      <div
        className={`result${unsure ? ' unsure' : ''}`}
        data-testid="diagnosis"
        data-label={topId}
        data-outcome={resolved}
        data-unsure={unsure ? 'true' : 'false'}
        data-out-of-domain={outOfDomain ? 'true' : undefined}
      >
        {outOfDomain ? (
          <>
            <p className="result-title">{t('outcome.notLeafShort')} ({topName}?)</p>
            <p>{t('diagnosis.confidence', { percent })}</p>
          </>
        ) : unsure ? (
          <>
            <p className="result-title">{t('diagnosis.unsureTitle')}</p>
            <p>{t('diagnosis.unsureBody', { label: topName, percent })}</p>
            {qualityIssues.length === 0 && <p className="retake">{t('diagnosis.retakeTips')}</p>}
          </>
        ) : (
          <>
            <p className="result-title">{topName}</p>
            <p className="result-confidence">{t('diagnosis.confidence', { percent })}</p>
          </>
        )}
      </div>
      <PhotoQualityAdvice issues={qualityIssues} />
      <h3 className="small-heading">{t('diagnosis.allClasses')}</h3>
      <ProbabilityBars labels={labels} probabilities={probabilities} top={top} />
      {outOfDomain && onReveal && (
        <button type="button" className="button secondary" data-testid="hide-guess" onClick={() => onReveal(false)}>
          {t('outcome.hideGuess')}
        </button>
      )}
      {footer}
    </section>
  );
}

/** Each photo-quality issue with its own retake advice. */
export function PhotoQualityAdvice({ issues, lowersConfidence = true }: { issues: readonly PhotoQualityIssue[]; lowersConfidence?: boolean }) {
  const { t } = useTranslation();
  if (issues.length === 0) return null;
  return (
    <div className="retake photo-quality" data-testid="photo-quality" role="note">
      <p className="small-heading">{t('quality.heading')}</p>
      <ul>
        {issues.map((issue) => <li key={issue} data-issue={issue}>{t(`quality.${issue}`)}</li>)}
      </ul>
      {lowersConfidence && <p>{t('quality.lowersConfidence')}</p>}
    </div>
  );
}

/** The head has no statistics: the app cannot tell a bean leaf from anything else, and says so. */
export function DomainUncheckedNotice() {
  const { t } = useTranslation();
  return <p className="notice domain-unchecked" role="note" data-testid="domain-unchecked"><WarningIcon /> {t('outcome.domainUnchecked')}</p>;
}
