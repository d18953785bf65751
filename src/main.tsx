import { StrictMode, startTransition } from 'react';
import { createRoot } from 'react-dom/client';
import { createEngine, nextTask } from './engine/index';
import { createI18n } from './i18n/index';
import { App } from './ui/App';
import { registerPwa } from './ui/pwa';
import { setupApp } from './ui/setup';
import './ui/styles.css';

// Start-up runs as separate tasks (the modules' evaluation, the strings, the app's set-up), not one: on a slow phone
// together they are one long task that delays the first paint of the app and any tap.

// The strings of the language shown first (English is in this chunk; another is a chunk of its own).
const i18nReady = nextTask().then(() => createI18n());
void registerPwa().catch((error: unknown) => console.warn('PWA set-up failed', error));

// Which model to load (URL, a folder kept from disk, or the built-in one) is settled before the first
// render, so the app never starts loading one model only to switch to another.
void nextTask()
  .then(() => nextTask())
  .then(() => setupApp(createEngine))
  .catch((error: unknown) => console.warn('set-up failed; using defaults', error))
  .then(() => i18nReady)
  .then((i18n) => {
    const root = createRoot(document.getElementById('root')!);
    // As a transition, the first render yields to the browser every few milliseconds instead of holding the main
    // thread for the whole tree (one long task on a phone).
    startTransition(() => {
      root.render(
        <StrictMode>
          <App i18n={i18n} />
        </StrictMode>,
      );
    });
  });
