// A notice from the teach actions (teach panel, correction control): its own module so that the diagnose screen
// can show one without loading the teach panel (lazy, App.tsx).
import { useTranslation } from 'react-i18next';
import type { TeachNotice } from '../../store/teachSlice';
import { ErrorMessage } from './ErrorMessage';

/** A notice from the teach actions: an i18n key under `teach.`, with the technical detail of an error folded. */
export function TeachNoticeView({ notice, testId }: { notice: TeachNotice | null; testId: string }) {
  const { t } = useTranslation();
  if (!notice) return null;
  const text = t(`teach.${notice.key}`, notice.values);
  if (notice.kind === 'error') {
    const error = notice.error ?? { code: notice.key, message: text, detail: '' };
    return <div data-testid={testId} data-kind="error" data-key={notice.key} data-seq={notice.seq}><ErrorMessage error={error} message={text} /></div>;
  }
  return <p className="notice" role="status" data-testid={testId} data-kind="ok" data-key={notice.key} data-seq={notice.seq}>{text}</p>;
}
