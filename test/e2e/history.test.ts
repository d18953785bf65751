// History at season scale, end to end in headless Chromium: a schema-1 database with entries upgrades and keeps
// them (photos moved into Blobs); 2,000 entries open as a short virtualised list and a filter narrows them by index; a field gets its
// season chart and a tapped week shows its entries; export → delete all → import gives the same entries back.
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { seedV1Script } from '../../bench/lib/historySeed';
import { startBrowserHarness, type BrowserHarness } from '../browser/harness';
import { appErrors, appUrl, diagnoseFile, SLOW, tempDir, VAL_PHOTOS, waitForModel, writeFile } from './helpers';

let harness: BrowserHarness;
beforeAll(async () => { harness = await startBrowserHarness(); }, SLOW);
afterAll(async () => { await harness?.close(); });

interface Seeded { thumbnailChars: number; perLabel: Record<string, number> }

/** Seeds a schema-1 database from a static file of the app's origin, before the app ever opens it. */
async function seedV1(page: Page, count: number, errors: string[]): Promise<Seeded> {
  await page.goto(`${harness.baseUrl}/icons/icon-192.png`);
  const seeded = await page.evaluate(seedV1Script(count)) as Seeded;
  errors.length = 0; // an image document asks for a favicon the dev server does not have
  return seeded;
}

async function openHistory(page: Page): Promise<void> {
  await page.locator('[data-testid=nav-history]').click();
  await page.locator('[data-testid=history-item]').first().waitFor({ timeout: 30_000 });
}

const shownCount = (page: Page) => page.locator('[data-testid=history-count]').getAttribute('data-shown').then(Number);

/** The stored database as the app left it: schema version, entry count, photos as Blobs. */
function inspectDb(page: Page) {
  type Facts = { version: number; entries: number; withKeys: number; photosInRecords: number; blobs: number; types: string[] };
  return page.evaluate(() => new Promise<Facts>((resolve, reject) => {
    const request = indexedDB.open('leaf-lens');
    request.onerror = () => reject(request.error);
    request.onsuccess = () => {
      const db = request.result;
      const tx = db.transaction(['diagnoses', 'thumbnails']);
      const entries = tx.objectStore('diagnoses').getAll();
      const blobs = tx.objectStore('thumbnails').getAll();
      tx.oncomplete = () => {
        const list = blobs.result as Blob[];
        const records = entries.result as { keys?: object; thumbnail?: string }[];
        resolve({
          version: db.version, entries: records.length, withKeys: records.filter((r) => r.keys).length,
          photosInRecords: records.filter((r) => r.thumbnail).length, blobs: list.length, types: [...new Set(list.map((b) => b.type))],
        });
        db.close();
      };
    };
  }));
}

describe('history for a season', () => {
  test('a schema-1 database with entries upgrades and keeps every entry, note and photo', async () => {
    const { page, context, errors } = await harness.newPage({ viewport: { width: 360, height: 740 } });
    const seeded = await seedV1(page, 60, errors);
    await page.goto(appUrl(harness.baseUrl));
    await waitForModel(page);
    await openHistory(page);
    await expect(page.locator('[data-testid=history-count]').getAttribute('data-total')).resolves.toBe('60');
    // Keys at once (the upgrade); photos moved into Blobs in the background, none lost on the way.
    await expect.poll(() => inspectDb(page), { timeout: 30_000 })
      .toEqual({ version: 3, entries: 60, withKeys: 60, photosInRecords: 0, blobs: 60, types: ['image/jpeg'] });
    // Newest first; the photo comes from its Blob; the seeded note is there.
    const first = page.locator('[data-testid=history-item]').first();
    await expect.poll(() => first.locator('img').getAttribute('src')).toMatch(/^blob:/);
    const naturalWidth = await first.locator('img').evaluate((img: HTMLImageElement) => img.decode().then(() => img.naturalWidth));
    expect(naturalWidth).toBe(256);
    const notes = await page.locator('.entry-note-text').allTextContents();
    expect(notes.some((n) => /plot \d$/.test(n))).toBe(true);
    // The all-fields summary counts every entry, by class.
    await expect.poll(() => page.locator('[data-testid=summary-checks]').getAttribute('data-count'), { timeout: 30_000 }).toBe('60');
    const diseased = (seeded.perLabel.angular_leaf_spot! + seeded.perLabel.bean_rust!) / 60;
    expect(Number(await page.locator('[data-testid=summary-diseased]').getAttribute('data-share'))).toBeCloseTo(diseased, 3);
    // Reopening reads the whole entry back, photo included, and draws its stored heatmap.
    await first.locator('.history-open').click();
    await page.waitForSelector('[data-testid=reopened] [data-testid=heatmap][data-drawn=true]', { timeout: SLOW });
    expect(appErrors(errors)).toEqual([]);
    await context.close();
  }, SLOW * 2);

  test('2,000 entries: History shows a short virtualised list, and a filter narrows it through the index', async () => {
    const { page, context, errors } = await harness.newPage({ viewport: { width: 360, height: 740 } });
    const seeded = await seedV1(page, 2000, errors);
    await page.goto(appUrl(harness.baseUrl));
    await waitForModel(page);
    await openHistory(page);
    await expect(page.locator('[data-testid=history-count]').getAttribute('data-total')).resolves.toBe('2000');
    // Only the rows near the screen are in the DOM.
    expect(await page.locator('[data-testid=history-item]').count()).toBeLessThan(40);
    // Scrolling far down shows rows from further in the list (read page by page).
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight / 2));
    await expect.poll(async () => Number(await page.locator('[data-testid=history-item]').first().getAttribute('data-id')), { timeout: 10_000 }).toBeLessThan(1500);
    await page.evaluate(() => window.scrollTo(0, 0));

    // The upgrade finishes in the background (keys and photos, 100 entries at a time); then filters are complete.
    await page.waitForSelector('[data-testid=history-upgrading]', { state: 'detached', timeout: 120_000 });
    await page.locator('[data-testid=filter-category]').selectOption('healthy');
    await expect.poll(() => shownCount(page), { timeout: 30_000 }).toBe(seeded.perLabel.healthy);
    const categories = () => page.locator('[data-testid=history-item]').evaluateAll((els) => els.map((e) => e.getAttribute('data-category')));
    await expect.poll(async () => (await categories()).length).toBeGreaterThan(2);
    expect(new Set(await categories())).toEqual(new Set(['healthy']));
    // A date range narrows further: the seeded season starts 2026-03-02; its first four weeks.
    await page.locator('[data-testid=filter-from]').fill('2026-03-02');
    await page.locator('[data-testid=filter-to]').fill('2026-03-29');
    await expect.poll(() => shownCount(page), { timeout: 10_000 }).toBeLessThan(seeded.perLabel.healthy! / 3);
    const dates = await page.locator('[data-testid=history-item]').evaluateAll((els) => els.map((e) => e.getAttribute('data-created')!));
    for (const d of dates) expect(new Date(d).getTime()).toBeLessThan(new Date(2026, 2, 30).getTime());
    await page.locator('[data-testid=filter-clear]').click();
    await expect.poll(() => shownCount(page)).toBe(2000);
    expect(appErrors(errors)).toEqual([]);
    await context.close();
  }, SLOW * 2);

  test('checks tagged with a field get that field\'s season chart; tapping a week shows its entries', async () => {
    const { page, context, errors } = await harness.newPage({ viewport: { width: 360, height: 740 } });
    await seedV1(page, 20, errors);
    await page.goto(appUrl(harness.baseUrl));
    await waitForModel(page);
    await page.locator('[data-testid=field-picker]').first().fill('North plot');
    await page.locator('[data-testid=field-picker]').first().blur();
    await diagnoseFile(page, VAL_PHOTOS.bean_rust);
    await page.locator('[data-testid=save-status][data-state=saved]').waitFor();
    await diagnoseFile(page, VAL_PHOTOS.healthy);
    await page.locator('[data-testid=save-status][data-state=saved]').waitFor();
    await openHistory(page);
    await page.locator('[data-testid=filter-field]').selectOption('North plot');
    await expect.poll(() => shownCount(page)).toBe(2);
    const summary = page.locator('[data-testid=summary][data-field="North plot"]');
    await summary.waitFor();
    await expect(summary.locator('[data-testid=summary-checks]').getAttribute('data-count')).resolves.toBe('2');
    const bars = summary.locator('[data-testid=summary-bar]');
    await expect(bars.count()).resolves.toBe(1);
    await expect(bars.first().getAttribute('data-total')).resolves.toBe('2');
    expect(await bars.first().getAttribute('aria-label')).toMatch(/2 checks/);
    const box = await page.locator('[data-testid=summary-chart]').boundingBox();
    expect(box!.height).toBeGreaterThan(40);
    // A week from the seeded (field-less) entries: the all-fields chart, then that week's entries only.
    await page.locator('[data-testid=filter-field]').selectOption('');
    await page.locator('[data-testid=summary][data-field=""]').waitFor();
    const firstWeek = page.locator('[data-testid=summary-bar]:not([disabled])').first();
    const weekTotal = Number(await firstWeek.getAttribute('data-total'));
    await firstWeek.click();
    await expect.poll(() => shownCount(page)).toBe(weekTotal);
    expect(appErrors(errors)).toEqual([]);
    await context.close();
  }, SLOW * 3);

  test('export → delete all → import gives the same entries back; duplicates and bad files change nothing', async () => {
    const { page, context, errors } = await harness.newPage({ viewport: { width: 360, height: 740 } });
    await seedV1(page, 25, errors);
    await page.goto(appUrl(harness.baseUrl));
    await waitForModel(page);
    await openHistory(page);
    const item = page.locator('[data-testid=history-item]').first();
    await item.locator('[data-testid=entry-edit]').click();
    await item.locator('[data-testid=entry-field]').fill('River');
    await item.locator('[data-testid=entry-note]').fill('edge, "wet"');
    await item.locator('button[type=submit]').click();
    await item.locator('button[type=submit][data-saved=true]').waitFor();

    const exportJson = async () => {
      const download = page.waitForEvent('download');
      await page.locator('[data-testid=export-json]').click();
      const path = (await (await download).path())!;
      return { path, data: JSON.parse(readFileSync(path, 'utf8')) as { version: number; entries: Record<string, unknown>[] } };
    };
    const before = await exportJson();
    expect(before.data.version).toBe(2);
    expect(before.data.entries).toHaveLength(25);
    expect(before.data.entries.filter((e) => e.field === 'River' && e.note === 'edge, "wet"')).toHaveLength(1);
    for (const e of before.data.entries) expect(e.thumbnail).toMatch(/^data:image\/jpeg;base64,/);

    const zipDownload = page.waitForEvent('download');
    await page.locator('[data-testid=export-zip]').click();
    const zipPath = (await (await zipDownload).path())!;
    expect(readFileSync(zipPath).subarray(0, 2).toString('latin1')).toBe('PK');

    await page.locator('[data-testid=delete-all]').click();
    await page.locator('[data-testid=confirm-delete-all]').click();
    await page.waitForSelector('[data-testid=history-empty]');

    await page.locator('[data-testid=import-history]').setInputFiles(before.path);
    await expect(page.locator('[data-testid=import-result]').getAttribute('data-added')).resolves.toBe('25');
    await page.locator('[data-testid=history-item]').first().waitFor();
    const after = await exportJson();
    const comparable = (entries: Record<string, unknown>[]) => entries.map(({ id: _id, ...rest }) => rest)
      .sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt)));
    expect(comparable(after.data.entries)).toEqual(comparable(before.data.entries));

    // The same file again: all duplicates, nothing added. The ZIP too.
    await page.locator('[data-testid=import-history]').setInputFiles(before.path);
    await expect.poll(() => page.locator('[data-testid=import-result]').getAttribute('data-duplicates')).toBe('25');
    await expect(page.locator('[data-testid=import-result]').getAttribute('data-added')).resolves.toBe('0');
    await page.locator('[data-testid=import-history]').setInputFiles(zipPath);
    await expect.poll(() => page.locator('[data-testid=import-result]').getAttribute('data-duplicates')).toBe('25');

    // A file that is not a history export: a clear message, the history untouched.
    const dir = tempDir('history-import-');
    await page.locator('[data-testid=import-history]').setInputFiles(writeFile(dir, 'photo.json', '{"pictures": []}'));
    await expect(page.locator('[data-testid=import-error]').getAttribute('data-code')).resolves.toBe('not-history');
    await expect(page.locator('[data-testid=import-error]').textContent()).resolves.toMatch(/Nothing was changed/);
    await expect(page.locator('[data-testid=history-count]').getAttribute('data-total')).resolves.toBe('25');
    expect(appErrors(errors)).toEqual([]);
    await context.close();
  }, SLOW * 3);
});
