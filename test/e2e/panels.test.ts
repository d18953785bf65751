// The teach, history and settings panels load when first opened (React.lazy, src/ui/App.tsx): a panel whose code
// cannot be loaded says so with a way to retry, and the rest of the app keeps working.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startBrowserHarness, type BrowserHarness } from '../browser/harness';
import { appUrl, SLOW, waitForModel } from './helpers';

let harness: BrowserHarness;
beforeAll(async () => { harness = await startBrowserHarness(); }, SLOW);
afterAll(async () => { await harness?.close(); });

test('a panel whose code cannot be loaded says so, with a reload; the other panels still open', async () => {
  const { page, context } = await harness.newPage({ viewport: { width: 360, height: 740 } });
  await page.route('**/components/HistoryPanel*', (route) => route.abort());
  await page.goto(appUrl(harness.baseUrl));
  await waitForModel(page);
  await page.locator('[data-testid=nav-history]').click();
  const failed = page.locator('[data-testid=error][data-code=panel-load]');
  await failed.waitFor({ timeout: SLOW });
  await expect(failed.textContent()).resolves.toMatch(/could not be opened/);
  await expect(failed.getByRole('button', { name: 'Try again' }).count()).resolves.toBe(1);
  await page.locator('[data-testid=nav-settings]').click();
  await page.locator('[data-testid=settings]').waitFor({ timeout: SLOW });
  await expect(failed.count()).resolves.toBe(0);
  await context.close();
}, SLOW);
