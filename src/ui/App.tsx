// The app shell: language, the three panels behind a bottom navigation (thumb reach), model loading via
// TanStack Query (the store mirrors its progress), and app-level messages.
import { QueryClientProvider, useQuery } from '@tanstack/react-query';
import { Component, lazy, Suspense, useEffect, type ReactNode } from 'react';
import { I18nextProvider, useTranslation } from 'react-i18next';
import type { i18n as I18n } from 'i18next';
import { changeLanguage, isLanguage, LANGUAGES, type LanguageCode } from '../i18n/index';
import { nextTask } from '../engine/index';
import { loadModel } from '../store/actions';
import { loadHeadLibrary } from '../store/teachActions';
import { useAppStore } from '../store/index';
import {
  selectAppError, selectBackendPreference, selectEngineStatus, selectModelStatus, selectPanel, selectRequestedModelUrl,
} from '../store/selectors';
import type { Panel } from '../store/slices';
import { DiagnosePanel } from './components/DiagnosePanel';
import { ErrorMessage } from './components/ErrorMessage';
import { UpdatePrompt } from './components/UpdatePrompt';
import { ClockIcon, GearIcon, LeafIcon, TeachIcon } from './components/Icons';
import { queryClient } from './setup';

// The panels behind the other tabs load when first opened: the first screen (diagnose) does not wait for their code
// (history's list virtualiser, the teach and settings panels). The service worker precaches their chunks.
const TeachPanel = lazy(() => import('./components/TeachPanel').then((m) => ({ default: m.TeachPanel })));
const HistoryPanel = lazy(() => import('./components/HistoryPanel').then((m) => ({ default: m.HistoryPanel })));
const SettingsPanel = lazy(() => import('./components/SettingsPanel').then((m) => ({ default: m.SettingsPanel })));

/** A panel whose code could not be loaded (offline before the service worker had stored it, a broken deploy): a
 * message and a reload, instead of an empty page. */
class PanelBoundary extends Component<{ children: ReactNode; message: string; retry: string }, { error: unknown }> {
  override state: { error: unknown } = { error: null };
  static getDerivedStateFromError(error: unknown) { return { error }; }
  override render() {
    if (this.state.error === null) return this.props.children;
    return (
      <ErrorMessage error={{ code: 'panel-load', message: this.props.message, detail: String(this.state.error) }} message={this.props.message}>
        <button type="button" onClick={() => window.location.reload()}>{this.props.retry}</button>
      </ErrorMessage>
    );
  }
}

const PANELS: { id: Panel; icon: () => React.JSX.Element }[] = [
  { id: 'diagnose', icon: LeafIcon },
  { id: 'teach', icon: TeachIcon },
  { id: 'history', icon: ClockIcon },
  { id: 'settings', icon: GearIcon },
];

function useModelQuery() {
  const url = useAppStore(selectRequestedModelUrl);
  const backend = useAppStore(selectBackendPreference);
  // The store holds the model state; the query only runs (and de-duplicates) the load.
  return useQuery({
    queryKey: ['model', url, backend],
    // In a task of its own: the query starts in the effects after the first render, and the load's first store update
    // re-renders at once (zustand), which together made one long task.
    queryFn: () => nextTask().then(() => loadModel(url, backend)),
    gcTime: 0,
  });
}

function Shell() {
  const { t, i18n } = useTranslation();
  const panel = useAppStore(selectPanel);
  const appError = useAppStore(selectAppError);
  const engineStatus = useAppStore(selectEngineStatus);
  const modelQuery = useModelQuery();

  const modelStatus = useAppStore(selectModelStatus);
  // The heads kept on this phone, once the model (and the active head it restored) is ready.
  useEffect(() => { if (modelStatus === 'ready') void loadHeadLibrary(); }, [modelStatus]);
  useEffect(() => { document.title = `${t('app.title')} — ${t('app.tagline')}`; }, [t]);

  // A language's strings load with it; if its chunk cannot be fetched the app stays in the current language and says so.
  async function chooseLanguage(code: LanguageCode) {
    try {
      await changeLanguage(i18n, code);
    } catch (error) {
      useAppStore.getState().setAppError({ code: 'language-load', message: t('app.languageFailed'), detail: String(error) });
    }
  }

  return (
    <div className="app">
      <a className="skip-link" href="#main">{t('app.skipToContent')}</a>
      <header className="topbar">
        <h1><LeafIcon /> {t('app.title')}</h1>
        <label className="language">
          <span className="visually-hidden">{t('app.language')}</span>
          <select
            value={i18n.language} data-testid="language"
            onChange={(e) => { if (isLanguage(e.target.value)) void chooseLanguage(e.target.value); }}
          >
            {LANGUAGES.map((l) => <option key={l.code} value={l.code} lang={l.code}>{l.name}</option>)}
          </select>
        </label>
      </header>
      <nav className="bottom-nav" aria-label={t('nav.main')}>
        {PANELS.map((p) => (
          <button
            key={p.id} type="button" aria-current={panel === p.id ? 'page' : undefined} data-testid={`nav-${p.id}`}
            onClick={() => useAppStore.getState().setPanel(p.id)}
          >
            <p.icon />
            {t(`nav.${p.id}`)}
          </button>
        ))}
      </nav>
      <UpdatePrompt />
      <main id="main" tabIndex={-1}>
        {engineStatus?.kind === 'recovering' && <p className="notice" role="status">{t('engine.recovering')}</p>}
        {engineStatus?.kind === 'fell-back' && <p className="notice" role="status">{t('engine.fellBack', { from: engineStatus.from, to: engineStatus.to })}</p>}
        {appError && <ErrorMessage error={appError} onDismiss={() => useAppStore.getState().setAppError(null)} />}
        <div hidden={panel !== 'diagnose'}><DiagnosePanel onRetryModel={() => void modelQuery.refetch()} /></div>
        <PanelBoundary key={panel} message={t('app.panelFailed')} retry={t('model.retry')}>
          <Suspense fallback={<p className="notice" role="status">{t('app.loadingPanel')}</p>}>
            {panel === 'teach' && <TeachPanel />}
            {panel === 'history' && <HistoryPanel />}
            {panel === 'settings' && <SettingsPanel />}
          </Suspense>
        </PanelBoundary>
      </main>
    </div>
  );
}

export function App({ i18n }: { i18n: I18n }) {
  return (
    <I18nextProvider i18n={i18n}>
      <QueryClientProvider client={queryClient}>
        <Shell />
      </QueryClientProvider>
    </I18nextProvider>
  );
}
