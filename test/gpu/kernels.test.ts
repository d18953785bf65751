// Every WGSL kernel against its TypeScript reference, in headless Chromium's WebGPU (SwiftShader).
// Fails, never skips, when there is no adapter.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { ExplainOptions } from '../../src/engine/types';
import { CHROMIUM_ARGS, CHROMIUM_PATH, startBrowserHarness, type BrowserHarness } from '../browser/harness';
import type { KernelCase } from './explainPage';
import type { PassCase } from './passesPage';
import type { RedrawStep, RenderCase } from './renderPage';

/**
 * Headless Debian Chromium loses its WebGPU instance ("A valid external Instance reference no longer exists")
 * as soon as a WebGPU canvas hands out a texture, unless ANGLE runs on Vulkan. Compute-only work is fine with
 * the harness's flags; only the overlay test, which draws to a canvas, uses a browser started with these.
 */
export const WEBGPU_CANVAS_ARGS = ['--use-angle=vulkan', '--enable-features=Vulkan,VulkanFromANGLE'];

let harness: BrowserHarness;
let page: Page;
let pageErrors: string[];
beforeAll(async () => {
  harness = await startBrowserHarness();
  ({ page, errors: pageErrors } = await harness.newPage());
  await page.goto(`${harness.baseUrl}/test/gpu/kernels.html`);
});
afterAll(async () => {
  await harness?.close();
});

const TOLERANCE = 1e-5;
const opts = (o: Partial<Required<ExplainOptions>> & Pick<ExplainOptions, 'method'>): Required<ExplainOptions> =>
  ({ targetClass: 0, startLayer: 0, headFusion: 'mean', discardRatio: 0, ...o });

/** Every method × fusion × discard × a few start layers (first, middle, last block). */
function allOptions(layers: number): Required<ExplainOptions>[] {
  const list: Required<ExplainOptions>[] = [];
  for (const headFusion of ['mean', 'max', 'min'] as const) {
    list.push(opts({ method: 'attention', headFusion }));
    for (const discardRatio of [0, 0.5, 0.9]) {
      for (const startLayer of [0, layers - 1]) list.push(opts({ method: 'rollout', headFusion, discardRatio, startLayer }));
    }
  }
  for (const startLayer of [0, Math.floor(layers / 2), layers - 1]) list.push(opts({ method: 'relevance', startLayer }));
  for (const startLayer of [0, 1, layers - 1]) list.push(opts({ method: 'lrp', startLayer }));
  return list;
}

async function runCases(gridSize: number, prefixTokens: number, layers: number, heads: number, seed: number, quantise: number) {
  const options = allOptions(layers);
  // A string, not a function: vitest would rewrite a dynamic import() inside a function for node.
  const args = JSON.stringify({ gridSize, prefixTokens, layers, heads, seed, quantise, options });
  return page.evaluate(`(async (a) => {
    const fixtures = await import('/test/engine/explain/randomTensors.ts');
    const kernels = await import('/test/gpu/explainPage.ts');
    const dims = fixtures.fixtureDims(a.gridSize, a.prefixTokens, a.layers, a.heads);
    const tensors = fixtures.randomTensors(dims, a.seed);
    // Quantised attentions have many equal values: they exercise the discard's tie rule.
    if (a.quantise > 0) tensors.attentions = tensors.attentions.map((v) => Math.round(v * a.quantise) / a.quantise);
    return kernels.compareExplainers(dims, tensors, a.options);
  })(${args})`) as Promise<KernelCase[]>;
}

function checkCases(label: string, cases: KernelCase[], layers: number): void {
  expect(cases.length).toBe(allOptions(layers).length);
  const worst = (key: 'rawError' | 'valuesError') => Math.max(...cases.map((c) => c[key]));
  console.info(`${label}: ${cases.length} configurations, worst raw error ${worst('rawError').toExponential(2)} of range, worst normalised error ${worst('valuesError').toExponential(2)}`);
  for (const method of ['attention', 'rollout', 'relevance', 'lrp']) {
    const mine = cases.filter((c) => c.options.method === method);
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!.toFixed(1);
    const gpuMs = mine.flatMap((c) => (c.gpuMs === undefined ? [] : [c.gpuMs]));
    console.info(`  ${method}: median CPU reference ${median(mine.map((c) => c.cpuWallMs))} ms, GpuExplainer.run ${median(mine.map((c) => c.gpuWallMs))} ms`
      + (gpuMs.length ? `, kernels ${median(gpuMs)} ms by timestamp query` : ', no timestamp-query') + ' (SwiftShader)');
  }
  const bad = cases.filter((c) => !(c.rawError <= TOLERANCE && c.valuesError <= TOLERANCE && c.rangeError <= TOLERANCE));
  expect(bad, JSON.stringify(bad, null, 1)).toEqual([]);
  // The maps are not degenerate: every case has a non-zero range, so the comparison means something.
  expect(cases.filter((c) => !(c.cpuRange > 0)).map((c) => c.name)).toEqual([]);
  expect(pageErrors).toEqual([]);
}

describe('explanation kernels vs CPU reference', () => {
  for (const [label, grid, prefix, layers, heads, quantise] of [
    ['DeiT-tiny shape (G=14, prefix 1, L=12, H=3), random softmax rows', 14, 1, 12, 3, 0],
    ['distilled shape (G=14, prefix 2, L=12, H=3), random softmax rows', 14, 2, 12, 3, 0],
    ['small (G=5, prefix 1, L=4, H=4), quantised attentions with ties', 5, 1, 4, 4, 256],
  ] as const) {
    test(label, async () => {
      checkCases(label, await runCases(grid, prefix, layers, heads, 1234 + prefix, quantise), layers);
    }, 300_000);
  }

  // Real attention, gradients and LRP relevance of the model pipeline's (untrained) fixture DeiTs.
  for (const [model, caseName] of [
    ['fixture-deit-micro', 'top'],
    ['fixture-deit-micro', 'class_2'],
    ['fixture-deit-micro-distilled', 'top'],
    ['fixture-deit-micro-distilled', 'class_0'],
  ] as const) {
    test(`real tensors: ${model}, ${caseName}`, async () => {
      const layers = (await page.evaluate(`fetch('/public/models/${model}/manifest.json').then((r) => r.json()).then((m) => m.layers)`)) as number;
      const cases = (await page.evaluate(`(async () => {
        const kernels = await import('/test/gpu/explainPage.ts');
        const { dims, tensors } = await kernels.loadFixtureTensors(${JSON.stringify(model)}, ${JSON.stringify(caseName)});
        return kernels.compareExplainers(dims, tensors, ${JSON.stringify(allOptions(layers))});
      })()`)) as KernelCase[];
      checkCases(`${model} (${caseName})`, cases, layers);
    }, 300_000);
  }
});

describe('each explanation kernel on its own vs its reference', () => {
  for (const [label, source] of [
    ['random softmax rows (G=14, prefix 2, L=4, H=3)', `(async () => {
        const f = await import('/test/engine/explain/randomTensors.ts');
        const dims = f.fixtureDims(14, 2, 4, 3);
        return { dims, tensors: f.randomTensors(dims, 77) };
      })()`],
    ['fixture-deit-micro real tensors', `import('/test/gpu/explainPage.ts').then((k) => k.loadFixtureTensors('fixture-deit-micro', 'top'))`],
  ] as const) {
    test(label, async () => {
      const cases = (await page.evaluate(`(async () => {
        const { dims, tensors } = await ${source};
        const passes = await import('/test/gpu/passesPage.ts');
        return passes.comparePasses(dims, tensors);
      })()`)) as PassCase[];
      console.info(cases.map((c) => `${c.kernel} (${c.name}): ${c.mismatches} values differ, max rel error ${c.relError.toExponential(2)}`).join('\n'));
      expect(cases.length).toBe(10 + 6 + 4 + 1);
      // fuseHeads and discardThreshold are exact by design; the others accumulate in the same order as the reference.
      const exact = cases.filter((c) => c.kernel === 'fuseHeads' || c.kernel === 'discardThreshold');
      expect(exact.filter((c) => c.mismatches !== 0)).toEqual([]);
      expect(cases.filter((c) => !(c.relError <= TOLERANCE))).toEqual([]);
      expect(pageErrors).toEqual([]);
    }, 300_000);
  }
});

describe('heatmap overlay vs CPU reference', () => {
  let canvasBrowser: Browser;
  let canvasPage: Page;
  const canvasPageErrors: string[] = [];
  beforeAll(async () => {
    canvasBrowser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, ...WEBGPU_CANVAS_ARGS], headless: true });
    canvasPage = await canvasBrowser.newPage();
    canvasPage.on('console', (msg) => { if (msg.type() === 'error') canvasPageErrors.push(msg.text()); });
    canvasPage.on('pageerror', (err) => canvasPageErrors.push(String(err)));
    await canvasPage.goto(`${harness.baseUrl}/test/gpu/kernels.html`);
  });
  afterAll(async () => { await canvasBrowser?.close(); });

  test('overlay kernel for every colour map, the WebGPU canvas path and the 2D canvas path agree within ±1 per channel', async () => {
    const cases = (await canvasPage.evaluate(`import('/test/gpu/renderPage.ts').then((m) => m.compareRenderers())`)) as RenderCase[];
    console.info(cases.map((c) => `${c.name}: max channel diff ${c.maxChannelDiff}, ${c.changedPixels} pixels coloured`).join('\n'));
    expect(cases.length).toBe(10);
    // ±1 everywhere, except the pre-scaled photo: the browser's scaler is not the reference's bilinear one.
    const tolerance = (c: RenderCase) => (c.name.includes('downscaled') ? 3 : 1);
    expect(cases.filter((c) => !(c.maxChannelDiff <= tolerance(c))), JSON.stringify(cases)).toEqual([]);
    expect(cases.filter((c) => c.changedPixels < 100)).toEqual([]);
    expect(canvasPageErrors).toEqual([]);
  }, 300_000);

  test('a 2D redraw over the same photo and canvas size reuses the scaled photo and draws the same pixels', async () => {
    const steps = (await canvasPage.evaluate(`import('/test/gpu/renderPage.ts').then((m) => m.compareCanvas2dRedraws())`)) as RedrawStep[];
    expect(steps.map((s) => s.maxDiffFromUncached), JSON.stringify(steps)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    // A first draw keeps nothing; the first redraw reads again and keeps the photo; later redraws read nothing
    // until the canvas size or the photo region changes.
    expect(steps.map((s) => s.reads)).toEqual([1, 2, 2, 2, 3, 4, 5, 5]);
    expect(canvasPageErrors).toEqual([]);
  }, 120_000);

  test('a photo prepared for a canvas size (while the model runs) is drawn there without scaling it again, same pixels', async () => {
    const steps = (await canvasPage.evaluate(`import('/test/gpu/renderPage.ts').then((m) => m.comparePreparedDraw())`)) as RedrawStep[];
    expect(steps.map((s) => s.maxDiffFromUncached), JSON.stringify(steps)).toEqual([0, 0, 0]);
    // Prepared once (a second prepare for the same size reads nothing), the draw at that size reads nothing; a draw
    // at another size scales and reads the photo itself.
    expect(steps.map((s) => s.reads)).toEqual([1, 1, 2]);
    expect(canvasPageErrors).toEqual([]);
  }, 120_000);
});
