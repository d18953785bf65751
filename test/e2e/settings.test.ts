// Settings and model choices through the UI: backend shown, WebGPU path draws too, the missing trained
// model is explained with a way forward, a head from disk is validated and kept, languages switch,
// a full storage quota loses nothing.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startBrowserHarness, type BrowserHarness } from '../browser/harness';
import {
  appErrors, chooseLanguage, appUrl, diagnoseFile, shippedAppUrl, FIXTURE_MODEL, pixelStats, SLOW, tempDir, VAL_PHOTOS, waitForModel,
  screenshotPath, writeFile,
} from './helpers';

let harness: BrowserHarness;
beforeAll(async () => { harness = await startBrowserHarness(); }, SLOW);
afterAll(async () => { await harness?.close(); });

test('without the trained model the app says so plainly and offers the labelled test model', async () => {
  const { page, context, errors } = await harness.newPage({ viewport: { width: 360, height: 740 } });
  // A build without the shipped model (a fork that has not trained one yet).
  await page.route('**/models/deit-tiny-beans/**', (route) => route.fulfill({ status: 404, body: 'not here' }));
  await page.goto(shippedAppUrl(harness.baseUrl));
  const missing = page.locator('[data-testid=model-missing]');
  await missing.waitFor({ timeout: SLOW });
  await expect(missing.textContent()).resolves.toMatch(/not included in this build.*docs\/training\.md/s);
  await expect(page.locator('[data-testid=use-fixture]').textContent()).resolves.toMatch(/untrained test model — results are meaningless/i);
  await page.screenshot({ path: screenshotPath(`phone-360x740-model-missing.png`) });
  await page.locator('[data-testid=use-fixture]').click();
  await waitForModel(page);
  expect(new URL(page.url()).searchParams.get('model')).toBe(FIXTURE_MODEL);
  await diagnoseFile(page, VAL_PHOTOS.healthy);
  await expect(page.locator('[data-testid=untrained-banner]').count()).resolves.toBe(1);
  expect(appErrors(errors).filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
  await context.close();
}, SLOW * 2);

const SHIPPED = 'models/deit-tiny-beans/';
test('the shipped model: the default, right on a val photo of each class, its accuracy in settings, no warning', async () => {
  const manifest = JSON.parse(readFileSync(`public/${SHIPPED}manifest.json`, 'utf8'));
  const { page, context, errors } = await harness.newPage({ viewport: { width: 360, height: 740 } });
  await page.goto(shippedAppUrl(harness.baseUrl));
  await waitForModel(page);
  for (const [label, photo] of Object.entries(VAL_PHOTOS)) {
    await page.locator('[data-testid=nav-diagnose]').click();
    expect(await diagnoseFile(page, photo)).toBe(label);
    await expect(page.locator('[data-testid=preliminary-banner]').count()).resolves.toBe(0);
    await expect(page.locator('[data-testid=untrained-banner]').count()).resolves.toBe(0);
  }
  await page.screenshot({ path: screenshotPath(`phone-360x740-shipped-diagnosis.png`) });
  await page.locator('[data-testid=nav-settings]').click();
  const settings = await page.locator('[data-testid=settings]').textContent();
  expect(settings).toContain(manifest.title);
  expect(settings).toContain(`${(manifest.training.val_accuracy * 100).toFixed(1)}%`);
  expect(appErrors(errors)).toEqual([]);
  await context.close();
}, SLOW * 3);

test('a trained head under the ship floor: every answer is marked as a hint, with its accuracy', async () => {
  // The shipped head as if retrained to 80 % (say, on fewer photos) and loaded from disk in settings.
  const head = JSON.parse(readFileSync(`public/${SHIPPED}head.json`, 'utf8'));
  const weaker = writeFile(tempDir('leaf-lens-head-'), 'beans-head-80.json', JSON.stringify({ ...head, metrics: { ...head.metrics, val_accuracy: 0.8 } }));
  const { page, context, errors } = await harness.newPage({ viewport: { width: 360, height: 740 } });
  await page.goto(shippedAppUrl(harness.baseUrl));
  await waitForModel(page);
  await page.locator('[data-testid=nav-settings]').click();
  await page.setInputFiles('[data-testid=head-input]', weaker);
  await page.waitForSelector('text=beans-head-80.json', { timeout: 30_000 });
  await page.locator('[data-testid=nav-diagnose]').click();
  await diagnoseFile(page, VAL_PHOTOS.bean_rust);
  await expect(page.locator('[data-testid=preliminary-banner]').textContent()).resolves.toContain('80%');
  await expect(page.locator('[data-testid=untrained-banner]').count()).resolves.toBe(0);
  await page.screenshot({ path: screenshotPath(`phone-360x740-preliminary-diagnosis.png`) });
  expect(appErrors(errors)).toEqual([]);
  await context.close();
}, SLOW * 2);

test('WebGPU backend: shown as "webgpu", and its heatmap is drawn', async () => {
  const { page, context, errors } = await harness.newPage({ viewport: { width: 360, height: 740 } });
  await page.goto(`${harness.baseUrl}/index.html?model=${FIXTURE_MODEL}&backend=webgpu`);
  await waitForModel(page);
  await diagnoseFile(page, VAL_PHOTOS.angular_leaf_spot);
  expect(await page.locator('[data-testid=photo-card]').getAttribute('data-backend')).toBe('webgpu');
  const shot = await page.locator('[data-testid=heatmap]').screenshot();
  expect((await pixelStats(page, shot)).std).toBeGreaterThan(10);
  await page.locator('[data-testid=nav-settings]').click();
  await expect(page.locator('[data-testid=backend]').textContent()).resolves.toBe('webgpu');
  expect(appErrors(errors)).toEqual([]);
  await context.close();
}, SLOW * 2);

test('settings: backend, model facts, a head from disk (validated, kept across reloads), languages', async () => {
  const dir = tempDir('leaf-lens-head-');
  const head = JSON.parse(readFileSync(`public/${FIXTURE_MODEL}head.json`, 'utf8'));
  const maize = writeFile(dir, 'maize-head.json', JSON.stringify({ ...head, labels: ['maize_streak', 'maize_rust', 'maize_healthy'] }));
  const wrong = writeFile(dir, 'wrong-head.json', JSON.stringify({ ...head, backbone_sha256: '0'.repeat(64) }));
  const notJson = writeFile(dir, 'broken-head.json', '{ "format": "leaf-lens-head", ');

  const { page, context, errors } = await harness.newPage({ viewport: { width: 360, height: 740 } });
  await page.goto(appUrl(harness.baseUrl));
  await waitForModel(page);
  await page.locator('[data-testid=nav-settings]').click();
  await expect(page.locator('[data-testid=backend]').textContent()).resolves.toBe('wasm');
  await expect(page.locator('[data-testid=settings]').textContent()).resolves.toMatch(/NO \(test model\)/);
  await expect(page.locator('[data-testid=privacy]').textContent()).resolves.toMatch(/never leave this phone/);
  await page.screenshot({ path: screenshotPath(`phone-360x740-settings.png`), fullPage: true });

  for (const [file, code] of [[wrong, 'head-mismatch'], [notJson, 'head-invalid']] as const) {
    await page.setInputFiles('[data-testid=head-input]', file);
    const error = page.locator(`[data-testid=error][data-code=${code}]`);
    await error.waitFor({ timeout: 30_000 });
    await error.locator('button').last().click(); // dismiss
  }
  await page.setInputFiles('[data-testid=head-input]', maize);
  await page.waitForSelector('text=maize-head.json', { timeout: 30_000 });
  await expect(page.locator('[data-testid=settings]').textContent()).resolves.toMatch(/maize streak/);

  await page.reload();
  await waitForModel(page);
  await page.locator('[data-testid=nav-settings]').click();
  await page.waitForSelector('text=maize-head.json', { timeout: 30_000 });
  await page.locator('[data-testid=nav-diagnose]').click();
  const label = await diagnoseFile(page, VAL_PHOTOS.bean_rust);
  expect(['maize_streak', 'maize_rust', 'maize_healthy']).toContain(label);
  // Unknown classes: names shown readably, and no invented advice.
  await expect(page.locator('[data-testid=advice]').textContent()).resolves.toMatch(/No advice is available/);

  // Languages: switch to Swahili and Spanish; the nav and result follow; dates and numbers too.
  await chooseLanguage(page, 'sw');
  await expect(page.locator('[data-testid=nav-history]').textContent()).resolves.toBe('Historia');
  expect(await page.evaluate(() => document.documentElement.lang)).toBe('sw');
  await chooseLanguage(page, 'es');
  await expect(page.locator('[data-testid=nav-diagnose]').textContent()).resolves.toBe('Revisar hoja');
  await page.reload();
  await waitForModel(page);
  await expect(page.locator('[data-testid=nav-diagnose]').textContent()).resolves.toBe('Revisar hoja');
  expect(appErrors(errors)).toEqual([]);
  await context.close();
}, SLOW * 3);

test('a full storage quota keeps the result on screen, loses nothing saved, and says what to do', async () => {
  const { page, context } = await harness.newPage({ viewport: { width: 360, height: 740 } });
  // Chromium's CDP quota override does not reach IndexedDB in this headless build, so a full disk is
  // simulated where the browser reports it: IndexedDB writes fail with a QuotaExceededError DOMException.
  await page.addInitScript(() => {
    const flag = window as unknown as { simulateFullDisk?: boolean };
    for (const name of ['add', 'put'] as const) {
      const original = IDBObjectStore.prototype[name];
      IDBObjectStore.prototype[name] = function (this: IDBObjectStore, ...args: Parameters<typeof original>) {
        if (flag.simulateFullDisk && this.name === 'diagnoses') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        return original.apply(this, args);
      };
    }
  });
  await page.goto(appUrl(harness.baseUrl));
  await waitForModel(page);
  await diagnoseFile(page, VAL_PHOTOS.healthy);
  await page.locator('[data-testid=save-status][data-state=saved]').waitFor();
  await page.evaluate(() => { (window as unknown as { simulateFullDisk: boolean }).simulateFullDisk = true; });
  await diagnoseFile(page, VAL_PHOTOS.bean_rust);
  const error = page.locator('[data-testid=error][data-code=storage-full]');
  await error.waitFor({ timeout: 30_000 });
  await expect(error.textContent()).resolves.toMatch(/Nothing saved earlier was lost/);
  await expect(page.locator('[data-testid=diagnosis]').count()).resolves.toBe(1);
  await error.scrollIntoViewIfNeeded();
  await page.screenshot({ path: screenshotPath(`phone-360x740-storage-full.png`) });

  await page.locator('[data-testid=nav-history]').click();
  await expect.poll(() => page.locator('[data-testid=history-item]').count()).toBe(1);
  await page.evaluate(() => { (window as unknown as { simulateFullDisk: boolean }).simulateFullDisk = false; });
  await page.locator('[data-testid=nav-diagnose]').click();
  await error.getByRole('button', { name: 'Try saving again' }).click();
  await page.locator('[data-testid=save-status][data-state=saved]').waitFor({ timeout: 30_000 });
  await page.locator('[data-testid=nav-history]').click();
  await expect.poll(() => page.locator('[data-testid=history-item]').count()).toBe(2);
  await context.close();
}, SLOW * 2);

test('a model folder loaded from disk is validated by the engine, used, and kept across reloads', async () => {
  const { page, context, errors } = await harness.newPage({ viewport: { width: 360, height: 740 } });
  await page.route('**/models/deit-tiny-beans/**', (route) => route.fulfill({ status: 404, body: 'not in this build' }));
  await page.goto(shippedAppUrl(harness.baseUrl));
  await page.locator('[data-testid=model-missing]').waitFor({ timeout: SLOW });
  // A folder without manifest.json is refused with a plain message.
  const dir = tempDir('leaf-lens-folder-');
  writeFile(dir, 'notes.txt', 'not a model');
  await page.setInputFiles('[data-testid=model-missing] [data-testid=model-folder-input]', dir);
  await page.locator('[data-testid=error][data-code=folder-incomplete]').waitFor({ timeout: 30_000 });

  await page.setInputFiles('[data-testid=model-missing] [data-testid=model-folder-input]', `public/${FIXTURE_MODEL}`);
  await waitForModel(page);
  await expect(page.locator('[data-testid=model-missing]').count()).resolves.toBe(0);
  await diagnoseFile(page, VAL_PHOTOS.bean_rust);
  await page.locator('[data-testid=nav-settings]').click();
  await expect(page.locator('[data-testid=settings] code').nth(1).textContent()).resolves.toBe('fixture-deit-micro');

  await page.reload();
  await waitForModel(page);
  await expect(page.locator('[data-testid=model-missing]').count()).resolves.toBe(0);
  await page.locator('[data-testid=nav-settings]').click();
  await expect(page.locator('[data-testid=settings] code').nth(1).textContent()).resolves.toBe('fixture-deit-micro');
  // Back to the built-in model (missing in this build) on request.
  await page.getByRole('button', { name: 'Use the built-in model' }).click();
  await page.locator('[data-testid=nav-diagnose]').click();
  await page.locator('[data-testid=model-missing]').waitFor({ timeout: SLOW });
  expect(appErrors(errors).filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
  await context.close();
}, SLOW * 2);

test('location is saved only after the user allows it', async () => {
  const { page, context } = await harness.newPage({ viewport: { width: 360, height: 740 } });
  await context.grantPermissions(['geolocation']);
  await context.setGeolocation({ latitude: 0.3476, longitude: 32.5825, accuracy: 20 });
  await page.goto(appUrl(harness.baseUrl));
  await waitForModel(page);
  await diagnoseFile(page, VAL_PHOTOS.healthy);
  await page.locator('[data-testid=save-status][data-state=saved]').waitFor();
  await page.locator('[data-testid=nav-history]').click();
  await page.locator('[data-testid=save-location]').check();
  await page.locator('[data-testid=nav-diagnose]').click();
  await diagnoseFile(page, VAL_PHOTOS.angular_leaf_spot);
  await page.locator('[data-testid=save-status][data-state=saved]').waitFor();
  await page.locator('[data-testid=nav-history]').click();
  const items = page.locator('[data-testid=history-item]');
  await expect.poll(() => items.count()).toBe(2);
  await expect(items.nth(0).textContent()).resolves.toMatch(/0\.3476, 32\.5825/);
  await expect(items.nth(1).textContent()).resolves.not.toMatch(/Location/);
  await context.close();
}, SLOW * 2);

test('first visit shows model download progress; it goes away when the model is ready', async () => {
  const { page, context } = await harness.newPage({ viewport: { width: 360, height: 740 } });
  // A slow network for the weights file, so the progress is observable.
  await page.route('**/model.weights', async (route) => {
    await new Promise((r) => setTimeout(r, 2500));
    await route.continue();
  });
  await page.goto(appUrl(harness.baseUrl));
  const status = page.locator('[data-testid=model-loading]');
  await status.waitFor({ timeout: 30_000 });
  await expect(status.locator('progress').count()).resolves.toBe(1);
  await expect(status.textContent()).resolves.toMatch(/Preparing|Downloading|Checking|Starting/);
  await waitForModel(page);
  await expect(page.locator('[data-testid=sample-healthy]').isEnabled()).resolves.toBe(true);
  await context.close();
}, SLOW);
