// Service worker registration (vite-plugin-pwa, prompt mode: an update is offered, never forced) and the
// install prompt where the browser supports it.
import { useAppStore } from '../store/index';

let updateServiceWorker: ((reload?: boolean) => Promise<void>) | null = null;
interface InstallPromptEvent extends Event { prompt(): Promise<void>; userChoice: Promise<{ outcome: string }> }
let installEvent: InstallPromptEvent | null = null;

export async function registerPwa(): Promise<void> {
  window.addEventListener('beforeinstallprompt', (event) => {
    event.preventDefault();
    installEvent = event as InstallPromptEvent;
    useAppStore.getState().setInstallAvailable(true);
  });
  window.addEventListener('appinstalled', () => useAppStore.getState().setInstallAvailable(false));
  if (!('serviceWorker' in navigator)) return;
  await modelSettled();
  const { registerSW } = await import('virtual:pwa-register');
  updateServiceWorker = registerSW({
    immediate: true,
    onNeedRefresh: () => useAppStore.getState().setUpdateAvailable(true),
    onOfflineReady: () => useAppStore.getState().setOfflineReady(true),
    onRegisterError: (error: unknown) => console.warn('service worker registration failed', error),
  });
}

/** Resolves once the model has loaded or failed. The service worker's precache (the app's own files, hundreds of kB
 * compressed) then downloads: on a slow network it would otherwise share the bandwidth with the model, on the way
 * to the first diagnosis. */
function modelSettled(): Promise<void> {
  const settled = (status: string) => status === 'ready' || status === 'missing' || status === 'error';
  return new Promise((resolve) => {
    if (settled(useAppStore.getState().modelStatus)) { resolve(); return; }
    const unsubscribe = useAppStore.subscribe((state) => {
      if (!settled(state.modelStatus)) return;
      unsubscribe();
      resolve();
    });
  });
}

export async function applyUpdate(): Promise<void> {
  useAppStore.getState().setUpdateAvailable(false);
  await updateServiceWorker?.(true);
}

export async function promptInstall(): Promise<void> {
  const event = installEvent;
  if (!event) return;
  installEvent = null;
  useAppStore.getState().setInstallAvailable(false);
  await event.prompt();
}
