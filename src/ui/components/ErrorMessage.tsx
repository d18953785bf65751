// Every error the user sees: a plain, translated message plus the technical detail folded away.
import { useTranslation } from 'react-i18next';
import type { UiError } from '../../store/errors';

export function errorText(t: (key: string) => string, exists: (key: string) => boolean, error: UiError): string {
  const precise = error.reason ? `errorReasons.${error.reason}` : undefined;
  if (precise && exists(precise)) return t(precise);
  const key = `errors.${error.code}`;
  return exists(key) ? t(key) : error.message || t('errors.unknown');
}

export interface ErrorMessageProps {
  error: UiError;
  /** Replaces the generic text for the error's code when the context allows a more precise one. */
  message?: string;
  onDismiss?: () => void;
  children?: React.ReactNode;
}

export function ErrorMessage({ error, message, onDismiss, children }: ErrorMessageProps) {
  const { t, i18n } = useTranslation();
  return (
    <div className="error" role="alert" data-testid="error" data-code={error.code}>
      <p className="error-text">{message ?? errorText(t, (k) => i18n.exists(k), error)}</p>
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
