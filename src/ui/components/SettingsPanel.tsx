// What runs (backend, model, accuracy), loading another model or head from disk, the backend override,
// installing the app, and the privacy note.
import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import type { BackendPreference } from '../../engine/types';
import { className, formatPercent } from '../../i18n/index';
import { chooseBackend, loadHead, resetHead } from '../../store/actions';
import { toUiError } from '../../store/errors';
import { useAppStore } from '../../store/index';
import {
  selectBackend, selectBackendPreference, selectCustomHeadName, selectInstallAvailable, selectModel, selectOfflineReady,
  selectRequestedModelUrl,
} from '../../store/selectors';
import { DEFAULT_MODEL_URL } from '../../store/slices';
import { forgetLocalModel } from '../localModel';
import { promptInstall } from '../pwa';
import { switchModel } from '../setup';
import { LoadFolderButton } from './LoadFolderButton';
import { version as APP_VERSION } from '../../../package.json';
import { DomainUncheckedNotice } from './DiagnosisCard';
import { takeFiles } from '../fileInput';

const PREFERENCES: BackendPreference[] = ['auto', 'webgpu', 'wasm'];

export function SettingsPanel() {
  const { t, i18n } = useTranslation();
  const id = useId();
  const model = useAppStore(selectModel);
  const backend = useAppStore(selectBackend);
  const preference = useAppStore(selectBackendPreference);
  const customHead = useAppStore(selectCustomHeadName);
  const requested = useAppStore(selectRequestedModelUrl);
  const installAvailable = useAppStore(selectInstallAvailable);
  const offlineReady = useAppStore(selectOfflineReady);

  async function onHead(event: React.ChangeEvent<HTMLInputElement>) {
    const [file] = takeFiles(event.target);
    if (!file) return;
    try {
      const head: unknown = JSON.parse(await file.text());
      await loadHead(head, file.name);
    } catch (error) {
      useAppStore.getState().setAppError(toUiError(error, error instanceof SyntaxError ? 'head-invalid' : 'load-file'));
    }
  }

  return (
    <section className="card settings" aria-labelledby={`${id}-h`} data-testid="settings">
      <h2 id={`${id}-h`}>{t('settings.heading')}</h2>
      <dl className="facts">
        <dt>{t('settings.backend')}</dt>
        <dd>
          {backend ? <><code data-testid="backend">{backend}</code> — {t(`settings.backendNames.${backend}`)}</> : '—'}
        </dd>
        {model && (
          <>
            <dt>{t('settings.model')}</dt>
            <dd data-testid="model-title">{model.title}</dd>
            <dt>{t('settings.modelName')}</dt>
            <dd><code>{model.name}</code></dd>
            <dt>{t('settings.modelVersion')}</dt>
            <dd>{model.version}</dd>
            <dt>{t('settings.modelAccuracy')}</dt>
            <dd>{model.valAccuracy !== undefined && model.trained ? formatPercent(model.valAccuracy, i18n.language, 1) : t('settings.accuracyUnknown')}</dd>
            <dt>{t('settings.modelTrained')}</dt>
            <dd className={model.trained ? '' : 'warning-text'}>{model.trained ? t('settings.yes') : t('settings.no')}</dd>
            <dt>{t('settings.classes')}</dt>
            <dd>{model.labels.map((l) => className(i18n, l)).join(', ')}</dd>
          </>
        )}
      </dl>
      {model && !model.domainCheck && <DomainUncheckedNotice />}
      {customHead && (
        <p>
          {t('settings.customHead', { name: customHead })}{' '}
          <button type="button" className="button secondary small" onClick={() => resetHead().catch((e: unknown) => useAppStore.getState().setAppError(toUiError(e)))}>
            {t('settings.resetHead')}
          </button>
        </p>
      )}

      <label className="field">
        <span>{t('settings.backendPreference')}</span>
        <select
          value={preference} data-testid="backend-preference"
          onChange={(e) => chooseBackend(e.target.value as BackendPreference)}
        >
          {PREFERENCES.map((p) => <option key={p} value={p}>{t(`settings.backendPreferences.${p}`)}</option>)}
        </select>
      </label>

      <div className="field">
        <LoadFolderButton />
        <small>{t('settings.loadFolderHint')}</small>
      </div>
      <div className="field">
        <label className="button secondary file-button">
          {t('settings.loadHead')}
          <input type="file" accept=".json,application/json" className="visually-hidden" data-testid="head-input" onChange={(e) => void onHead(e)} />
        </label>
        <small>{t('settings.loadHeadHint')}</small>
      </div>
      {requested !== DEFAULT_MODEL_URL && (
        <button type="button" className="button secondary" onClick={() => { void forgetLocalModel().catch(() => undefined); switchModel(null); }}>
          {t('settings.defaultModel')}
        </button>
      )}

      {installAvailable && <button type="button" className="button primary" onClick={() => void promptInstall()}>{t('settings.install')}</button>}
      {/* The service worker keeps the app; the engine's own verified cache keeps the model it has loaded. */}
      {offlineReady && model && <p className="ok-text">{t('settings.offlineReady')}</p>}

      <h3>{t('settings.privacyHeading')}</h3>
      <p data-testid="privacy">{t('settings.privacy')}</p>
      <p className="hint">{t('settings.version', { version: APP_VERSION })}</p>
    </section>
  );
}
