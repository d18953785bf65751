// Cold start of the production build: `vite build` + the .br/.gz files (scripts/precompress.ts) served by nginx
// with deploy/nginx.conf.template, Chromium at a phone viewport. Per device class (WASM-only: Chromium without
// WebGPU; WebGPU: with it, the app told to use it), a first visit (empty caches) and a second one (service worker
// and model cache warm): navigation → app shell, → usable UI (model loaded), → first diagnosis, and every byte
// counted at the server (nginx's $bytes_sent per response: page and service worker requests alike). Then a first
// visit under a throttled profile (Fast 3G + 4× CPU slowdown, DevTools protocol), and one from a host that sends
// none of the headers (what a plain static host gives: no cross-origin isolation, so ORT runs single-threaded).
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { build } from 'vite';
import { startNginx, type NginxServer, type WireLogEntry } from '../../deploy/nginx';
import { precompress } from '../../scripts/precompress';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../test/browser/harness';
import { WEBGPU_CANVAS_ARGS } from './browserRunner';
import type { ColdStartReport, ColdStartRun, WireTally } from '../lib/report';
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

/** DevTools' "Fast 3G" preset (1.6 Mbit/s × 0.9 down, 750 kbit/s × 0.9 up, 150 ms × 3.75 latency) and 4× CPU. */
export const THROTTLED_PROFILE = { downloadThroughput: (1.6e6 / 8) * 0.9, uploadThroughput: (750e3 / 8) * 0.9, latency: 150 * 3.75, cpuSlowdown: 4 };

const WORK_ROOT = '.work/bench-coldstart';
const VISIT_TIMEOUT = 300_000;
type Device = 'wasm' | 'webgpu';

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

function kindOf(uri: string): 'runtime' | 'model' | 'app' {
  if (/\/ort-wasm-simd-threaded[^/]*$/.test(uri.split('?')[0]!)) return 'runtime';
  if (/\/models\//.test(uri)) return 'model';
  return 'app';
}

export function tallyWire(entries: readonly WireLogEntry[]): WireTally {
  const tally: WireTally = { requests: 0, bytes: 0, runtime_bytes: 0, model_bytes: 0, app_bytes: 0, runtime_body_bytes: 0, model_body_bytes: 0, largest: [] };
  for (const e of entries) {
    const kind = kindOf(e.uri);
    tally.requests += 1;
    tally.bytes += e.bytes_sent;
    tally[`${kind}_bytes`] += e.bytes_sent;
    if (kind !== 'app') tally[`${kind}_body_bytes`] += e.body_bytes_sent;
  }
  tally.largest = [...entries].sort((a, b) => b.bytes_sent - a.bytes_sent).slice(0, 8)
    .map((e) => ({ uri: e.uri, bytes: e.bytes_sent, status: e.status, encoding: e.encoding }));
  return tally;
}

/** Until nginx has logged nothing new for `quietMs` (the service worker's precache included). */
async function serverIdle(server: NginxServer, quietMs = 3000, maxMs = 120_000): Promise<void> {
  const started = Date.now();
  let count = server.readAccessLog().length;
  let since = Date.now();
  while (Date.now() - started < maxMs) {
    await new Promise((r) => setTimeout(r, 250));
    const now = server.readAccessLog().length;
    if (now !== count) { count = now; since = Date.now(); } else if (Date.now() - since >= quietMs) return;
  }
}

interface VisitOptions { device: Device; cache: ColdStartRun['cache']; throttled: boolean; host: 'nginx' | 'static'; photo: string; diagnose: boolean; log: (l: string) => void }

async function oneVisit(context: BrowserContext, server: NginxServer, url: string, o: VisitOptions): Promise<ColdStartRun> {
  const page: Page = await context.newPage();
  await page.addInitScript({ content: markerScript(APP_MARKERS) });
  if (o.throttled) {
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: THROTTLED_PROFILE.latency, downloadThroughput: THROTTLED_PROFILE.downloadThroughput, uploadThroughput: THROTTLED_PROFILE.uploadThroughput });
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: THROTTLED_PROFILE.cpuSlowdown });
  }
  const logStart = server.readAccessLog().length;
  let note = '';
  let photoAt: number | null = null;
  await page.goto(url, { timeout: VISIT_TIMEOUT });
  try {
    await page.waitForFunction(() => (window as unknown as { __coldStart: Record<string, number> }).__coldStart.usable !== undefined, undefined, { timeout: VISIT_TIMEOUT });
    if (o.diagnose) {
      photoAt = await page.evaluate(() => performance.now());
      await page.locator(APP_MARKERS.photoInput).setInputFiles(o.photo);
      await page.waitForSelector(APP_MARKERS.diagnosis, { timeout: VISIT_TIMEOUT, state: 'attached' });
    } else {
      // Every file a diagnosis needs is loaded with the model (usable); a software adapter would take minutes to run it.
      note = 'no diagnosis driven (software WebGPU adapter: minutes per run); bytes up to the usable UI and the service worker settled';
    }
  } catch (err) {
    const missing = await page.locator(APP_MARKERS.modelMissing).count();
    const error = await page.locator(APP_MARKERS.error).first().getAttribute('data-code', { timeout: 1000 }).catch(() => null);
    note = `UI not driven to a diagnosis: ${missing ? 'model missing; ' : ''}${error ? `error ${error}; ` : ''}${String(err).split('\n')[0]}`;
    o.log(note);
  }
  const times = await page.evaluate(() => (window as unknown as { __coldStart: Record<string, number> }).__coldStart);
  const state = await page.evaluate(() => ({
    backend: document.querySelector('[data-backend]')?.getAttribute('data-backend') ?? null,
    isolated: globalThis.crossOriginIsolated,
  }));
  // The service worker installs (its precache) after the page has loaded: wait for it and for the server to go quiet.
  await page.evaluate(async () => { if ('serviceWorker' in navigator) await Promise.race([navigator.serviceWorker.ready, new Promise((r) => setTimeout(r, 60_000))]); }).catch(() => undefined);
  await serverIdle(server);
  await page.close();
  const wire = tallyWire(server.readAccessLog().slice(logStart));
  return {
    cache: o.cache,
    device: o.device,
    throttled: o.throttled,
    host: o.host,
    backend: state.backend,
    cross_origin_isolated: state.isolated,
    shell_ms: times.shell ?? null,
    usable_ui_ms: times.usable ?? null,
    first_diagnosis_ms: times.diagnosis ?? null,
    diagnosis_ms: times.diagnosis !== undefined && photoAt !== null ? times.diagnosis - photoAt : null,
    bytes_downloaded: wire.bytes,
    requests: wire.requests,
    wire,
    note,
  };
}

function launch(device: Device): Promise<Browser> {
  // A WASM-only device: the same Chromium without --enable-unsafe-webgpu (navigator.gpu is absent).
  const args = device === 'webgpu' ? [...CHROMIUM_ARGS, ...WEBGPU_CANVAS_ARGS] : CHROMIUM_ARGS.filter((a) => a !== '--enable-unsafe-webgpu');
  return chromium.launch({ executablePath: CHROMIUM_PATH, args, headless: true });
}

/** Builds the app of `appRoot` (this checkout by default; another checkout measures "before") with precompressed files. */
export async function buildForServer(options: { appRoot?: string; modelDir: string; workName?: string; log: (l: string) => void }): Promise<{ outDir: string; note: string }> {
  const appRoot = resolve(options.appRoot ?? '.');
  // One folder per measured build, so that two checkouts can be measured at the same time.
  const WORK = join(WORK_ROOT, options.workName ?? 'this');
  const outDir = resolve(WORK, 'dist');
  let publicDir = join(appRoot, 'public');
  let note = `shipped model (${SHIPPED_MODEL_DIR})`;
  if (!existsSync(join(appRoot, SHIPPED_MODEL_DIR, 'manifest.json'))) {
    // No shipped model: build with a copy of public/ whose models/deit-tiny-beans is the bench's model.
    publicDir = resolve(WORK, 'public');
    rmSync(publicDir, { recursive: true, force: true });
    mkdirSync(publicDir, { recursive: true });
    cpSync(join(appRoot, 'public'), publicDir, { recursive: true });
    cpSync(options.modelDir, join(publicDir, 'models/deit-tiny-beans'), { recursive: true });
    note = `no shipped model: ${options.modelDir === resolve(STAND_IN_MODEL_DIR) ? 'the untrained stand-in' : options.modelDir} copied to models/deit-tiny-beans/ of the build`;
  }
  options.log(`cold start: vite build of ${appRoot} → ${outDir} (${note}), then .br/.gz`);
  await build({ root: appRoot, configFile: join(appRoot, 'vite.config.ts'), cacheDir: resolve(WORK, 'vite-cache'), publicDir, build: { outDir, emptyOutDir: true }, logLevel: 'warn' });
  await precompress(outDir, options.log);
  return { outDir, note };
}

export interface ColdStartOptions {
  log: (line: string) => void;
  photo: string;
  modelDir: string;
  appRoot?: string;
  /** Folder name under .work/bench-coldstart for this build. */
  workName?: string;
  devices?: Device[];
  throttled?: boolean;
  staticHost?: boolean;
}

export async function measureColdStart(options: ColdStartOptions): Promise<ColdStartReport> {
  const { log } = options;
  const { outDir, note } = await buildForServer(options);
  const runs: ColdStartRun[] = [];
  const visit = async (server: NginxServer, device: Device, plan: { cache: ColdStartRun['cache']; throttled: boolean; host: 'nginx' | 'static' }[]) => {
    const browser = await launch(device);
    try {
      const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
      // The app picks WASM on a software adapter; a WebGPU device is told to use WebGPU, as real hardware would.
      const url = device === 'webgpu' ? `${server.url}?backend=webgpu` : server.url;
      for (const step of plan) {
        const run = await oneVisit(context, server, url, { device, ...step, photo: options.photo, diagnose: device === 'wasm', log });
        log(`${device} ${step.cache}${step.throttled ? ' throttled' : ''} (${step.host}): ${(run.wire!.bytes / 1e6).toFixed(2)} MB in ${run.wire!.requests} requests ` +
          `(runtime ${(run.wire!.runtime_bytes / 1e6).toFixed(2)}, model ${(run.wire!.model_bytes / 1e6).toFixed(2)}, app ${(run.wire!.app_bytes / 1e6).toFixed(2)}); ` +
          `diagnosis at ${run.first_diagnosis_ms?.toFixed(0) ?? '–'} ms; backend ${run.backend}`);
        runs.push(run);
      }
      await context.close();
    } finally {
      await browser.close();
    }
  };
  const server = await startNginx({ root: outDir, log });
  try {
    for (const device of options.devices ?? ['wasm', 'webgpu']) {
      await visit(server, device, [{ cache: 'empty', throttled: false, host: 'nginx' }, { cache: 'warm-sw', throttled: false, host: 'nginx' }]);
    }
    if (options.throttled !== false) await visit(server, 'wasm', [{ cache: 'empty', throttled: true, host: 'nginx' }]);
  } finally {
    await server.stop();
  }
  if (options.staticHost !== false) {
    const plain = await startNginx({ root: outDir, log, plainHost: true });
    try {
      await visit(plain, 'wasm', [{ cache: 'empty', throttled: false, host: 'static' }]);
    } finally {
      await plain.stop();
    }
  }
  return {
    target: `vite build + nginx (deploy/nginx.conf.template, ${server.brotli ? 'brotli + gzip' : 'gzip'}), Chromium headless, viewport 390×844`,
    runs,
    note,
  };
}
