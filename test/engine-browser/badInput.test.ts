// Bad input, each refused with the right typed error (a farmer's message plus a developer's detail), on the
// fixture model served through page.route with broken copies; images from test/fixtures/images.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startBrowserHarness, type BrowserHarness } from '../browser/harness';
import { FIXTURE_MODEL_DIR, imageBase64, openDriver, serveModel, solidPng, type ModelEdit } from './support';

let harness: BrowserHarness;
let driver: Awaited<ReturnType<typeof openDriver>>;

beforeAll(async () => {
  harness = await startBrowserHarness();
  driver = await openDriver(harness);
});
afterAll(async () => {
  await driver?.close();
  await harness?.close();
});

interface Outcome {
  ok: boolean;
  code?: string;
  message?: string;
  detail?: string;
  name?: string;
}

/** createEngine (WASM) on a served copy of the fixture, then optionally one diagnose; returns the first error. */
async function tryModel(name: string, edit: ModelEdit, method?: string): Promise<Outcome> {
  const url = await serveModel(driver.page, harness.baseUrl, name, FIXTURE_MODEL_DIR, edit);
  return driver.page.evaluate(async ({ url, method, img }) => {
    const api = window.leafLens;
    try {
      const engine = await api.createEngine(url, { backend: 'wasm', modelCache: api.memoryFileCache() });
      if (method) {
        const photo = await engine.loadPhoto(new Blob([Uint8Array.from(atob(img), (c) => c.charCodeAt(0))]));
        await engine.diagnose(photo, { method: method as 'rollout' });
      }
      engine.dispose();
      return { ok: true };
    } catch (e) {
      const err = e as { code?: string; message?: string; detail?: string; name?: string };
      return { ok: false, code: err.code, message: err.message, detail: err.detail, name: err.name };
    }
  }, { url, method, img: imageBase64('leaf-96x72.jpg') });
}

function expectRefused(outcome: Outcome, code: string, detail?: RegExp): void {
  expect(outcome, JSON.stringify(outcome)).toMatchObject({ ok: false, code, name: 'EngineError' });
  expect(outcome.message!.length).toBeGreaterThan(10);
  expect(outcome.detail!.length).toBeGreaterThan(5);
  if (detail) expect(outcome.detail).toMatch(detail);
}

const truncate = (keep: number) => (b: Buffer) => b.subarray(0, Math.floor(b.length * keep));
const flipByte = (at: number) => (b: Buffer) => { const c = Buffer.from(b); c[at] = c[at]! ^ 0xff; return c; };

describe('model files', () => {
  test('the fixture itself loads and diagnoses (the baseline for the broken copies)', async () => {
    expect(await tryModel('good', {}, 'relevance')).toEqual({ ok: true });
  }, 120_000);

  test('progress: manifest, every download up to its size, verification, session, ready; then the Cache API serves', async () => {
    const url = await serveModel(driver.page, harness.baseUrl, 'progress', FIXTURE_MODEL_DIR);
    const events = await driver.page.evaluate(async (url) => {
      const log: { kind: string; file?: string; loaded?: number; total?: number; fromCache?: boolean; backend?: string }[] = [];
      const cacheName = `progress-${Date.now()}`;
      (await window.leafLens.createEngine(url, { backend: 'wasm', cacheName, onProgress: (p) => log.push({ ...p }) })).dispose();
      const second: typeof log = [];
      (await window.leafLens.createEngine(url, { backend: 'wasm', cacheName, onProgress: (p) => second.push({ ...p }) })).dispose();
      await caches.delete(cacheName);
      return { first: log, second };
    }, url);
    const kinds = [...new Set(events.first.map((e) => e.kind))];
    expect(kinds).toEqual(['manifest', 'download', 'verify', 'session', 'ready']);
    const finished = events.first.filter((e) => e.kind === 'download' && e.loaded === e.total).map((e) => e.file).sort();
    // The fp32 graphs of the first diagnosis and the one weights file they share; the lrp graph comes later (when
    // LRP is chosen, or in the background once the model is ready), without progress events.
    expect(finished).toEqual(['model.forward.onnx', 'model.onnx', 'model.weights']);
    expect(events.first.filter((e) => e.kind === 'download').every((e) => e.fromCache === false)).toBe(true);
    expect(events.second.filter((e) => e.kind === 'download').map((e) => e.fromCache)).toEqual([true, true, true]);
  });

  test("the first method's graph is the session opened while loading; the others open on first use", async () => {
    const url = await serveModel(driver.page, harness.baseUrl, 'first-method', FIXTURE_MODEL_DIR);
    const sessions = await driver.page.evaluate(async (url) => {
      const api = window.leafLens;
      const plain = await api.createEngine(url, { backend: 'wasm', modelCache: api.memoryFileCache() });
      const byDefault = api.engineDiagnostics(plain).sessions;
      plain.dispose();
      const engine = await api.createEngine(url, { backend: 'wasm', firstMethod: 'relevance', modelCache: api.memoryFileCache() });
      const atLoad = api.engineDiagnostics(engine).sessions;
      const bitmap = await createImageBitmap(new ImageData(64, 64));
      const photo = await engine.loadPhoto(await new Promise<Blob>((resolve) => { const c = document.createElement('canvas'); c.width = 64; c.height = 64; c.getContext('2d')!.drawImage(bitmap, 0, 0); c.toBlob((b) => resolve(b!), 'image/png'); }));
      await engine.diagnose(photo, { method: 'attention' });
      const afterAttention = api.engineDiagnostics(engine).sessions.sort();
      engine.dispose();
      return { byDefault, atLoad, afterAttention };
    }, url);
    expect(sessions).toEqual({ byDefault: ['forward'], atLoad: ['full'], afterAttention: ['forward', 'full'] });
  }, 120_000);

  test('the default model folder (the shipped, trained model) loads', async () => {
    const outcome = await driver.page.evaluate(async (base) => {
      try {
        (await window.leafLens.createEngine(`${base}/models/deit-tiny-beans/`, { backend: 'wasm', modelCache: window.leafLens.memoryFileCache() })).dispose();
        return { ok: true };
      } catch (e) { const err = e as { code: string; message: string; detail: string; name: string }; return { ok: false, code: err.code, message: err.message, detail: err.detail, name: err.name }; }
    }, harness.baseUrl);
    expect(outcome).toEqual({ ok: true });
  }, 120_000);

  test('no model folder (the dev server answers with its index.html) → model-missing', async () => {
    const outcome = await driver.page.evaluate(async (base) => {
      try {
        await window.leafLens.createEngine(`${base}/models/no-such-model/`, { backend: 'wasm' });
        return { ok: true };
      } catch (e) { const err = e as { code: string; message: string; detail: string; name: string }; return { ok: false, code: err.code, message: err.message, detail: err.detail, name: err.name }; }
    }, harness.baseUrl);
    expectRefused(outcome, 'model-missing', /no-such-model/);
  });

  test('an aborted load → aborted', async () => {
    const url = await serveModel(driver.page, harness.baseUrl, 'aborted', FIXTURE_MODEL_DIR);
    const outcome = await driver.page.evaluate(async (url) => {
      const controller = new AbortController();
      const pending = window.leafLens.createEngine(url, { backend: 'wasm', modelCache: window.leafLens.memoryFileCache(), signal: controller.signal });
      controller.abort();
      try { await pending; return { ok: true }; } catch (e) { const err = e as { code: string; message: string; detail: string; name: string }; return { ok: false, code: err.code, message: err.message, detail: err.detail, name: err.name }; }
    }, url);
    expect(outcome).toMatchObject({ ok: false, code: 'aborted', name: 'EngineError' });
  });

  test('manifest 404 → model-missing', async () => {
    expectRefused(await tryModel('no-manifest', { missing: ['manifest.json'] }), 'model-missing', /404/);
  });

  test('weights file 404 → model-missing', async () => {
    expectRefused(await tryModel('no-weights', { missing: ['model.weights'] }), 'model-missing', /model\.weights/);
  });

  test('manifest that is not JSON → model-corrupt', async () => {
    expectRefused(await tryModel('garbage-manifest', { manifest: (m) => { for (const k of Object.keys(m)) delete m[k]; }, files: {} }), 'model-contract');
    const url = await serveModel(driver.page, harness.baseUrl, 'not-json', FIXTURE_MODEL_DIR);
    await driver.page.route(`${url}manifest.json`, (route) => route.fulfill({ status: 200, body: '{"contract_version": 1, "name": ', contentType: 'application/json' }));
    const outcome = await driver.page.evaluate(async (url) => {
      try { await window.leafLens.createEngine(url, { backend: 'wasm' }); return { ok: true }; } catch (e) { const err = e as { code: string; message: string; detail: string; name: string }; return { ok: false, code: err.code, message: err.message, detail: err.detail, name: err.name }; }
    }, url);
    expectRefused(outcome, 'model-corrupt', /not valid JSON/);
  });

  test('truncated graph, manifest listing the original → model-checksum', async () => {
    expectRefused(await tryModel('truncated', { files: { 'model.forward.onnx': truncate(0.5) } }), 'model-checksum', /model\.forward\.onnx/);
  });

  test('truncated graph with a matching manifest (ORT cannot parse it) → model-corrupt', async () => {
    expectRefused(await tryModel('truncated-rehashed', { files: { 'model.forward.onnx': truncate(0.5) }, rehash: true }), 'model-corrupt', /model\.forward\.onnx/);
  });

  test('graph bytes replaced by noise with a matching manifest → model-corrupt', async () => {
    const noise = (b: Buffer) => Buffer.from(b.map((_, i) => (i * 2654435761) >>> 24));
    expectRefused(await tryModel('noise', { files: { 'model.forward.onnx': noise }, rehash: true }), 'model-corrupt');
  });

  test('one flipped byte in the weights → model-checksum', async () => {
    expectRefused(await tryModel('flipped', { files: { 'model.weights': flipByte(1234) } }), 'model-checksum', /sha256/);
  });

  test('manifest breaking the contract (tokens) → model-contract', async () => {
    expectRefused(await tryModel('bad-tokens', { manifest: (m) => { m.tokens = 196; } }), 'model-contract', /tokens/);
  });

  test('full graph missing attention_grads (forward graph in its place) → model-contract when a method needs it', async () => {
    const edit: ModelEdit = {
      manifest: (m) => {
        m.graphs = { full: 'model.forward.onnx', forward: 'model.forward.onnx' };
        m.external_data = { 'model.forward.onnx': 'model.weights' };
        m.outputs = (m.outputs as string[]).filter((o) => o !== 'attention_relevance');
      },
    };
    // Loading works (the forward graph is fine) and rollout runs; relevance needs the full graph's outputs.
    expect(await tryModel('no-grads-rollout', edit, 'rollout')).toEqual({ ok: true });
    expectRefused(await tryModel('no-grads', edit, 'relevance'), 'model-contract', /attention_grads/);
  }, 120_000);

  test('a model without the lrp graph loads and explains; only the lrp method is refused', async () => {
    const edit: ModelEdit = {
      manifest: (m) => {
        const graphs = m.graphs as Record<string, string>;
        delete graphs.lrp;
        delete graphs.lrp_fp16;
        m.outputs = (m.outputs as string[]).filter((o) => o !== 'attention_relevance');
      },
    };
    expect(await tryModel('no-lrp-relevance', edit, 'relevance')).toEqual({ ok: true });
    expectRefused(await tryModel('no-lrp', edit, 'lrp'), 'model-contract', /method "lrp"/);
  }, 120_000);

  test('manifest promising more layers than the graph has → model-contract (wrong output shape)', async () => {
    expectRefused(await tryModel('wrong-layers', { manifest: (m) => { m.layers = 5; } }, 'rollout'), 'model-contract', /attentions/);
  });

  test('manifest promising more heads than the graph has → model-contract (wrong output shape)', async () => {
    expectRefused(await tryModel('wrong-heads', { manifest: (m) => { m.heads = 4; } }, 'relevance'), 'model-contract', /\[4,1,3,197,197\]|heads|dim/);
  });

  test('default head for another backbone → head-mismatch', async () => {
    const otherBackbone = (b: Buffer) => {
      const head = JSON.parse(b.toString('utf8')) as Record<string, unknown>;
      head.backbone_sha256 = '0'.repeat(64);
      return Buffer.from(JSON.stringify(head));
    };
    expectRefused(await tryModel('other-head', { files: { 'head.json': otherBackbone }, rehash: true }), 'head-mismatch', /backbone_sha256/);
  });
});

describe('heads', () => {
  test('setHead swaps in a 5-class head without downloading the backbone again; a bad head is refused', async () => {
    const url = await serveModel(driver.page, harness.baseUrl, 'heads', FIXTURE_MODEL_DIR);
    const requests: string[] = [];
    driver.page.on('request', (r) => { if (r.url().startsWith(url)) requests.push(r.url().slice(url.length)); });
    const result = await driver.page.evaluate(async ({ url, img }) => {
      const api = window.leafLens;
      const engine = await api.createEngine(url, { backend: 'wasm', modelCache: api.memoryFileCache() });
      const photo = await engine.loadPhoto(new Blob([Uint8Array.from(atob(img), (c) => c.charCodeAt(0))]));
      const before = await engine.diagnose(photo, { method: 'rollout' });
      const head = await (await fetch(`${url}head.json`)).json() as { labels: string[]; weight: number[][]; bias: number[] };
      const F = head.weight[0]!.length;
      const five = { ...head, labels: ['a_1', 'b_2', 'c_3', 'd_4', 'e_5'], weight: Array.from({ length: 5 }, (_, c) => Array.from({ length: F }, (_, f) => Math.sin(c * 7 + f))), bias: [0, 0.1, 0.2, 0.3, 0.4] };
      const marker = (window.t.marker = performance.now());
      const info = await engine.setHead(five, 'five.json');
      const after = await engine.diagnose(photo, { method: 'rollout' });
      // Attentions and features outlive the head: no model run; logits recomputed from the features...
      const runsAfterSwap = api.engineDiagnostics(engine);
      // ...and equal to what the graph itself computes with the new head (a full run, needed for relevance).
      const relevance = await engine.diagnose(photo, { method: 'relevance' });
      let logitGap = 0;
      for (let i = 0; i < 5; i++) logitGap = Math.max(logitGap, Math.abs(after.probabilities[i]! - relevance.probabilities[i]!));
      let refused: { code?: string } = {};
      try { await engine.setHead({ ...five, bias: [0, 0] }, 'bad.json'); } catch (e) { refused = { code: (e as { code: string }).code }; }
      const still = await engine.diagnose(photo, { method: 'rollout' });
      const text = await engine.setHead(JSON.stringify(head), 'head-as-text.json');
      return { marker, runsAfterSwap: [runsAfterSwap.forwardRuns, runsAfterSwap.fullRuns], swapModelMs: after.timings.modelMs, logitGap, labels: info.labels, before: before.probabilities.length, after: after.probabilities.length, sum: after.probabilities.reduce((a, b) => a + b, 0), refused, still: still.labels.length, textLabels: text.labels.length };
    }, { url, img: imageBase64('leaf-96x72.jpg') });
    expect(result.labels).toEqual(['a_1', 'b_2', 'c_3', 'd_4', 'e_5']);
    expect(result.runsAfterSwap).toEqual([1, 0]);
    expect(result.swapModelMs).toBe(0);
    expect(result.logitGap).toBeLessThanOrEqual(1e-5);
    expect([result.before, result.after, result.still, result.textLabels]).toEqual([3, 5, 5, 3]);
    expect(result.sum).toBeCloseTo(1, 5);
    expect(result.refused.code).toBe('head-invalid');
    // Model files were fetched once each, at creation; setHead fetched nothing (the test's own head.json fetch aside).
    const graphFetches = requests.filter((r) => /\.(onnx|weights)$/.test(r));
    expect(graphFetches.sort()).toEqual(['model.forward.onnx', 'model.lrp.onnx', 'model.onnx', 'model.weights']);
  }, 120_000);
});

describe('photos', () => {
  let engineReady = false;
  /** One WASM engine (window.t.photoEngine) for the photo tests. */
  async function ensurePhotoEngine(): Promise<void> {
    if (engineReady) return;
    const url = await serveModel(driver.page, harness.baseUrl, 'photos', FIXTURE_MODEL_DIR);
    await driver.page.evaluate(async (url) => {
      const api = window.leafLens;
      window.t.photoEngine = await api.createEngine(url, { backend: 'wasm', modelCache: api.memoryFileCache() });
    }, url);
    engineReady = true;
  }
  async function loadPhoto(base64: string, type = ''): Promise<Outcome & { width?: number; height?: number; probs?: number; top?: number[]; bottom?: number[]; mean?: number[] }> {
    await ensurePhotoEngine();
    return driver.page.evaluate(async ({ base64, type }) => {
      const engine = window.t.photoEngine as Awaited<ReturnType<typeof window.leafLens.createEngine>>;
      try {
        const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        const photo = await engine.loadPhoto(new Blob([bytes], { type }));
        const d = await engine.diagnose(photo, { method: 'attention' });
        // Mean colour of the top and bottom rows of the upright bitmap, and of the whole photo.
        const c = new OffscreenCanvas(photo.width, photo.height).getContext('2d')!;
        c.drawImage(photo.bitmap, 0, 0);
        const px = c.getImageData(0, 0, photo.width, photo.height).data;
        const meanOf = (y0: number, y1: number) => {
          const sum = [0, 0, 0];
          for (let y = y0; y < y1; y++) for (let x = 0; x < photo.width; x++) for (let k = 0; k < 3; k++) sum[k]! += px[(y * photo.width + x) * 4 + k]!;
          return sum.map((s) => Math.round(s / ((y1 - y0) * photo.width)));
        };
        const out = { ok: true, width: photo.width, height: photo.height, probs: d.probabilities.length, top: meanOf(0, 2), bottom: meanOf(photo.height - 2, photo.height), mean: meanOf(0, photo.height) };
        photo.close();
        return out;
      } catch (e) {
        const err = e as { code?: string; message?: string; detail?: string; name?: string };
        return { ok: false, code: err.code, message: err.message, detail: err.detail, name: err.name };
      }
    }, { base64, type });
  }

  test('zero-byte file → image-empty', async () => {
    expectRefused(await loadPhoto('', 'image/jpeg'), 'image-empty');
  }, 120_000);
  test('random bytes behind a JPEG signature → image-undecodable', async () => {
    expectRefused(await loadPhoto(imageBase64('corrupt.jpg'), 'image/jpeg'), 'image-undecodable', /jpeg/);
  });
  test('1×1 PNG → image-too-small', async () => {
    expectRefused(await loadPhoto(imageBase64('tiny-1x1.png')), 'image-too-small', /1×1/);
  });
  test('HEIC (iPhone) → image-unsupported-format, saying how to convert', async () => {
    const outcome = await loadPhoto(imageBase64('leaf.heic'), 'image/heic');
    expectRefused(outcome, 'image-unsupported-format', /HEIF/);
    expect(outcome.message).toMatch(/JPEG/);
  });
  test('SVG drawing and a text file → image-unsupported-format', async () => {
    expectRefused(await loadPhoto(imageBase64('drawing.svg'), 'image/svg+xml'), 'image-unsupported-format', /SVG/);
    expectRefused(await loadPhoto(imageBase64('notes.txt'), 'image/jpeg'), 'image-unsupported-format', /text/);
  });
  test('JPEG, WebP, GIF, BMP and AVIF decode and diagnose', async () => {
    for (const name of ['leaf-96x72.jpg', 'leaf.webp', 'leaf.gif', 'leaf.bmp', 'leaf.avif']) {
      const outcome = await loadPhoto(imageBase64(name));
      expect(outcome, name).toMatchObject({ ok: true, width: 96, height: 72, probs: 3 });
    }
  }, 120_000);
  test('CMYK JPEG decodes with the colours of its RGB original', async () => {
    const cmyk = await loadPhoto(imageBase64('leaf-cmyk.jpg'));
    const rgb = await loadPhoto(imageBase64('leaf-96x72.jpg'));
    expect(cmyk).toMatchObject({ ok: true, width: 96, height: 72, probs: 3 });
    for (let k = 0; k < 3; k++) expect(Math.abs(cmyk.mean![k]! - rgb.mean![k]!), `channel ${k}: ${cmyk.mean} vs ${rgb.mean}`).toBeLessThanOrEqual(25);
  });
  test('EXIF orientation 6 is applied (stored 60×40 → upright 40×60, blue on top)', async () => {
    const outcome = await loadPhoto(imageBase64('orient6-60x40.jpg'));
    expect(outcome).toMatchObject({ ok: true, width: 40, height: 60 });
    expect(outcome.top![2]).toBeGreaterThan(200);
    expect(outcome.bottom![0]).toBeGreaterThan(200);
  });
  test('a rotated 2400×1600 JPEG is downscaled while decoding and stays upright and undistorted', async () => {
    const outcome = await loadPhoto(imageBase64('orient6-2400x1600.jpg'));
    expect(outcome.ok).toBe(true);
    expect(Math.max(outcome.width!, outcome.height!)).toBeLessThanOrEqual(1600);
    expect(outcome.height! / outcome.width!).toBeCloseTo(1.5, 1);
    expect(outcome.top![2]).toBeGreaterThan(200);
    expect(outcome.bottom![0]).toBeGreaterThan(200);
  });
  test('a browser without createImageBitmap options (older Safari) still gets an upright photo ≤ 1600 px', async () => {
    await ensurePhotoEngine();
    const outcome = await driver.page.evaluate(async (base64) => {
      const original = window.createImageBitmap;
      // Throws like an engine that does not know resizeWidth / imageOrientation 'from-image'.
      window.createImageBitmap = ((source: ImageBitmapSource, ...rest: unknown[]) => {
        const options = rest.find((r) => typeof r === 'object' && r !== null) as ImageBitmapOptions | undefined;
        if (options && ('resizeWidth' in options || 'imageOrientation' in options)) return Promise.reject(new TypeError('unsupported option'));
        return original(source);
      }) as typeof createImageBitmap;
      try {
        const api = window.leafLens;
        const engine = window.t.photoEngine as Awaited<ReturnType<typeof api.createEngine>>;
        const photo = await engine.loadPhoto(new Blob([Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))]));
        const c = new OffscreenCanvas(photo.width, photo.height).getContext('2d')!;
        c.drawImage(photo.bitmap, 0, 0);
        const top = Array.from(c.getImageData(photo.width >> 1, 2, 1, 1).data);
        const out = { width: photo.width, height: photo.height, top };
        photo.close();
        return out;
      } finally {
        window.createImageBitmap = original;
      }
    }, imageBase64('orient6-2400x1600.jpg'));
    expect(Math.max(outcome.width, outcome.height)).toBeLessThanOrEqual(1600);
    expect(outcome.height / outcome.width).toBeCloseTo(1.5, 1);
    expect(outcome.top[2]).toBeGreaterThan(200); // blue on top: EXIF rotation applied by the default decode
  });

  test('a 10000×10000 PNG is decoded at display size (≤ 1600 px) and diagnosed', async () => {
    const png = solidPng(10000, 10000, [40, 140, 60]);
    const outcome = await loadPhoto(png.toString('base64'), 'image/png');
    expect(outcome).toMatchObject({ ok: true, width: 1600, height: 1600, probs: 3 });
    expect(outcome.mean).toEqual([40, 140, 60]);
  }, 180_000);
  test('a PNG with alpha is flattened on white before the model sees it', async () => {
    const pixels = await driver.page.evaluate(async (base64) => {
      const bitmap = await createImageBitmap(new Blob([Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))]));
      const { pixels } = window.leafLens.preprocessBitmap(bitmap, 32);
      const at = (x: number, y: number) => [0, 1, 2].map((k) => Math.round(pixels[k * 32 * 32 + y * 32 + x]! * 255));
      return { opaqueRed: at(4, 16), halfBlue: at(28, 4), transparent: at(28, 28) };
    }, imageBase64('alpha-64.png'));
    // #cc0000 opaque; 50 % blue over white; fully transparent → white (±2 for the decoder's colour rounding).
    const near = (got: number[], want: number[]) => got.forEach((v, k) => expect(Math.abs(v - want[k]!), `${got} vs ${want}`).toBeLessThanOrEqual(2));
    near(pixels.opaqueRed, [204, 0, 0]);
    near(pixels.halfBlue, [128, 128, 255]);
    expect(pixels.transparent).toEqual([255, 255, 255]);
    expect((await loadPhoto(imageBase64('alpha-64.png'))).ok).toBe(true);
  });
});
