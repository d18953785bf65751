// The LRP fixture graph (test/fixtures/lrp/) in onnxruntime-web inside headless Chromium, on the WASM EP and
// on the WebGPU EP (SwiftShader), against PyTorch's float32 values. Fails, never skips, without WebGPU.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startBrowserHarness, type BrowserHarness } from '../browser/harness';
import type { LrpWebCase } from './lrpPage';

// Same bounds as the onnxruntime-node test (see there for the measurements): per block, relative to the
// block's largest value; block 0 sits below every block's Q·Kᵀ rule.
const RELATIVE_TOLERANCE = 5e-4;
const BLOCK0_RELATIVE_TOLERANCE = 2e-3;
const MAP_TOLERANCE = 1e-3;
const LOGITS_TOLERANCE = 1e-4;

let harness: BrowserHarness;
let pageErrors: string[] = [];
let run: (backend: 'wasm' | 'webgpu') => Promise<LrpWebCase[]>;

beforeAll(async () => {
  harness = await startBrowserHarness();
  const { page, errors } = await harness.newPage();
  pageErrors = errors; // filled by the harness with console errors and page errors
  await page.goto(`${harness.baseUrl}/test/model/lrp.html`);
  // A string, not a function: vitest would rewrite a dynamic import() inside a function for node.
  run = (backend) => page.evaluate(`import('/test/model/lrpPage.ts').then((m) => m.runLrpFixture(${JSON.stringify(backend)}))`) as Promise<LrpWebCase[]>;
}, 180_000);
afterAll(async () => { await harness?.close(); });

describe('attention_relevance in onnxruntime-web', () => {
  for (const backend of ['wasm', 'webgpu'] as const) {
    test(`${backend} EP matches PyTorch`, async () => {
      const cases = await run(backend);
      for (const c of cases) {
        console.info(`${backend} ${c.name}: relevance per block ${c.blockErrors.map((e) => e.toExponential(1)).join(' ')}; `
          + `logits ${c.logitsError.toExponential(1)}; map ${c.mapError.toExponential(1)}; run ${c.runMs.toFixed(0)} ms`);
      }
      expect(cases.map((c) => c.name).sort()).toEqual(['top', 'weighted']);
      for (const c of cases) {
        c.blockErrors.forEach((e, block) =>
          expect(e, `${backend} ${c.name} block ${block}`).toBeLessThanOrEqual(block === 0 ? BLOCK0_RELATIVE_TOLERANCE : RELATIVE_TOLERANCE));
        expect(c.logitsError, `${backend} ${c.name} logits`).toBeLessThanOrEqual(LOGITS_TOLERANCE);
        expect(c.mapRange, `${backend} ${c.name}: the map is not flat`).toBeGreaterThan(0);
        expect(c.mapError, `${backend} ${c.name} map`).toBeLessThanOrEqual(MAP_TOLERANCE);
      }
      expect(pageErrors).toEqual([]);
    }, 300_000);
  }
});
