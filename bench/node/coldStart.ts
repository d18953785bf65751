// Cold start of the built app (vite build + vite preview): navigation → app shell, → usable UI (photo picker
// with the model loaded) and → first diagnosis, once with an empty cache and once with the service worker's
// cache warm, counting bytes received over the network (CDP Network events; service-worker and cache hits excluded).
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type CDPSession, type Page } from 'playwright-core';
import { build, preview } from 'vite';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../test/browser/harness';
import { WEBGPU_CANVAS_ARGS } from './browserRunner';
import type { ColdStartReport, ColdStartRun } from '../lib/report';
import { SHIPPED_MODEL_DIR, STAND_IN_MODEL_DIR } from '../lib/modelFiles';

/** What the app renders (data-testid hooks of src/ui). */
export const APP_MARKERS = {
  shell: '[data-testid="nav-diagnose"]',
  photoInput: '[data-testid="gallery-input"]',
  modelReady: '[data-model-status="ready"]',
  modelMissing: '[data-testid="model-missing"]',
  diagnosis: '[data-testid="diagnosis"]',
  error: '[data-testid="error"]',
};

const WORK = '.work/bench-coldstart';

interface NetworkTally { bytes: number; requests: number }

async function tallyNetwork(cdp: CDPSession): Promise<NetworkTally> {
  const tally: NetworkTally = { bytes: 0, requests: 0 };
  const fromElsewhere = new Set<string>();
  await cdp.send('Network.enable');
  cdp.on('Network.responseReceived', (e) => {
    if (e.response.fromServiceWorker || e.response.fromDiskCache || e.response.fromPrefetchCache) fromElsewhere.add(e.requestId);
  });
  cdp.on('Network.loadingFinished', (e) => {
    if (fromElsewhere.has(e.requestId)) return;
    tally.bytes += e.encodedDataLength;
    tally.requests += 1;
  });
  return tally;
}

/** Installs observers before any app script runs, so times are taken in the page (performance.now() from
 * navigation). A string, not a function: tsx's transform adds helper calls a page does not have. */
function markerScript(markers: typeof APP_MARKERS): string {
  return `(() => {
    const markers = ${JSON.stringify(markers)};
    const times = {};
    window.__coldStart = times;
    const check = () => {
      if (times.shell === undefined && document.querySelector(markers.shell)) times.shell = performance.now();
      if (times.usable === undefined && document.querySelector(markers.photoInput) && document.querySelector(markers.modelReady)) times.usable = performance.now();
      if (times.diagnosis === undefined && document.querySelector(markers.diagnosis)) times.diagnosis = performance.now();
    };
    new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true });
  })();`;
}

async function oneVisit(context: BrowserContext, url: string, photo: string, cache: ColdStartRun['cache'], log: (l: string) => void): Promise<ColdStartRun> {
  const page: Page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  const tally = await tallyNetwork(cdp);
  await page.addInitScript({ content: markerScript(APP_MARKERS) });
  let note = '';
  await page.goto(url);
  try {
    await page.waitForFunction(() => (window as unknown as { __coldStart: Record<string, number> }).__coldStart.usable !== undefined, undefined, { timeout: 300_000 });
    await page.locator(APP_MARKERS.photoInput).setInputFiles(photo);
    await page.waitForSelector(APP_MARKERS.diagnosis, { timeout: 300_000, state: 'attached' });
  } catch (err) {
    const missing = await page.locator(APP_MARKERS.modelMissing).count();
    const error = await page.locator(APP_MARKERS.error).first().getAttribute('data-code').catch(() => null);
    note = `UI not driven to a diagnosis: ${missing ? 'model missing; ' : ''}${error ? `error ${error}; ` : ''}${String(err).split('\n')[0]}`;
    log(note);
  }
  const times = await page.evaluate(() => (window as unknown as { __coldStart: Record<string, number> }).__coldStart);
  // Let the service worker finish caching before the next visit counts on it.
  await page.waitForTimeout(500);
  await cdp.detach();
  await page.close();
  return {
    cache,
    shell_ms: times.shell ?? null,
    usable_ui_ms: times.usable ?? null,
    first_diagnosis_ms: times.diagnosis ?? null,
    bytes_downloaded: tally.bytes,
    requests: tally.requests,
    note,
  };
}

/** Waits until the service worker controls the origin and its precache is complete. */
async function waitForServiceWorker(context: BrowserContext, url: string): Promise<boolean> {
  const page = await context.newPage();
  await page.goto(url);
  const ready = await page.evaluate(async () => {
    if (!('serviceWorker' in navigator)) return false;
    const timeout = new Promise<false>((r) => setTimeout(() => r(false), 240_000));
    const registration = await Promise.race([navigator.serviceWorker.ready.then(() => true), timeout]);
    return registration;
  }).catch(() => false);
  await page.close();
  return ready;
}

export async function measureColdStart(options: { log: (line: string) => void; photo: string; modelDir: string }): Promise<ColdStartReport> {
  const { log } = options;
  const outDir = resolve(WORK, 'dist');
  let publicDir = resolve('public');
  let modelNote = 'shipped model (public/models/deit-tiny-beans)';
  if (!existsSync(join(SHIPPED_MODEL_DIR, 'manifest.json'))) {
    // No shipped model: build with a copy of public/ whose models/deit-tiny-beans is the bench's model,
    // so the app loads and caches it exactly as it would the real one.
    publicDir = resolve(WORK, 'public');
    rmSync(publicDir, { recursive: true, force: true });
    mkdirSync(publicDir, { recursive: true });
    cpSync('public', publicDir, { recursive: true });
    cpSync(options.modelDir, join(publicDir, 'models/deit-tiny-beans'), { recursive: true });
    modelNote = `no shipped model: ${options.modelDir === resolve(STAND_IN_MODEL_DIR) ? 'the untrained stand-in' : options.modelDir} copied to models/deit-tiny-beans/ of the build`;
  }
  log(`cold start: vite build → ${outDir} (${modelNote})`);
  await build({ configFile: resolve('vite.config.ts'), publicDir, build: { outDir, emptyOutDir: true }, logLevel: 'warn' });
  const server = await preview({ configFile: resolve('vite.config.ts'), build: { outDir }, preview: { port: 0, host: '127.0.0.1', strictPort: false }, logLevel: 'warn' });
  const address = server.httpServer.address();
  if (!address || typeof address === 'string') throw new Error('vite preview did not report a port');
  const url = `http://127.0.0.1:${address.port}/`;
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, ...WEBGPU_CANVAS_ARGS], headless: true });
  const runs: ColdStartRun[] = [];
  try {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    runs.push(await oneVisit(context, url, options.photo, 'empty', log));
    log(`cold start (empty cache): ${JSON.stringify(runs[0])}`);
    const controlled = await waitForServiceWorker(context, url);
    const warm = await oneVisit(context, url, options.photo, 'warm-sw', log);
    if (!controlled) warm.note = `service worker not ready; ${warm.note}`;
    runs.push(warm);
    log(`cold start (warm SW cache): ${JSON.stringify(warm)}`);
    await context.close();
  } finally {
    await browser.close();
    await new Promise<void>((r) => server.httpServer.close(() => r()));
  }
  return {
    target: `vite build + vite preview (${url}), Chromium headless, viewport 390×844, backend 'auto'`,
    runs,
    note: modelNote,
  };
}
