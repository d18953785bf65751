// The production setup end to end: `vite build` served by nginx with deploy/nginx.conf.template (deploy/nginx.ts),
// the shipped model, a Chromium without WebGPU (a WASM device). Checks the headers the app depends on, that the
// Content-Security-Policy is never violated, that this device downloads one ORT runtime (the plain WASM one) and
// the int8 weights only, and that the installed app diagnoses again offline after a reload.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startNginx, type NginxServer } from '../../deploy/nginx';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../browser/harness';
import { appErrors, reloadOfflineAfterInstall, SLOW, tempDir, VAL_PHOTOS, waitForModel } from './helpers';

let root: string;
let server: NginxServer;
let browser: Browser;

beforeAll(async () => {
  root = tempDir('leaf-lens-prod-');
  await build({ configFile: join(process.cwd(), 'vite.config.ts'), logLevel: 'error', build: { outDir: join(root, 'dist'), emptyOutDir: true } });
  server = await startNginx({ root: join(root, 'dist') });
  // A phone without WebGPU: the same Chromium, without --enable-unsafe-webgpu.
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS.filter((a) => a !== '--enable-unsafe-webgpu'), headless: true });
}, SLOW * 2);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

async function head(path: string, encoding = 'br, gzip'): Promise<Response> {
  const response = await fetch(new URL(path, server.url), { headers: { 'Accept-Encoding': encoding } });
  await response.arrayBuffer();
  return response;
}

test('nginx sends isolation, CSP, caching, compression and MIME headers', async () => {
  const index = await head('');
  expect(index.status).toBe(200);
  expect(index.headers.get('cross-origin-opener-policy')).toBe('same-origin');
  expect(index.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
  const csp = index.headers.get('content-security-policy') ?? '';
  expect(csp).toMatch(/connect-src 'self'/);
  expect(csp).toMatch(/default-src 'self'/);
  expect(csp).not.toMatch(/'unsafe-inline'|'unsafe-eval'|\*|https?:/);
  expect(index.headers.get('cache-control')).toBe('no-cache');
  expect(index.headers.get('content-encoding')).toMatch(/^(br|gzip)$/);
  expect((await head('sw.js')).headers.get('cache-control')).toBe('no-cache');
  expect((await head('index.html')).headers.get('cache-control')).toBe('no-cache');
  expect((await head('manifest.webmanifest')).headers.get('content-type')).toMatch(/^application\/manifest\+json/);

  const html = await (await fetch(server.url)).text();
  const script = /src="\.\/(assets\/index-[^"]+\.js)"/.exec(html)?.[1];
  expect(script).toBeDefined();
  const asset = await head(script!);
  expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  expect(asset.headers.get('content-type')).toMatch(/^text\/javascript/);
  expect(asset.headers.get('content-encoding')).toBe(server.brotli ? 'br' : 'gzip');
  expect((await head(script!, 'gzip')).headers.get('content-encoding')).toBe('gzip');

  expect((await head('models/deit-tiny-beans/manifest.json')).headers.get('content-type')).toMatch(/^application\/json/);
  expect((await head('models/deit-tiny-beans/model.int8.weights')).headers.get('content-type')).toBe('application/octet-stream');
  // A missing file is a 404, never index.html (the model loader tells "missing" from "corrupt" by it).
  expect((await head('models/none/manifest.json')).status).toBe(404);
});

test('a WASM device: no CSP violation, one ORT runtime, int8 weights, a diagnosis, and again offline after a reload', async () => {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 } });
  await context.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __cspViolations: string[] }).__cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (msg) => { if (msg.type() === 'error' || /Content.Security.Policy/i.test(msg.text())) errors.push(msg.text()); });
  page.on('pageerror', (err) => errors.push(String(err)));
  const foreign: string[] = [];
  page.on('request', (r) => { if (!r.url().startsWith(server.url) && !/^(data|blob):/.test(r.url())) foreign.push(r.url()); });

  const logStart = server.readAccessLog().length; // the header checks above made requests of their own
  await page.goto(server.url);
  await waitForModel(page);
  expect(await page.getAttribute('[data-model-status]', 'data-model-status')).toBe('ready');
  expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(true);
  await page.setInputFiles('[data-testid=gallery-input]', VAL_PHOTOS.bean_rust);
  await page.locator('[data-testid=diagnosis]').waitFor({ timeout: SLOW });
  expect(await page.locator('[data-testid=diagnosis]').getAttribute('data-label')).toBe('bean_rust');

  // Everything was downloaded once, at this origin: the plain WASM runtime only, the int8 weights only.
  await page.evaluate(async () => { await navigator.serviceWorker.ready; });
  const uris = server.readAccessLog().slice(logStart).map((e) => e.uri.split('?')[0]!);
  const runtimes = uris.filter((u) => /ort-wasm-simd-threaded.*\.wasm$/.test(u));
  expect(runtimes).toHaveLength(1);
  expect(runtimes[0]).not.toMatch(/asyncify|jsep/);
  expect(uris.filter((u) => u.endsWith('/model.int8.weights'))).toHaveLength(1);
  expect(uris.some((u) => /model(\.fp16)?\.weights$/.test(u))).toBe(false);

  // Installed: reload once online (now controlled by the service worker), then offline.
  await reloadOfflineAfterInstall(page, context);
  expect(await page.getAttribute('[data-model-status]', 'data-model-status')).toBe('ready');
  await page.locator('[data-testid=nav-diagnose]').click();
  await page.locator('[data-testid=sample-healthy]').click();
  await page.locator('[data-testid=diagnosis]').waitFor({ timeout: SLOW });
  expect(await page.evaluate(() => navigator.onLine)).toBe(false);

  const violations = await page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations);
  expect(violations).toEqual([]);
  expect(appErrors(errors)).toEqual([]);
  expect(foreign).toEqual([]);
  await context.close();
}, SLOW * 4);
