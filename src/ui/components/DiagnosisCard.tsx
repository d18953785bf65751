// The result in plain words: the top class and how sure the model is, every class as a bar, and an
// honest "not sure" (with how to retake the photo) instead of a guess presented as fact.
import { useTranslation } from 'react-i18next';
import { className, formatPercent } from '../../i18n/index';
import type { ModelQuality } from '../../store/modelQuality';
import { decideOutcome, type DiagnosisOutcome } from '../../engine/index';
import { WarningIcon } from './Icons';

export interface DiagnosisCardProps {
  labels: readonly string[];
  probabilities: ArrayLike<number>;
  /** The engine's outcome; saved answers without one are judged by the engine's default rule. */
  outcome?: DiagnosisOutcome;
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

export function DiagnosisCard({ labels, probabilities, outcome, quality, footer }: DiagnosisCardProps) {
  const { t, i18n } = useTranslation();
  const order = Array.from(labels.keys()).sort((a, b) => (probabilities[b] ?? 0) - (probabilities[a] ?? 0));
  const top = order[0] ?? 0;
  // TODO(field helper, issue 11 item 4): not-bean-leaf gets its own screen; until then it shows as unsure.
  const confidence = { unsure: (outcome ?? decideOutcome({ probabilities, inDomain: true })) !== 'sure' };
  const topId = labels[top] ?? '';
  const topName = className(i18n, topId);
  const percent = formatPercent(probabilities[top] ?? 0, i18n.language);
  return (
    <section className="card diagnosis" aria-live="polite" aria-labelledby="diagnosis-heading">
      <h2 id="diagnosis-heading" className="visually-hidden">{t('diagnosis.heading')}</h2>
      {quality.kind === 'untrained' && <UntrainedBanner />}
      {quality.kind === 'preliminary' && <PreliminaryBanner valAccuracy={quality.valAccuracy} />}
      <div
        className={`result${confidence.unsure ? ' unsure' : ''}`}
        data-testid="diagnosis"
        data-label={topId}
        data-unsure={confidence.unsure ? 'true' : 'false'}
      >
        {confidence.unsure ? (
          <>
            <p className="result-title">{t('diagnosis.unsureTitle')}</p>
            <p>{t('diagnosis.unsureBody', { label: topName, percent })}</p>
            <p className="retake">{t('diagnosis.retakeTips')}</p>
          </>
        ) : (
          <>
            <p className="result-title">{topName}</p>
            <p className="result-confidence">{t('diagnosis.confidence', { percent })}</p>
          </>
        )}
      </div>
      <h3 className="small-heading">{t('diagnosis.allClasses')}</h3>
      <ul className="bars">
        {order.map((i) => {
          const p = probabilities[i] ?? 0;
          const name = className(i18n, labels[i] ?? '');
          const text = formatPercent(p, i18n.language);
          return (
            <li key={labels[i]} className={i === top ? 'top' : ''}>
              <span className="bar-label">{name}</span>
              <span className="bar-track" role="meter" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(p * 100)} aria-label={t('diagnosis.probability', { label: name, percent: text })}>
                <span className="bar-fill" style={{ width: `${Math.max(0, Math.min(1, p)) * 100}%` }} />
              </span>
              <span className="bar-value">{text}</span>
            </li>
          );
        })}
      </ul>
      {footer}
    </section>
  );
}
