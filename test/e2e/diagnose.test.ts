// The field app end to end on the dev server: real val photos through the real UI with the fixture model.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startBrowserHarness, type BrowserHarness } from '../browser/harness';
import {
  appErrors, appUrl, diagnoseFile, LABELS, pixelDifference, pixelStats, SLOW, VAL_PHOTOS, waitForDiagnosis, waitForModel,
} from './helpers';

let harness: BrowserHarness;
beforeAll(async () => { harness = await startBrowserHarness(); }, SLOW);
afterAll(async () => { await harness?.close(); });


describe('diagnose a leaf', () => {
  test('each real val photo gets a diagnosis, a visible heatmap and the untrained warning', async () => {
    const { page, context, errors } = await harness.newPage({ viewport: { width: 360, height: 740 } });
    await page.goto(appUrl(harness.baseUrl));
    await waitForModel(page);
    for (const path of Object.values(VAL_PHOTOS)) {
      const label = await diagnoseFile(page, path);
      expect(LABELS).toContain(label);
      await expect(page.locator('[data-testid=untrained-banner]').count()).resolves.toBe(1);
      const shot = await page.locator('[data-testid=heatmap]').screenshot();
      const stats = await pixelStats(page, shot);
      expect(stats.std, 'heatmap canvas is blank').toBeGreaterThan(10);
      // Probability bars: one per class, summing to about 100 %.
      const values = await page.locator('.bar-track').evaluateAll((els) => els.map((e) => Number(e.getAttribute('aria-valuenow'))));
      expect(values).toHaveLength(3);
      expect(Math.abs(values.reduce((a, b) => a + b, 0) - 100)).toBeLessThanOrEqual(2);
      await expect(page.locator('[data-testid=save-status][data-state=saved]').count()).resolves.toBe(1);
    }
    expect(appErrors(errors)).toEqual([]);
    await context.close();
  }, SLOW * 2);

  test('switching method, class and colours redraws; only what needs the model re-runs it', async () => {
    const { page, context, errors } = await harness.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(appUrl(harness.baseUrl));
    await waitForModel(page);
    await diagnoseFile(page, VAL_PHOTOS.bean_rust);
    const card = page.locator('[data-testid=photo-card]');
    const canvas = page.locator('[data-testid=heatmap]');
    const shotRelevance = await canvas.screenshot();

    await page.locator('[data-testid=method-rollout]').check();
    await page.waitForSelector('[data-testid=photo-card][data-method=rollout]', { timeout: SLOW });
    await waitForDiagnosis(page);
    const shotRollout = await canvas.screenshot();
    expect(await pixelDifference(page, shotRelevance, shotRollout)).toBeGreaterThan(1);

    await page.locator('[data-testid=method-attention]').check();
    await page.waitForSelector('[data-testid=photo-card][data-method=attention]', { timeout: SLOW });
    await waitForDiagnosis(page);
    // Attention needs only forward outputs that are already on hand: no new model run.
    expect(Number(await card.getAttribute('data-model-ms'))).toBe(0);

    // Colour map and opacity are drawing only: the diagnosis object stays, the picture changes.
    const shotTurbo = await canvas.screenshot();
    await page.locator('[data-testid=colormap-picker]').selectOption('viridis');
    await page.waitForTimeout(500);
    await waitForDiagnosis(page);
    const shotViridis = await canvas.screenshot();
    expect(await pixelDifference(page, shotTurbo, shotViridis)).toBeGreaterThan(1);

    // "Why bean rust?" vs "why healthy?": another class explained, another map (relevance needs a new run).
    await page.locator('[data-testid=method-relevance]').check();
    await page.waitForSelector('[data-testid=photo-card][data-method=relevance]', { timeout: SLOW });
    await waitForDiagnosis(page);
    const explained = Number(await card.getAttribute('data-explained'));
    const other = (explained + 1) % 3;
    const before = await canvas.screenshot();
    await page.locator('[data-testid=class-picker]').selectOption(String(other));
    await page.waitForSelector(`[data-testid=photo-card][data-explained="${other}"]`, { timeout: SLOW });
    await waitForDiagnosis(page);
    expect(await pixelDifference(page, before, await canvas.screenshot())).toBeGreaterThan(1);

    // Side by side: one drawn map per method the model offers.
    await page.locator('[data-testid=compare]').click();
    const methods = await page.locator('[data-testid=method-picker] input').count();
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid^=compare-][data-drawn=true]').length === n, methods, { timeout: SLOW });

    // The value under the pointer is shown.
    await canvas.hover();
    await expect(page.locator('.readout').textContent()).resolves.toMatch(/\d/);

    expect(appErrors(errors)).toEqual([]);
    await context.close();
  }, SLOW * 3);
});

describe('history', () => {
  test('survives a reload, reopens with its heatmap, exports valid CSV and JSON, deletes', async () => {
    const { page, context, errors } = await harness.newPage({ viewport: { width: 360, height: 740 } });
    await page.goto(appUrl(harness.baseUrl));
    await waitForModel(page);
    const first = await diagnoseFile(page, VAL_PHOTOS.healthy);
    await diagnoseFile(page, VAL_PHOTOS.angular_leaf_spot);

    await page.reload();
    await waitForModel(page);
    await page.locator('[data-testid=nav-history]').click();
    const items = page.locator('[data-testid=history-item]');
    await expect.poll(() => items.count(), { timeout: 10_000 }).toBe(2);
    expect(await items.nth(1).getAttribute('data-label')).toBe(first);

    await items.nth(0).locator('[data-testid=entry-edit]').click();
    const note = items.nth(0).locator('[data-testid=entry-note]');
    await note.fill('plot 7, "north" edge');
    await items.nth(0).locator('button[type=submit]').click();
    await items.nth(0).locator('button[type=submit][data-saved=true]').waitFor();

    const csvDownload = page.waitForEvent('download');
    await page.locator('[data-testid=export-csv]').click();
    const csv = readFileSync((await (await csvDownload).path())!, 'utf8');
    const lines = csv.trim().split('\r\n');
    expect(lines[0]?.split(',')).toContain('top_class');
    expect(lines).toHaveLength(3);
    expect(csv).toContain('"plot 7, ""north"" edge"');

    const jsonDownload = page.waitForEvent('download');
    await page.locator('[data-testid=export-json]').click();
    const json = JSON.parse(readFileSync((await (await jsonDownload).path())!, 'utf8'));
    expect(json.format).toBe('leaf-lens-history');
    expect(json.entries).toHaveLength(2);
    for (const e of json.entries) {
      expect(e.thumbnail).toMatch(/^data:image\/jpeg;base64,/);
      expect(e.heatmap.values).toHaveLength(e.heatmap.gridSize ** 2);
      expect(LABELS).toContain(e.labels[e.top]);
    }

    // Reopen the older entry: its stored heatmap is drawn without running the model.
    await items.nth(1).locator('.history-open').click();
    await page.waitForSelector('[data-testid=reopened] [data-testid=heatmap][data-drawn=true]', { timeout: SLOW });
    const shot = await page.locator('[data-testid=reopened] [data-testid=heatmap]').screenshot();
    expect((await pixelStats(page, shot)).std).toBeGreaterThan(10);
    expect(await page.locator('[data-testid=diagnosis]').getAttribute('data-label')).toBe(first);

    await page.locator('[data-testid=nav-history]').click();
    await items.nth(0).locator('[data-testid=history-delete]').click();
    await expect.poll(() => items.count()).toBe(1);
    await page.locator('[data-testid=delete-all]').click();
    await page.locator('[data-testid=confirm-delete-all]').click();
    await page.waitForSelector('[data-testid=history-empty]');
    expect(appErrors(errors)).toEqual([]);
    await context.close();
  }, SLOW * 3);
});
