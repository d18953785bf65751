// The list of every class with its probability as a bar, most likely first: one component for a single leaf's
// answer and a field check's combined answer.
import { useTranslation } from 'react-i18next';
import { className, formatProbability } from '../../i18n/index';

interface ProbabilityBarsProps {
  labels: readonly string[];
  probabilities: ArrayLike<number>;
  /** The class marked as the answer. */
  top: number;
}

export function ProbabilityBars({ labels, probabilities, top }: ProbabilityBarsProps) {
  const { t, i18n } = useTranslation();
  const order = Array.from(labels.keys()).sort((a, b) => (probabilities[b] ?? 0) - (probabilities[a] ?? 0));
  return (
    <ul className="bars">
      {order.map((i) => {
        const p = probabilities[i] ?? 0;
        const name = className(i18n, labels[i] ?? '');
        const text = formatProbability(p, i18n.language);
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
  );
}
