// Knowing when it does not know, through the real UI: the not-a-bean-leaf screen (no disease name, no advice,
// a retake guide, the expert's "show the guess anyway"), the notice for a head that cannot check, bean photos
// unaffected, and a field check of several leaves with one combined answer.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startBrowserHarness, type BrowserHarness } from '../browser/harness';
import {
  appErrors, chooseLanguage, appUrl, convert, diagnoseFile, FIXTURE_MODEL, shippedAppUrl, SLOW, tempDir, VAL_PHOTOS, waitForModel, writeFile,
  screenshotPath,
} from './helpers';

let harness: BrowserHarness;
beforeAll(async () => { harness = await startBrowserHarness(); }, SLOW);
afterAll(async () => { await harness?.close(); });

const CLASS_NAMES = /angular leaf spot|bean rust|healthy leaf/i;
/** A portrait from the repository's non-leaf set (test/fixtures/ood, with its SOURCES.md): a photo with no plant in
 * it at all, like the portrait the issue reports as "Bean rust · 83 % sure". */
const NON_LEAF_PHOTO = 'test/fixtures/ood/non-leaf/skimage-astronaut.jpg';

function nonLeafPhoto(): string {
  const path = join(process.cwd(), NON_LEAF_PHOTO);
  if (!existsSync(path)) throw new Error(`no photo ${NON_LEAF_PHOTO}`);
  return path;
}

async function loadHead(page: Page, path: string, name: string): Promise<void> {
  await page.locator('[data-testid=nav-settings]').click();
  await page.setInputFiles('[data-testid=head-input]', path);
  await page.waitForSelector(`text=${name}`, { timeout: 30_000 });
  await page.locator('[data-testid=nav-diagnose]').click();
}

/** The fixture head plus statistics whose open-set threshold no photo can pass: every photo is refused. */
function refuseEverythingHead(): object {
  const head = JSON.parse(readFileSync(`public/${FIXTURE_MODEL}head.json`, 'utf8')) as { labels: string[]; features: number };
  const f = head.features;
  const classes = head.labels.length;
  const counts = Array.from({ length: classes }, () => 20);
  const n = counts.reduce((a, b) => a + b, 0);
  const scatter = Array.from({ length: f }, (_, i) => Array.from({ length: f }, (_, j) => (i === j ? (n - classes) / f : 0)));
  const means = Array.from({ length: classes }, (_, c) => Array.from({ length: f }, (_, i) => (i === c ? 1 : 0)));
  return {
    ...head,
    statistics: { feature_norm: 'l2', class_means: means, class_counts: counts, scatter, shrinkage: 0.1 },
    open_set: { score: 'mahalanobis', threshold: 1e-9 },
  };
}

function withoutStatistics(): object {
  const head = JSON.parse(readFileSync(`public/${FIXTURE_MODEL}head.json`, 'utf8')) as Record<string, unknown>;
  const { statistics: _s, open_set: _o, calibration: _c, confidence: _k, ...rest } = head;
  return rest;
}

describe('not a bean leaf', () => {
  test('a refused photo gets its own screen: no disease name, no advice; the guess only on request, marked out of domain', async () => {
    const { page, context, errors } = await harness.newPage({ viewport: { width: 360, height: 740 } });
    await page.goto(appUrl(harness.baseUrl));
    await waitForModel(page);
    const dir = tempDir('leaf-lens-outcome-');

    // A head without statistics: answers as before, with the plain notice that it cannot check.
    await loadHead(page, writeFile(dir, 'no-stats-head.json', JSON.stringify(withoutStatistics())), 'no-stats-head.json');
    // Said before any photo, in settings, and with every answer.
    await expect(page.locator('[data-testid=domain-unchecked]').count()).resolves.toBe(1);
    await page.locator('[data-testid=nav-settings]').click();
    await expect(page.locator('[data-testid=settings] [data-testid=domain-unchecked]').count()).resolves.toBe(1);
    await page.locator('[data-testid=nav-diagnose]').click();
    await diagnoseFile(page, VAL_PHOTOS.bean_rust);
    const result = page.locator('[data-testid=diagnosis]');
    expect(['sure', 'unsure']).toContain(await result.getAttribute('data-outcome'));
    await expect(page.locator('[data-testid=domain-unchecked]').textContent()).resolves.toMatch(/cannot check whether a photo shows a bean leaf/);
    await expect(page.locator('[data-testid=advice]').count()).resolves.toBe(1);

    // A head that refuses every photo.
    await loadHead(page, writeFile(dir, 'refuse-all-head.json', JSON.stringify(refuseEverythingHead())), 'refuse-all-head.json');
    await diagnoseFile(page, VAL_PHOTOS.healthy);
    await expect(result.getAttribute('data-outcome')).resolves.toBe('not-bean-leaf');
    const card = page.locator('section.diagnosis');
    const text = (await card.textContent()) ?? '';
    expect(text).toMatch(/does not look like a bean leaf/);
    expect(text).not.toMatch(CLASS_NAMES);
    expect(text).not.toMatch(/%/);
    await expect(page.locator('[data-testid=advice]').count()).resolves.toBe(0);
    await expect(page.locator('[data-testid=class-picker]').count()).resolves.toBe(0);
    await expect(page.locator('.result-line').textContent()).resolves.toMatch(/Not a bean leaf/);
    await expect(page.locator('[data-testid=domain-unchecked]').count()).resolves.toBe(0);

    // The expert's way: the guess, marked out of domain, still without advice; and back.
    await page.locator('[data-testid=show-guess]').click();
    await page.waitForSelector('[data-testid=diagnosis][data-out-of-domain=true]');
    await expect(result.getAttribute('data-outcome')).resolves.toBe('not-bean-leaf');
    await expect(page.locator('[data-testid=out-of-domain]').textContent()).resolves.toMatch(/OUT OF DOMAIN/);
    await expect(card.textContent()).resolves.toMatch(CLASS_NAMES);
    await expect(page.locator('[data-testid=advice]').count()).resolves.toBe(0);
    await page.locator('[data-testid=hide-guess]').click();
    await page.waitForSelector('[data-testid=show-guess]');
    await expect(card.textContent()).resolves.not.toMatch(CLASS_NAMES);

    // Spanish and Swahili say it too.
    await chooseLanguage(page, 'sw');
    await expect(card.textContent()).resolves.toMatch(/Hii haionekani kuwa jani la maharagwe/);
    await chooseLanguage(page, 'es');
    await expect(card.textContent()).resolves.toMatch(/Esto no parece una hoja de frijol/);
    expect(appErrors(errors)).toEqual([]);
    await context.close();
  }, SLOW * 3);

  test('shipped model: val photos of each class are not refused; a photo that is not a leaf is, with no advice', async () => {
    const { page, context, errors } = await harness.newPage({ viewport: { width: 360, height: 740 } });
    await page.goto(shippedAppUrl(harness.baseUrl));
    await waitForModel(page);
    const result = page.locator('[data-testid=diagnosis]');
    for (const photo of Object.values(VAL_PHOTOS)) {
      await diagnoseFile(page, photo);
      expect(await result.getAttribute('data-outcome')).not.toBe('not-bean-leaf');
      await expect(page.locator('[data-testid=domain-unchecked]').count()).resolves.toBe(0);
    }
    await diagnoseFile(page, nonLeafPhoto());
    await expect(result.getAttribute('data-outcome')).resolves.toBe('not-bean-leaf');
    await expect(page.locator('[data-testid=advice]').count()).resolves.toBe(0);
    await expect(page.locator('section.diagnosis').textContent()).resolves.not.toMatch(CLASS_NAMES);
    await page.locator('section.diagnosis').evaluate((el) => { el.scrollIntoView({ block: 'start' }); window.scrollBy(0, -72); });
    await page.screenshot({ path: screenshotPath('phone-360x740-not-bean-leaf.png') });

    // A field check with that photo among two bean leaves: it is left out with a note, the leaves answer.
    await page.locator('[data-testid=mode-group]').click();
    await page.setInputFiles('[data-testid=group-input]', [VAL_PHOTOS.bean_rust, nonLeafPhoto(), VAL_PHOTOS.angular_leaf_spot]);
    const answer = page.locator('[data-testid=group-diagnosis][data-busy=false][data-leaves="3"]');
    await answer.waitFor({ timeout: SLOW });
    await expect(answer.getAttribute('data-refused')).resolves.toBe('1');
    await expect(answer.getAttribute('data-judged')).resolves.toBe('2');
    expect(await answer.getAttribute('data-outcome')).not.toBe('not-bean-leaf');
    await expect(page.locator('[data-testid=group-refused-note]').textContent()).resolves.toMatch(/1 photo was left out/);
    await expect(page.locator('[data-testid=group-leaf][data-outcome=not-bean-leaf]').count()).resolves.toBe(1);
    await page.screenshot({ path: screenshotPath('phone-360x740-field-check.png'), fullPage: true });
    expect(appErrors(errors)).toEqual([]);
    await context.close();
  }, SLOW * 3);
});

describe('photo quality', () => {
  test('a dark photo and a blurred one each get their own advice, and are never answered as sure', async () => {
    const dir = tempDir('leaf-lens-quality-');
    const dark = join(dir, 'dark-leaf.jpg');
    const blurry = join(dir, 'blurry-leaf.jpg');
    convert([VAL_PHOTOS.healthy, '-evaluate', 'multiply', '0.12', dark]);
    convert([VAL_PHOTOS.healthy, '-blur', '0x5', blurry]);
    const { page, context, errors } = await harness.newPage({ viewport: { width: 360, height: 740 } });
    await page.goto(appUrl(harness.baseUrl));
    await waitForModel(page);
    const result = page.locator('[data-testid=diagnosis]');
    await diagnoseFile(page, dark);
    await expect(page.locator('[data-testid=photo-quality] [data-issue=too-dark]').textContent()).resolves.toMatch(/Too dark: take the photo in daylight/);
    expect(await result.getAttribute('data-outcome')).not.toBe('sure');
    await diagnoseFile(page, blurry);
    await expect(page.locator('[data-testid=photo-quality] [data-issue=blurred]').textContent()).resolves.toMatch(/hold the phone still/);
    await expect(page.locator('[data-testid=photo-quality] [data-issue=too-dark]').count()).resolves.toBe(0);
    expect(await result.getAttribute('data-outcome')).not.toBe('sure');
    // A clean val photo raises no quality problem.
    await diagnoseFile(page, VAL_PHOTOS.bean_rust);
    await expect(page.locator('[data-testid=photo-quality]').count()).resolves.toBe(0);
    expect(appErrors(errors)).toEqual([]);
    await context.close();
  }, SLOW * 3);
});

describe('field check', () => {
  test('several leaves give one combined answer; each leaf and its heatmap one tap away; at most six', async () => {
    const { page, context, errors } = await harness.newPage({ viewport: { width: 360, height: 740 } });
    await page.goto(appUrl(harness.baseUrl));
    await waitForModel(page);
    await page.locator('[data-testid=mode-group]').click();
    const leaves = Object.values(VAL_PHOTOS);
    await page.setInputFiles('[data-testid=group-input]', leaves);
    const answer = page.locator('[data-testid=group-diagnosis][data-busy=false][data-leaves="3"]');
    await answer.waitFor({ timeout: SLOW });
    await expect(page.locator('[data-testid=group-leaf][data-status=done]').count()).resolves.toBe(3);
    expect(['sure', 'unsure']).toContain(await answer.getAttribute('data-outcome'));
    expect(['angular_leaf_spot', 'bean_rust', 'healthy']).toContain(await answer.getAttribute('data-label'));
    await expect(answer.getAttribute('data-judged')).resolves.toBe('3');
    // Combined bars sum to about 100 %.
    const values = await page.locator('.group-result .bar-track').evaluateAll((els) => els.map((e) => Number(e.getAttribute('aria-valuenow'))));
    expect(Math.abs(values.reduce((a, b) => a + b, 0) - 100)).toBeLessThanOrEqual(2);

    // One tap: leaf 2's own result and heatmap.
    await page.locator('[data-testid=group-leaf-open]').nth(1).click();
    await page.waitForSelector(`[data-testid=group-leaf-detail][data-photo-name="${leaves[1]!.split('/').pop()}"]`);
    await page.waitForSelector('[data-testid=group-leaf-heatmap][data-drawn=true]', { timeout: SLOW });
    await expect(page.locator('[data-testid=diagnosis]').count()).resolves.toBe(1);
    await page.locator('[data-testid=group-leaf-close]').click();
    await answer.waitFor();

    // Removing a leaf recombines; more than six photos are cut to six with a note.
    await page.locator('[data-testid=group-leaf-remove]').first().click();
    await page.locator('[data-testid=group-diagnosis][data-leaves="2"]').waitFor({ timeout: SLOW });
    const dir = tempDir('leaf-lens-group-');
    const extra = Array.from({ length: 5 }, (_, i) => writeFile(dir, `leaf-${i}.jpg`, readFileSync(leaves[i % 3]!)));
    await page.setInputFiles('[data-testid=group-input]', extra);
    await page.locator('[data-testid=group-diagnosis][data-busy=false][data-leaves="6"]').waitFor({ timeout: SLOW });
    await expect(page.locator('[data-testid=group-overflow]').textContent()).resolves.toMatch(/at most 6 leaves; 1 photos? (was|were) left out/);
    await expect(page.locator('[data-testid=group-input]').isDisabled()).resolves.toBe(true);

    // The single-leaf screen is still there, unchanged.
    await page.locator('[data-testid=mode-single]').click();
    await diagnoseFile(page, VAL_PHOTOS.healthy);
    expect(appErrors(errors)).toEqual([]);
    await context.close();
  }, SLOW * 4);

  test('leaves refused as not bean leaves are left out with a note; all refused gives no answer', async () => {
    const { page, context, errors } = await harness.newPage({ viewport: { width: 360, height: 740 } });
    await page.goto(appUrl(harness.baseUrl));
    await waitForModel(page);
    const dir = tempDir('leaf-lens-outcome-');
    await loadHead(page, writeFile(dir, 'refuse-all-head.json', JSON.stringify(refuseEverythingHead())), 'refuse-all-head.json');
    await page.locator('[data-testid=mode-group]').click();
    await page.setInputFiles('[data-testid=group-input]', [VAL_PHOTOS.bean_rust, VAL_PHOTOS.healthy]);
    const answer = page.locator('[data-testid=group-diagnosis][data-busy=false][data-leaves="2"]');
    await answer.waitFor({ timeout: SLOW });
    await expect(answer.getAttribute('data-outcome')).resolves.toBe('not-bean-leaf');
    await expect(answer.getAttribute('data-refused')).resolves.toBe('2');
    await expect(page.locator('[data-testid=group-refused-note]').textContent()).resolves.toMatch(/2 photos were left out/);
    await expect(page.locator('.group-result').textContent()).resolves.not.toMatch(CLASS_NAMES);
    await expect(page.locator('[data-testid=advice]').count()).resolves.toBe(0);
    expect(appErrors(errors)).toEqual([]);
    await context.close();
  }, SLOW * 3);
});
