// Every error the user sees: a plain, translated message plus the technical detail folded away.
import { useTranslation } from 'react-i18next';
import type { UiError } from '../../store/errors';

export function errorText(t: (key: string) => string, exists: (key: string) => boolean, error: UiError): string {
  const key = `errors.${error.code}`;
  return exists(key) ? t(key) : error.message || t('errors.unknown');
}

export function ErrorMessage({ error, onDismiss, children }: { error: UiError; onDismiss?: () => void; children?: React.ReactNode }) {
  const { t, i18n } = useTranslation();
  return (
    <div className="error" role="alert" data-testid="error" data-code={error.code}>
      <p className="error-text">{errorText(t, (k) => i18n.exists(k), error)}</p>
      {children}
      {error.detail && (
        <details>
          <summary>{t('errors.details')}</summary>
          <pre>{error.detail}</pre>
        </details>
      )}
      {onDismiss && <button type="button" className="button secondary" onClick={onDismiss}>{t('errors.dismiss')}</button>}
    </div>
  );
}
