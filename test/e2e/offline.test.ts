// Offline PWA on a production build (`vite build` + `vite preview`): opened once online, then reloaded
// and used with the network off — app shell and samples come from the service worker's precache, ORT's runtime
// from the runtime cache the page filled as it loaded it (one build per device, src/engine/model/ort.ts),
// the model's files from the engine's verified cache (the precache leaves models/ out: a phone downloads only
// the model and precision it runs). Then a new build is deployed: the app offers the update and applies it on request.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { build, preview, type Plugin, type PreviewServer } from 'vite';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { en } from '../../src/i18n/en';
import { es } from '../../src/i18n/es';
import { sw } from '../../src/i18n/sw';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../browser/harness';
import { appErrors, chooseLanguage, FIXTURE_MODEL, reloadOfflineAfterInstall, SLOW, tempDir, waitForDiagnosis, waitForModel } from './helpers';

const configFile = join(process.cwd(), 'vite.config.ts');
let root: string;
let server: PreviewServer | null = null;
let browser: Browser;
let baseUrl: string;
let port = 0;

/** Marks a build so the test can tell which one a page came from (and so a new build differs). */
function buildMarker(name: string): Plugin {
  return { name: 'test-build-marker', transformIndexHtml: (html) => html.replace('</head>', `<meta name="test-build" content="${name}" /></head>`) };
}

async function buildAndServe(name: string): Promise<void> {
  const outDir = join(root, name);
  await build({ configFile, logLevel: 'error', plugins: [buildMarker(name)], build: { outDir, emptyOutDir: true } });
  if (server) await new Promise<void>((resolve) => server!.httpServer.close(() => resolve()));
  // Same port each time: same origin, so the service worker sees the new build as an update.
  server = await preview({ configFile, logLevel: 'error', build: { outDir }, preview: { port, host: '127.0.0.1', strictPort: port !== 0 } });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('vite preview did not report a URL');
  baseUrl = url.replace(/\/$/, '');
  port = Number(new URL(baseUrl).port);
}

beforeAll(async () => {
  root = tempDir('leaf-lens-build-');
  await buildAndServe('build-1');
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}, SLOW * 2);

afterAll(async () => {
  await browser?.close();
  if (server) await new Promise<void>((resolve) => server!.httpServer.close(() => resolve()));
  if (root) rmSync(root, { recursive: true, force: true });
});

test('offline after one visit; a new build is offered as an update and applied on request', async () => {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()); });
  page.on('pageerror', (err) => errors.push(String(err)));
  const url = `${baseUrl}/index.html?model=${FIXTURE_MODEL}&backend=wasm`;
  const precache = readFileSync(join(root, 'build-1', 'sw.js'), 'utf8');
  // Neither ORT binary is precached (a device needs only one); the service worker serves the page's runtime cache.
  expect(precache).not.toMatch(/["']?url["']?:\s*["'][^"']*ort-wasm-simd-threaded[^"']*\.wasm["']/);
  expect(precache).toMatch(/["']?url["']?:\s*["'][^"']*ort-wasm-simd-threaded[^"']*\.mjs["']/); // the small glue ORT imports by URL
  expect(precache).toMatch(/leaf-lens-ort-runtime/);
  expect(precache).not.toMatch(/models\//);
  const buildOf = () => page.evaluate(() => document.querySelector('meta[name=test-build]')?.getAttribute('content'));

  await page.goto(url);
  await waitForModel(page);
  // The service worker installs (precaching everything) and activates.
  await page.evaluate(async () => { await navigator.serviceWorker.ready; });
  await page.locator('[data-testid=nav-settings]').click();
  await page.waitForSelector('text=Ready to work offline.', { timeout: SLOW });
  // Going offline while the reloaded page still loads its model would cut its manifest request (the engine falls
  // back to the stored copy, but the browser logs the failed request): the helper waits for the model first.
  await reloadOfflineAfterInstall(page, context);
  await expect(page.locator('[data-testid=model-missing]').count()).resolves.toBe(0);
  await page.locator('[data-testid=nav-diagnose]').click();
  await page.locator('[data-testid=sample-bean_rust]').click();
  await waitForDiagnosis(page);
  const label = await page.locator('[data-testid=diagnosis]').getAttribute('data-label');
  expect(['angular_leaf_spot', 'bean_rust', 'healthy']).toContain(label);
  expect(await page.evaluate(() => navigator.onLine)).toBe(false);
  expect(await buildOf()).toBe('build-1');

  // Every language works offline: Spanish and Swahili are chunks of their own, loaded when chosen, precached with the
  // rest; a remembered language loads from the precache on the next start too.
  const navHistory = page.locator('[data-testid=nav-history]');
  await chooseLanguage(page, 'es');
  await expect.poll(() => navHistory.innerText()).toBe(es.nav.history);
  await chooseLanguage(page, 'sw');
  await expect.poll(() => navHistory.innerText()).toBe(sw.nav.history);
  await page.reload();
  await waitForModel(page);
  await expect.poll(() => navHistory.innerText()).toBe(sw.nav.history);
  expect(await page.locator('[data-testid=language]').inputValue()).toBe('sw');
  await chooseLanguage(page, 'en');
  await expect.poll(() => navHistory.innerText()).toBe(en.nav.history);
  expect(await page.evaluate(() => navigator.onLine)).toBe(false);

  // Deploy a new build on the same origin; back online, the app notices and offers it (not forced).
  await buildAndServe('build-2');
  await context.setOffline(false);
  await page.evaluate(async () => { await (await navigator.serviceWorker.getRegistration())?.update(); });
  const prompt = page.locator('[data-testid=update-prompt]');
  await prompt.waitFor({ timeout: SLOW });
  expect(await buildOf()).toBe('build-1');
  await prompt.getByRole('button', { name: 'Update now' }).click();
  await page.waitForFunction(() => document.querySelector('meta[name=test-build]')?.getAttribute('content') === 'build-2', undefined, { timeout: SLOW });
  await waitForModel(page);
  expect(appErrors(errors)).toEqual([]);
  await context.close();
}, SLOW * 4);
