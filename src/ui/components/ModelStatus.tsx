// Model loading progress, and what to do when the trained model is missing or failed to load.
import { useTranslation } from 'react-i18next';
import { useAppStore } from '../../store/index';
import {
  selectDownloadFraction, selectFromCache, selectLastProgress, selectModelError, selectModelStatus, selectRequestedModelUrl,
} from '../../store/selectors';
import { switchModel } from '../setup';
import { ErrorMessage } from './ErrorMessage';
import { LoadFolderButton } from './LoadFolderButton';

export const FIXTURE_MODEL_URL = 'models/fixture-deit-micro/';

export function ModelStatus({ onRetry }: { onRetry: () => void }) {
  const { t } = useTranslation();
  const status = useAppStore(selectModelStatus);
  const fraction = useAppStore(selectDownloadFraction);
  const progress = useAppStore(selectLastProgress);
  const fromCache = useAppStore(selectFromCache);
  const error = useAppStore(selectModelError);
  const requested = useAppStore(selectRequestedModelUrl);

  if (status === 'loading' || status === 'idle') {
    let text = t('model.loading');
    // A whole percentage placed by each language's own string, not Intl: Intl's first use loads its locale data (tens
    // of ms on a phone's main thread), which is better paid at the first diagnosis than during the model's download.
    if (progress?.kind === 'download') text = progress.fromCache || fromCache ? t('model.fromCache') : t('model.downloading', { percent: Math.round((fraction ?? 0) * 100) });
    else if (progress?.kind === 'verify') text = t('model.verifying');
    else if (progress?.kind === 'session') text = t('model.starting', { backend: progress.backend });
    return (
      <section className="card model-status" aria-live="polite" data-testid="model-loading">
        <p>{text}</p>
        <progress max={1} value={fraction ?? undefined} aria-label={text} />
      </section>
    );
  }
  if (status === 'missing') {
    return (
      <section className="card model-missing" data-testid="model-missing">
        <h2>{t('model.missingTitle')}</h2>
        <p>{t('model.missingBody')}</p>
        <p>{t('model.missingOptions')}</p>
        <div className="actions">
          <LoadFolderButton />
          {requested !== FIXTURE_MODEL_URL && (
            <button type="button" className="button warning" data-testid="use-fixture" onClick={() => switchModel(FIXTURE_MODEL_URL)}>
              {t('model.useFixture')}
              <small>{t('model.useFixtureNote')}</small>
            </button>
          )}
        </div>
        {error && <details className="technical"><summary>{t('errors.details')}</summary><pre>{error.detail}</pre></details>}
      </section>
    );
  }
  if (status === 'error' && error) {
    return (
      <section className="card">
        <h2>{t('model.failedTitle')}</h2>
        <ErrorMessage error={error}>
          <div className="actions">
            <button type="button" className="button" onClick={onRetry}>{t('model.retry')}</button>
            <LoadFolderButton />
            {requested !== FIXTURE_MODEL_URL && (
              <button type="button" className="button warning" onClick={() => switchModel(FIXTURE_MODEL_URL)}>
                {t('model.useFixture')}<small>{t('model.useFixtureNote')}</small>
              </button>
            )}
          </div>
        </ErrorMessage>
      </section>
    );
  }
  return null;
}
