// "This is actually …": the farmer knows better. The photo's features go into the chosen class of a local copy
// of the classifier (the model's own head is never changed), with undo and a count of such local photos.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { className } from '../../i18n/index';
import { useAppStore } from '../../store/index';
import { correctDiagnosis, undoCorrection } from '../../store/teachActions';
import { TeachNoticeView } from './TeachNotice';

const selectDiagnosis = (s: ReturnType<typeof useAppStore.getState>) => s.diagnosis;
const selectModel = (s: ReturnType<typeof useAppStore.getState>) => s.model;
const selectUndo = (s: ReturnType<typeof useAppStore.getState>) => s.lastCorrection;
const selectNotice = (s: ReturnType<typeof useAppStore.getState>) => s.correctionNotice;

export function CorrectionControl() {
  const { t, i18n } = useTranslation();
  const diagnosis = useAppStore(selectDiagnosis);
  const model = useAppStore(selectModel);
  const undo = useAppStore(selectUndo);
  const notice = useAppStore(selectNotice);
  const [choice, setChoice] = useState('');
  const [busy, setBusy] = useState(false);
  if (!diagnosis || !model) return null;
  const others = diagnosis.labels.map((label, i) => ({ label, i })).filter(({ i }) => i !== diagnosis.top);
  const chosen = others.find((o) => String(o.i) === choice);

  async function run(work: () => Promise<void>) {
    setBusy(true);
    try { await work(); } finally { setBusy(false); }
  }

  return (
    <section className="card correction" data-testid="correction" aria-busy={busy}>
      <h3 className="small-heading">{t('teach.correctHeading')}</h3>
      {model.canTeach ? (
        <form
          className="correction-row"
          onSubmit={(e) => {
            e.preventDefault();
            if (chosen) void run(() => correctDiagnosis(chosen.i, t('teach.correctedCopyName', { model: model.title })));
          }}
        >
          <select value={choice} data-testid="correct-select" aria-label={t('teach.correctHeading')} onChange={(e) => setChoice(e.target.value)}>
            <option value="">{t('teach.correctChoose')}</option>
            {others.map(({ label, i }) => <option key={label} value={i}>{className(i18n, label)}</option>)}
          </select>
          <button type="submit" className="button secondary small" data-testid="correct-apply" disabled={!chosen || busy}>{t('teach.correctApply')}</button>
        </form>
      ) : (
        <p className="hint">{t('teach.noStatistics')}</p>
      )}
      <p className="hint" data-testid="local-examples" data-count={model.localExamples}>
        {model.localExamples > 0 ? t('teach.localExamplesHere', { count: model.localExamples }) : t('teach.correctHint')}
      </p>
      {undo && (
        <button type="button" className="button secondary small" data-testid="correct-undo" disabled={busy} onClick={() => void run(undoCorrection)}>
          {t('teach.undo', { label: className(i18n, undo.label) })}
        </button>
      )}
      <TeachNoticeView notice={notice} testId="correction-notice" />
    </section>
  );
}
