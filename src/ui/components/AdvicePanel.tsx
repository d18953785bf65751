// What to do about the diagnosed class, in the chosen language, with its sources named.
import { useTranslation } from 'react-i18next';
import { ADVICE, ADVICE_SOURCES, isKnownClass, type AdviceLanguage } from '../../i18n/advice';
import { className } from '../../i18n/index';
import { useAppStore } from '../../store/index';

const selectTaught = (s: ReturnType<typeof useAppStore.getState>) => s.model?.taught;

export function AdvicePanel({ classId }: { classId: string }) {
  const { t, i18n } = useTranslation();
  const language = (['en', 'es', 'sw'].includes(i18n.language) ? i18n.language : 'en') as AdviceLanguage;
  const name = className(i18n, classId);
  const taught = useAppStore(selectTaught)?.find((c) => c.label === classId);
  return (
    <section className="card advice" aria-labelledby="advice-heading" data-testid="advice">
      <h2 id="advice-heading">{t('advice.heading')}: {name}</h2>
      {isKnownClass(classId) ? (
        <>
          <p>{ADVICE[language][classId].summary}</p>
          <ul className="advice-list">
            {ADVICE[language][classId].actions.map((a) => <li key={a}>{a}</li>)}
          </ul>
          <p className="sources">
            {t('advice.source')}:{' '}
            {ADVICE_SOURCES[classId].map((s, i) => (
              <span key={s.url}>
                {i > 0 && '; '}
                <cite>{s.title}</cite>, {s.publisher} <span className="url">({s.url})</span>
              </span>
            ))}
          </p>
        </>
      ) : taught ? (
        // The teacher's words, never presented as the app's own advice.
        <div className="teacher-advice" data-testid="teacher-advice">
          <p className="small-heading">{t('teach.teacherAdviceHeading')}</p>
          {taught.note ? <blockquote data-testid="teacher-note">{taught.note}</blockquote> : <p>{t('teach.teacherAdviceNone')}</p>}
          <p className="hint">{t('teach.teacherAdviceDisclaimer', { count: taught.photos })}</p>
        </div>
      ) : (
        <p>{t('advice.unknownClass', { label: name })}</p>
      )}
      <p className="hint">{t('advice.disclaimer')}</p>
    </section>
  );
}
