// The int8 weights are rebuilt in a worker (src/engine/model/int8OffThread.ts): in the browser the loader gets a
// Blob (ORT reads it in its own worker) whose bytes equal the page's rebuildWeights of the same file, the int8 bytes
// handed over stay usable on the page, and a broken layout comes back as the same EngineError code.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startBrowserHarness, type BrowserHarness } from '../browser/harness';
import { openDriver } from './support';

let harness: BrowserHarness;
beforeAll(async () => { harness = await startBrowserHarness(); });
afterAll(async () => { await harness?.close(); });

test('int8 weights rebuilt off the main thread: a Blob equal to the page rebuild; errors keep their code', async () => {
  const driver = await openDriver(harness);
  const source = `Promise.all([import('/src/engine/model/int8OffThread.ts'), import('/src/engine/model/int8.ts'), import('/src/engine/model/manifest.ts')]).then(async ([off, int8, man]) => {
    const base = '/models/deit-tiny-beans/';
    const manifest = man.validateManifest(await (await fetch(base + 'manifest.json')).json());
    const layout = int8.validateInt8Layout(await (await fetch(base + 'model.int8.json')).json(), manifest);
    const blob = new Uint8Array(await (await fetch(base + 'model.int8.weights')).arrayBuffer());
    const rebuilt = await off.rebuildWeightsOffMainThread(blob, layout, 'model.weights');
    const onPage = int8.rebuildWeights(blob, layout, 'model.weights');
    const bytes = new Uint8Array(await rebuilt.arrayBuffer());
    let same = bytes.length === onPage.length;
    for (let i = 0; same && i < bytes.length; i++) same = bytes[i] === onPage[i];
    let code = 'accepted';
    try { await off.rebuildWeightsOffMainThread(blob.subarray(1), layout, 'model.weights'); } catch (e) { code = e.code + ':' + e.name; }
    return { isBlob: rebuilt instanceof Blob, length: bytes.length, same, inputKept: blob.byteLength === layout.bytes, code };
  })`;
  const result = await driver.page.evaluate(source) as Record<string, unknown>;
  await driver.close();
  expect(result.isBlob).toBe(true);
  expect(result.length).toBeGreaterThan(20_000_000);
  expect(result.same).toBe(true);
  expect(result.inputKept).toBe(true);
  expect(result.code).toBe('model-checksum:EngineError');
}, 180_000);
