// Offline PWA: a production build (`vite build` + `vite preview`), opened once online, then reloaded and
// used with the network off. Everything (app shell, ORT wasm, model files, samples) must come from the
// service worker's precache.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../browser/harness';
import { appErrors, FIXTURE_MODEL, SLOW, tempDir, waitForDiagnosis, waitForModel } from './helpers';

let outDir: string;
let server: PreviewServer;
let browser: Browser;
let baseUrl: string;

beforeAll(async () => {
  outDir = join(tempDir('leaf-lens-build-'), 'dist');
  const configFile = join(process.cwd(), 'vite.config.ts');
  await build({ configFile, logLevel: 'error', build: { outDir, emptyOutDir: true } });
  server = await preview({ configFile, logLevel: 'error', build: { outDir }, preview: { port: 0, host: '127.0.0.1', strictPort: false } });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('vite preview did not report a URL');
  baseUrl = url.replace(/\/$/, '');
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}, SLOW * 2);

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => server?.httpServer.close(() => resolve()));
  if (outDir) rmSync(join(outDir, '..'), { recursive: true, force: true });
});

test('after one online visit the app works offline: reload, load the model, diagnose a sample', async () => {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()); });
  page.on('pageerror', (err) => errors.push(String(err)));
  const url = `${baseUrl}/index.html?model=${FIXTURE_MODEL}&backend=wasm`;

  await page.goto(url);
  await waitForModel(page);
  // The service worker installs (precaching everything) and activates.
  await page.evaluate(async () => { await navigator.serviceWorker.ready; });
  await page.locator('[data-testid=nav-settings]').click();
  await page.waitForSelector('text=Ready to work offline.', { timeout: SLOW });
  // One online reload so the page is controlled by the service worker.
  await page.reload();
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: SLOW });

  await context.setOffline(true);
  await page.reload();
  await waitForModel(page);
  await expect(page.locator('[data-testid=model-missing]').count()).resolves.toBe(0);
  await page.locator('[data-testid=nav-diagnose]').click();
  await page.locator('[data-testid=sample-bean_rust]').click();
  await waitForDiagnosis(page);
  const label = await page.locator('[data-testid=diagnosis]').getAttribute('data-label');
  expect(['angular_leaf_spot', 'bean_rust', 'healthy']).toContain(label);
  expect(await page.evaluate(() => navigator.onLine)).toBe(false);
  expect(appErrors(errors)).toEqual([]);
  await context.close();
}, SLOW * 3);
