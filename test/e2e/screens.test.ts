// The main screens at phone (360×740) and desktop (1280×800) size, written for people to look at (to .work/screenshots/;
// `npm run screenshots` refreshes docs/screenshots/), plus checks a screenshot cannot make: every control has a
// name, touch targets are large, text contrast meets WCAG AA, nothing is wider than the phone screen, keyboard focus reaches the photo
// buttons, paste and drop work.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startBrowserHarness, type BrowserHarness } from '../browser/harness';
import { appErrors, chooseLanguage, appUrl, shippedAppUrl, SLOW, uploadPhoto, VAL_PHOTOS, screenshotPath, waitForDiagnosis, waitForModel } from './helpers';

let harness: BrowserHarness;
beforeAll(async () => { harness = await startBrowserHarness(); }, SLOW);
afterAll(async () => { await harness?.close(); });

/** Visible controls without an accessible name, or smaller than a thumb (44 px) at phone size. */
async function controlProblems(page: Page, minTarget: number): Promise<string[]> {
  return page.evaluate((min) => {
    const problems: string[] = [];
    const visible = (el: Element) => { const r = el.getBoundingClientRect(); return r.width > 2 && r.height > 2 && getComputedStyle(el).visibility !== 'hidden'; };
    for (const el of document.querySelectorAll('button, select, input:not(.visually-hidden), summary, label.button, a[href]')) {
      if (!visible(el) || el.closest('[hidden]')) continue;
      const input = el as HTMLInputElement;
      const name = (el.getAttribute('aria-label') ?? '') || (el.textContent ?? '').trim()
        || (input.labels?.[0]?.textContent ?? '').trim() || (el.closest('label')?.textContent ?? '').trim() || (input.placeholder ?? '');
      const what = `${el.tagName.toLowerCase()}${el.getAttribute('data-testid') ? `[${el.getAttribute('data-testid')}]` : ''} "${name.slice(0, 30)}"`;
      if (!name) problems.push(`no accessible name: ${what}`);
      const r = el.getBoundingClientRect();
      const target = el.tagName === 'INPUT' && (input.type === 'radio' || input.type === 'checkbox') ? el.closest('label') ?? el : el;
      const tr = target.getBoundingClientRect();
      if (tr.height < min && el.tagName !== 'A') problems.push(`target ${Math.round(tr.width)}×${Math.round(tr.height)}: ${what}`);
      void r;
    }
    // Text contrast (WCAG AA: 4.5:1, 3:1 for large text) against the nearest opaque background.
    const rgb = (c: string) => (c.match(/[\d.]+/g) ?? []).map(Number);
    const luminance = ([r = 0, g = 0, b = 0]: number[]) => {
      const lin = (v: number) => { const x = v / 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
    };
    for (const el of document.querySelectorAll('body *')) {
      if (!visible(el) || el.closest('[hidden], .visually-hidden, svg')) continue;
      if (![...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent!.trim())) continue;
      const style = getComputedStyle(el);
      let bg: number[] | null = null;
      for (let p: Element | null = el; p; p = p.parentElement) {
        const c = rgb(getComputedStyle(p).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3]! >= 0.99)) { bg = c.slice(0, 3); break; }
      }
      const [l1, l2] = [luminance(rgb(style.color)), luminance(bg ?? [255, 255, 255])].sort((a, b) => b - a);
      const ratio = (l1! + 0.05) / (l2! + 0.05);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) problems.push(`contrast ${ratio.toFixed(2)}: ${el.tagName.toLowerCase()} "${(el.textContent ?? '').trim().slice(0, 30)}"`);
    }
    if (document.documentElement.scrollWidth > window.innerWidth + 1) {
      const wide = [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
        .slice(0, 5).map((e) => `${e.tagName.toLowerCase()}.${e.className}`);
      problems.push(`page wider than the screen: ${document.documentElement.scrollWidth} (${wide.join(', ')})`);
    }
    return problems;
  }, minTarget);
}

/** Sums layout shifts not caused by the user's own input (scored like Chrome's CLS) from now on; returns a reader. */
async function trackLayoutShift(page: Page): Promise<() => Promise<number>> {
  await page.evaluate(() => {
    const w = window as unknown as { shift: number };
    w.shift = 0;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries() as unknown as { value: number; hadRecentInput: boolean }[]) if (!e.hadRecentInput) w.shift += e.value;
    }).observe({ type: 'layout-shift', buffered: false });
  });
  return () => page.evaluate(() => (window as unknown as { shift: number }).shift);
}

for (const [kind, viewport] of [['phone-360x740', { width: 360, height: 740 }], ['desktop-1280x800', { width: 1280, height: 800 }]] as const) {
  describe(kind, () => {
    test('home, diagnosis, comparison, history and settings', async () => {
      const { page, context, errors } = await harness.newPage({ viewport });
      await page.goto(shippedAppUrl(harness.baseUrl));
      await waitForModel(page);
      await page.screenshot({ path: screenshotPath(`${kind}-home.png`) });
      if (kind === 'phone-360x740') expect(await controlProblems(page, 40)).toEqual([]);

      // Layout shifts not caused by the user's own tap (the result arriving, the heatmap appearing) are
      // scored like Chrome's CLS; below 0.1 counts as good.
      const layoutShift = await trackLayoutShift(page);
      await page.locator('[data-testid=sample-bean_rust]').click();
      await waitForDiagnosis(page);
      await page.waitForTimeout(300);
      const shift = await layoutShift();
      console.log(`[screens] ${kind}: layout shift while diagnosing ${shift.toFixed(4)}`);
      expect(shift).toBeLessThan(0.1);
      await page.screenshot({ path: screenshotPath(`${kind}-diagnosis.png`) });
      if (kind === 'phone-360x740') {
        await page.locator('.diagnosis').scrollIntoViewIfNeeded();
        await page.screenshot({ path: screenshotPath(`${kind}-result.png`) });
        await page.locator('[data-testid=advice]').scrollIntoViewIfNeeded();
        await page.screenshot({ path: screenshotPath(`${kind}-advice.png`) });
      }
      await page.locator('details.advanced > summary').click();
      await page.locator('[data-testid=compare]').click();
      const methods = await page.locator('[data-testid=method-picker] input').count();
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid^=compare-][data-drawn=true]').length === n, methods, { timeout: SLOW });
      await page.locator('[data-testid=comparison]').scrollIntoViewIfNeeded();
      await page.screenshot({ path: screenshotPath(`${kind}-compare.png`) });
      if (kind === 'phone-360x740') expect(await controlProblems(page, 40)).toEqual([]);

      await page.locator('[data-testid=nav-history]').click();
      await page.locator('[data-testid=history-item]').first().waitFor();
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: screenshotPath(`${kind}-history.png`) });
      if (kind === 'phone-360x740') expect(await controlProblems(page, 40)).toEqual([]);

      await page.locator('[data-testid=nav-settings]').click();
      await page.screenshot({ path: screenshotPath(`${kind}-settings.png`) });
      if (kind === 'phone-360x740') expect(await controlProblems(page, 40)).toEqual([]);
      expect(appErrors(errors)).toEqual([]);
      await context.close();
    }, SLOW * 2);
  });
}

test('Swahili and Spanish result screens; keyboard reaches the photo buttons first', async () => {
  const { page, context } = await harness.newPage({ viewport: { width: 360, height: 740 } });
  await page.goto(appUrl(harness.baseUrl));
  await waitForModel(page);
  await chooseLanguage(page, 'sw');
  await page.locator('[data-testid=sample-healthy]').click();
  await waitForDiagnosis(page);
  await page.screenshot({ path: screenshotPath(`phone-360x740-diagnosis-sw.png`) });
  await page.locator('[data-testid=advice]').scrollIntoViewIfNeeded();
  await expect(page.locator('[data-testid=advice] h2').textContent()).resolves.toMatch(/^La kufanya/);
  await chooseLanguage(page, 'es');
  await page.screenshot({ path: screenshotPath(`phone-360x740-advice-es.png`) });
  await expect(page.locator('[data-testid=advice] h2').textContent()).resolves.toMatch(/^Qué hacer/);

  // Keyboard: the first Tab reaches the skip link; it jumps over header and nav to the main content,
  // whose first stop is the camera input (its label shows the focus ring).
  await page.reload();
  await waitForModel(page);
  await page.keyboard.press('Tab');
  expect(await page.evaluate(() => document.activeElement?.className)).toBe('skip-link');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab');
  expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('photo-input');
  const outline = await page.locator('[data-testid=photo-input] + label').evaluate((el) => getComputedStyle(el).outlineStyle);
  expect(outline).toBe('solid');
  await context.close();
}, SLOW * 2);

test('desktop: a pasted image and a dropped file are diagnosed', async () => {
  const { page, context } = await harness.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(appUrl(harness.baseUrl));
  await waitForModel(page);
  const send = (kind: 'paste' | 'drop', url: string, name: string) => page.evaluate(async ({ kind, url, name }) => {
    const blob = await (await fetch(url)).blob();
    const data = new DataTransfer();
    data.items.add(new File([blob], name, { type: 'image/jpeg' }));
    if (kind === 'paste') window.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true }));
    else document.querySelector('.picker')!.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
  }, { kind, url, name });
  await send('paste', 'samples/healthy.jpg', 'pasted-leaf.jpg');
  await page.waitForSelector('[data-testid=photo-card][data-photo-name="pasted-leaf.jpg"]');
  await waitForDiagnosis(page);
  await send('drop', 'samples/bean_rust.jpg', 'dropped-leaf.jpg');
  await page.waitForSelector('[data-testid=photo-card][data-photo-name="dropped-leaf.jpg"]');
  await waitForDiagnosis(page);
  await context.close();
}, SLOW);

test('a photo chosen while the model downloads stays put when the model becomes ready (no layout jump)', async () => {
  const { page, context, errors } = await harness.newPage({ viewport: { width: 360, height: 740 } });
  // A slow first visit: the weights arrive 5 s late, so the photo is on screen well before the model.
  await page.route('**/models/deit-tiny-beans/model.weights', async (route) => { await new Promise((r) => setTimeout(r, 5000)); await route.continue(); });
  await page.goto(shippedAppUrl(harness.baseUrl));
  const status = page.locator('[data-testid=model-loading]');
  await status.waitFor({ timeout: SLOW });
  const layoutShift = await trackLayoutShift(page);
  await uploadPhoto(page, VAL_PHOTOS.bean_rust);
  const photo = page.locator('[data-testid=photo-card]');
  await photo.waitFor();
  const before = await photo.boundingBox();
  // The progress stays in view (above the bottom nav) while the photo waits.
  const card = await status.boundingBox();
  expect(card && card.y >= 0 && card.y + card.height <= 740).toBe(true);
  await waitForDiagnosis(page);
  expect((await photo.boundingBox())?.y).toBeCloseTo(before!.y, 0);
  const shift = await layoutShift();
  expect(shift).toBeLessThan(0.05);
  expect(appErrors(errors)).toEqual([]);
  await context.close();
}, SLOW * 2);
