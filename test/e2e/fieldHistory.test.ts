// A field check reopened from history keeps what the live one offers: each leaf's own result and heatmap one tap
// away (issue 11), read back from the saved leaf entries, in the order the leaves were judged.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startBrowserHarness, type BrowserHarness } from '../browser/harness';
import { appErrors, appUrl, SLOW, VAL_PHOTOS, waitForModel } from './helpers';

let harness: BrowserHarness;
beforeAll(async () => { harness = await startBrowserHarness(); }, SLOW);
afterAll(async () => { await harness?.close(); });

describe('reopened field check', () => {
  test('lists its leaves; each opens with its own saved result and heatmap, and back', async () => {
    const { page, context, errors } = await harness.newPage({ viewport: { width: 360, height: 740 } });
    await page.goto(appUrl(harness.baseUrl));
    await waitForModel(page);
    await page.locator('[data-testid=mode-group]').click();
    await page.setInputFiles('[data-testid=group-input]', Object.values(VAL_PHOTOS));
    await page.locator('[data-testid=group-diagnosis][data-busy=false][data-leaves="3"]').waitFor({ timeout: SLOW });
    const liveLeaves = await page.locator('[data-testid=field-check] [data-testid=group-leaf]').evaluateAll((els) =>
      els.map((e) => ({ label: e.getAttribute('data-label'), outcome: e.getAttribute('data-outcome') })));
    expect(liveLeaves).toHaveLength(3);

    // The combined entry is saved with its leaves; reopen it from the history list.
    await page.locator('[data-testid=nav-history]').click();
    const groupItem = page.locator('[data-testid=history-item]', { hasText: /several-leaf check: 3 leaves/i });
    await groupItem.waitFor({ timeout: 30_000 });
    await groupItem.locator('.history-open').click();
    await page.waitForSelector('[data-testid=reopened-group]');
    const saved = page.locator('[data-testid=reopened-group-leaves] [data-testid=group-leaf]');
    await expect.poll(() => saved.count(), { timeout: 30_000 }).toBe(3);
    const savedLeaves = await saved.evaluateAll((els) =>
      els.map((e) => ({ label: e.getAttribute('data-label'), outcome: e.getAttribute('data-outcome'), status: e.getAttribute('data-status') })));
    expect(savedLeaves.map((l) => l.status)).toEqual(['done', 'done', 'done']);
    expect(savedLeaves.map(({ label, outcome }) => ({ label, outcome }))).toEqual(liveLeaves);

    // One tap: leaf 2 alone, its own result (one diagnosis card) and its saved heatmap drawn; advice stays with the group.
    await page.locator('[data-testid=reopened-group-leaves] [data-testid=group-leaf-open]').nth(1).click();
    await page.waitForSelector('[data-testid=group-leaf-detail]');
    await page.waitForSelector('[data-testid=group-leaf-heatmap][data-drawn=true]', { timeout: SLOW });
    await expect(page.locator('[data-testid=diagnosis]').count()).resolves.toBe(1);
    await expect(page.locator('[data-testid=diagnosis]').getAttribute('data-label')).resolves.toBe(liveLeaves[1]!.label);
    await expect(page.locator('[data-testid=diagnosis]').getAttribute('data-outcome')).resolves.toBe(liveLeaves[1]!.outcome);
    await expect(page.locator('[data-testid=reopened-group-leaves]').count()).resolves.toBe(0);
    await expect(page.locator('[data-testid=advice]').count()).resolves.toBe(0);

    // Back: the combined answer and the three leaves again.
    await page.locator('[data-testid=group-leaf-close]').click();
    await page.waitForSelector('[data-testid=reopened-group]');
    await expect(saved.count()).resolves.toBe(3);
    expect(appErrors(errors)).toEqual([]);
    await context.close();
  }, SLOW * 3);
});
