// Browser tests must fail, never skip, when headless Chromium offers no WebGPU adapter.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startBrowserHarness, type BrowserHarness } from './harness';

let harness: BrowserHarness;
beforeAll(async () => { harness = await startBrowserHarness(); });
afterAll(async () => { await harness?.close(); });

test('headless Chromium exposes a WebGPU adapter', async () => {
  const { page, context } = await harness.newPage();
  await page.goto(`${harness.baseUrl}/index.html`);
  const info = await page.evaluate(async () => {
    const adapter = await navigator.gpu?.requestAdapter();
    if (!adapter) return null;
    return { vendor: adapter.info.vendor, fallback: adapter.info.isFallbackAdapter, f16: adapter.features.has('shader-f16') };
  });
  expect(info, 'no WebGPU adapter: start Chromium with --enable-unsafe-webgpu').not.toBeNull();
  await context.close();
});
