// onnxruntime-web's WASM files are self-hosted: after `vite build` + `vite preview`, the engine loads and runs with
// every request outside the app's own origin blocked (no CDN), and keeps working offline once loaded
// (model files come from the Cache API).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../browser/harness';
import { imageBase64 } from './support';

let outDir: string;
let server: PreviewServer;
let browser: Browser;
let origin: string;

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'leaf-lens-build-'));
  await build({
    configFile: join(process.cwd(), 'vite.config.ts'),
    logLevel: 'error',
    build: {
      outDir,
      emptyOutDir: true,
      // The test driver page is the entry: it imports the engine exactly as the app does.
      rollupOptions: { input: { driver: join(process.cwd(), 'test/engine-browser/driver.html') } },
    },
  });
  server = await preview({ configFile: join(process.cwd(), 'vite.config.ts'), logLevel: 'error', build: { outDir }, preview: { port: 0, host: '127.0.0.1' } });
  const address = server.httpServer.address();
  if (!address || typeof address === 'string') throw new Error('vite preview did not report a port');
  origin = `http://127.0.0.1:${address.port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

test('the build ships both ORT runtimes as hashed assets, and precaches neither', () => {
  const assets = readdirSync(join(outDir, 'assets'));
  // WebGPU devices load the asyncify build, WASM-only devices the plain one (src/engine/model/ort.ts).
  for (const pattern of [/^ort-wasm-simd-threaded\.asyncify-.*\.wasm$/, /^ort-wasm-simd-threaded\.asyncify-.*\.mjs$/, /^ort-wasm-simd-threaded-.*\.wasm$/, /^ort-wasm-simd-threaded-.*\.mjs$/]) {
    expect(assets.some((f) => pattern.test(f)), `${pattern} in ${assets.join(', ')}`).toBe(true);
  }
  expect(assets.filter((f) => f.endsWith('.wasm'))).toHaveLength(2);
  // Precache entries are {url:"assets/…",revision:…}; the runtime route for the binaries names them in a regex only.
  expect(readFileSync(join(outDir, 'sw.js'), 'utf8')).not.toMatch(/["']?url["']?:\s*["'][^"']*ort-wasm-simd-threaded[^"']*\.wasm["']/);
});

test("ORT's WASM build is a chunk that imports no app code (ORT starts it again as its proxy worker)", () => {
  const assets = readdirSync(join(outDir, 'assets'));
  const ortWasm = assets.find((f) => /^ort-wasm-[\w-]+\.js$/.test(f) && !f.startsWith('ort-wasm-simd'));
  expect(ortWasm, assets.join(', ')).toBeDefined();
  const imports = [...readFileSync(join(outDir, 'assets', ortWasm!), 'utf8').matchAll(/from\s*"\.\/([^"]+)"/g)].map((m) => m[1]!);
  // Only the bundler's helpers: the app's chunks would run the app inside the worker.
  for (const file of imports) expect(file).toMatch(/^rolldown-runtime-/);
});

test('built app: engine runs with foreign requests blocked, then again offline from the Cache API', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const foreign: string[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(origin) || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
    foreign.push(url);
    return route.abort();
  });
  await page.goto(`${origin}/test/engine-browser/driver.html`);
  await page.waitForFunction(() => window.leafLensReady === true, undefined, { timeout: 60_000 });
  const run = (label: string) => page.evaluate(async ({ img, label }) => {
    const api = window.leafLens;
    const engine = await api.createEngine('/models/fixture-deit-micro/', { backend: 'wasm', cacheName: 'leaf-lens-build-test' });
    const photo = await engine.loadPhoto(new Blob([Uint8Array.from(atob(img), (c) => c.charCodeAt(0))]));
    const d = await engine.diagnose(photo, { method: 'relevance' });
    engine.dispose();
    return { label, backend: d.backend, probs: Array.from(d.probabilities), crossOriginIsolated: globalThis.crossOriginIsolated };
  }, { img: imageBase64('leaf-96x72.jpg'), label });
  const online = await run('online');
  // The WebGPU build of ORT loads its own (asyncify) wasm: a session on the engine's device proves it is served too.
  // (This page loaded the WASM-only build first; a real device loads one of the two.)
  const webgpu = await page.evaluate(async () => {
    const engine = await window.leafLens.createEngine('/models/fixture-deit-micro/', { backend: 'webgpu', cacheName: 'leaf-lens-build-test' });
    const backend = engine.backend;
    engine.dispose();
    return backend;
  });
  expect(webgpu).toBe('webgpu');
  await context.setOffline(true);
  const offline = await run('offline');
  await context.close();
  console.log(JSON.stringify({ online, offline, foreign }));
  expect(foreign).toEqual([]);
  expect(online.backend).toBe('wasm');
  expect(online.crossOriginIsolated).toBe(true); // COOP/COEP from vite preview: ORT may use threads
  expect(offline.probs).toEqual(online.probs);
}, 300_000);
