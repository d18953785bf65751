// Model loading progress, and what to do when the trained model is missing or failed to load.
import { useQuery } from '@tanstack/react-query';
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { useAppStore } from '../../store/index';
import {
  selectDownloadFraction, selectFromCache, selectLastProgress, selectModelError, selectModelStatus, selectRequestedModelUrl,
} from '../../store/selectors';
import { formatPercent } from '../../i18n/index';
import { DEFAULT_MODEL_URL } from '../../store/slices';
import { forgetFallbackModel, rememberFallbackModel, rememberedFallbackModel, switchModel } from '../setup';
import { ErrorMessage } from './ErrorMessage';
import { LoadFolderButton } from './LoadFolderButton';

export const FIXTURE_MODEL_URL = 'models/fixture-deit-micro/';
/** A trained model below the ship floor (store/modelQuality.ts), offered only while the tested one is missing. */
export const PRELIMINARY_MODEL_URL = 'models/deit-tiny-beans-preliminary/';

interface PreliminaryOffer { valAccuracy: number }

/** The preliminary model's own manifest, if this build has one (a 404 hides the offer). */
function usePreliminaryOffer() {
  return useQuery({
    queryKey: ['preliminary-model', PRELIMINARY_MODEL_URL],
    queryFn: async (): Promise<PreliminaryOffer | null> => {
      const response = await fetch(new URL(`${PRELIMINARY_MODEL_URL}manifest.json`, document.baseURI));
      if (!response.ok) return null;
      const manifest = (await response.json().catch(() => null)) as { trained?: unknown; training?: { val_accuracy?: unknown } } | null;
      const accuracy = manifest?.training?.val_accuracy;
      return manifest?.trained === true && typeof accuracy === 'number' ? { valAccuracy: accuracy } : null;
    },
  });
}

function PreliminaryButton({ offer }: { offer: PreliminaryOffer }) {
  const { t, i18n } = useTranslation();
  return (
    <button type="button" className="button" data-testid="use-preliminary"
      onClick={() => { rememberFallbackModel(PRELIMINARY_MODEL_URL); switchModel(PRELIMINARY_MODEL_URL); }}>
      {t('model.usePreliminary')}
      <small>{t('model.usePreliminaryNote', { percent: formatPercent(offer.valAccuracy, i18n.language) })}</small>
    </button>
  );
}

export function ModelStatus({ onRetry }: { onRetry: () => void }) {
  const { t, i18n } = useTranslation();
  const status = useAppStore(selectModelStatus);
  const fraction = useAppStore(selectDownloadFraction);
  const progress = useAppStore(selectLastProgress);
  const fromCache = useAppStore(selectFromCache);
  const error = useAppStore(selectModelError);
  const requested = useAppStore(selectRequestedModelUrl);
  const offer = usePreliminaryOffer();
  const preliminary = offer.data ?? null;
  const defaultMissing = status === 'missing' && requested === DEFAULT_MODEL_URL;
  // Someone who chose the preliminary model once gets it again while the tested model is still missing
  // (a home-screen launch has no ?model= in its address); a build with the tested model ignores the choice.
  useEffect(() => {
    if (!defaultMissing || offer.isPending) return;
    if (preliminary && rememberedFallbackModel() === PRELIMINARY_MODEL_URL) switchModel(PRELIMINARY_MODEL_URL);
    else if (offer.data === null) forgetFallbackModel(); // gone from this build (not merely unreachable)
  }, [defaultMissing, offer.isPending, offer.data, preliminary]);

  if (status === 'loading' || status === 'idle') {
    let text = t('model.loading');
    if (progress?.kind === 'download') text = progress.fromCache || fromCache ? t('model.fromCache') : t('model.downloading', { percent: formatPercent(fraction ?? 0, i18n.language) });
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
        <p>{t(preliminary ? 'model.missingBodyPreliminary' : 'model.missingBody')}</p>
        <p>{t('model.missingOptions')}</p>
        <div className="actions">
          {preliminary && requested !== PRELIMINARY_MODEL_URL && <PreliminaryButton offer={preliminary} />}
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
