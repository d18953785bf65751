// Bad photos through the real UI: each one ends in a diagnosis or a clear message — never a blank screen,
// never an uncaught error. Test images are made with ImageMagick in a temp dir at test time.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startBrowserHarness, type BrowserHarness } from '../browser/harness';
import {
  appErrors, appUrl, bigPng, convert, uploadPhoto, pixelStats, SLOW, tempDir, VAL_PHOTOS, waitForDiagnosis, waitForModel, withExifOrientation,
  writeFile,
} from './helpers';

let harness: BrowserHarness;
let dir: string;

interface Case {
  name: string;
  file: () => string;
  /** 'diagnosis' | an error code the engine must give. */
  expect: 'diagnosis' | string;
}

const leaf = VAL_PHOTOS.bean_rust;
const cases: Case[] = [
  { name: 'corrupt JPEG', expect: 'image-undecodable', file: () => {
    const bytes = Buffer.from(readFileSync(leaf));
    for (let i = 600; i < bytes.length; i += 7) bytes[i] = (bytes[i]! * 31 + 17) & 0xff; // scramble the scan data
    // Keep the SOI/APPn headers so the file still sniffs as JPEG; break the markers too.
    bytes.fill(0xff, 200, 400);
    return writeFile(dir, 'corrupt.jpg', bytes);
  } },
  { name: 'truncated JPEG', expect: 'any', file: () => writeFile(dir, 'truncated.jpg', readFileSync(leaf).subarray(0, 300)) },
  { name: 'zero-byte file', expect: 'image-empty', file: () => writeFile(dir, 'empty.jpg', Buffer.alloc(0)) },
  { name: 'text named .jpg', expect: 'image-unsupported-format', file: () => writeFile(dir, 'notes.jpg', 'this is not a photo\n'.repeat(20)) },
  { name: '1×1 image', expect: 'image-too-small', file: () => { convert(['-size', '1x1', 'xc:green', `${dir}/one.png`]); return `${dir}/one.png`; } },
  { name: '10000×10000 PNG', expect: 'diagnosis', file: () => {
    return writeFile(dir, 'huge.png', bigPng(10_000, 10_000));
  } },
  { name: 'PNG with alpha', expect: 'diagnosis', file: () => {
    convert([leaf, '-alpha', 'set', '-channel', 'A', '-evaluate', 'set', '50%', '+channel', `${dir}/alpha.png`]);
    return `${dir}/alpha.png`;
  } },
  { name: 'animated GIF', expect: 'diagnosis', file: () => {
    convert(['-delay', '20', leaf, VAL_PHOTOS.healthy, '-loop', '0', `${dir}/anim.gif`]);
    return `${dir}/anim.gif`;
  } },
  { name: 'SVG', expect: 'image-unsupported-format', file: () => writeFile(dir, 'leaf.svg', '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><circle cx="50" cy="50" r="40" fill="green"/></svg>') },
  { name: 'HEIC', expect: 'image-unsupported-format', file: () => {
    try {
      convert([leaf, `${dir}/leaf.heic`]);
      return `${dir}/leaf.heic`;
    } catch {
      // ImageMagick without a HEIF encoder: an ISO-BMFF 'ftyp heic' header followed by junk, as a phone's
      // HEIC begins (the app must recognise the format from those bytes, not decode it).
      const ftyp = Buffer.from([0, 0, 0, 24, ...Buffer.from('ftypheic'), 0, 0, 0, 0, ...Buffer.from('mif1heic')]);
      return writeFile(dir, 'leaf-header-only.heic', Buffer.concat([ftyp, Buffer.alloc(2000, 7)]));
    }
  } },
  { name: 'CMYK JPEG', expect: 'diagnosis', file: () => { convert([leaf, '-colorspace', 'CMYK', `${dir}/cmyk.jpg`]); return `${dir}/cmyk.jpg`; } },
];

beforeAll(async () => {
  dir = tempDir('leaf-lens-bad-');
  harness = await startBrowserHarness();
}, SLOW);
afterAll(async () => { await harness?.close(); });

test('every bad input gives a diagnosis or a clear message, and the app keeps working', async () => {
  const { page, context, errors } = await harness.newPage({ viewport: { width: 360, height: 740 } });
  await page.goto(appUrl(harness.baseUrl));
  await waitForModel(page);
  const outcomes: Record<string, string> = {};
  const texts: Record<string, string> = {};
  for (const c of cases) {
    const started = Date.now();
    const path = c.file();
    await uploadPhoto(page, path);
    const settled = await Promise.race([
      page.waitForSelector('[data-testid=photo-card] [data-testid=error]', { timeout: SLOW }).then(() => 'error', () => 'timeout'),
      waitForDiagnosis(page).then(() => 'diagnosis', () => 'timeout'),
    ]);
    if (settled === 'error') {
      const error = page.locator('[data-testid=photo-card] [data-testid=error]');
      const code = (await error.getAttribute('data-code')) ?? '';
      const text = (await error.locator('.error-text').textContent()) ?? '';
      expect(text.length, `${c.name}: message too short`).toBeGreaterThan(15);
      expect(text, `${c.name}: message must be plain words`).not.toMatch(/undefined|\[object|Error:/);
      outcomes[c.name] = code;
      texts[c.name] = text;
    } else {
      outcomes[c.name] = 'diagnosis';
    }
    console.log(`[bad input] ${c.name}: ${outcomes[c.name]} after ${Date.now() - started} ms`);
    // Never a blank screen: the picker is still there and usable.
    await expect(page.locator('[data-testid=photo-input]').count()).resolves.toBe(1);
  }
  for (const c of cases) {
    if (c.expect === 'any') expect(outcomes[c.name], c.name).toBeTruthy();
    else expect(outcomes[c.name], c.name).toBe(c.expect);
  }
  expect(outcomes.HEIC).toBe('image-unsupported-format');
  // HEIC: say how to convert, not just "unsupported".
  expect(texts.HEIC).toMatch(/JPEG/);

  // After all that, a good photo still works.
  await uploadPhoto(page, leaf);
  await waitForDiagnosis(page);
  expect(appErrors(errors).filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
  await context.close();
}, SLOW * 6);

test('an EXIF-rotated JPEG is shown upright and the heatmap lines up with it', async () => {
  // Stored pixels: left half red, right half blue. EXIF orientation 6 = rotate 90° clockwise to display,
  // so the upright photo has red on top and blue at the bottom.
  convert(['-size', '200x200', 'xc:red', '-size', '200x200', 'xc:blue', '+append', '-quality', '95', `${dir}/halves.jpg`]);
  const rotated = writeFile(dir, 'rotated.jpg', withExifOrientation(readFileSync(`${dir}/halves.jpg`), 6));
  const { page, context } = await harness.newPage({ viewport: { width: 360, height: 740 } });
  await page.goto(appUrl(harness.baseUrl));
  await waitForModel(page);
  await page.setInputFiles('[data-testid=photo-input]', rotated);
  await waitForDiagnosis(page);
  await page.locator('[data-testid=opacity]').fill('0');
  await page.waitForTimeout(300);
  await waitForDiagnosis(page);
  const canvas = page.locator('[data-testid=heatmap]');
  const shot = await canvas.screenshot();
  const top = await pixelStats(page, shot, { x0: 0.3, y0: 0.05, x1: 0.7, y1: 0.3 });
  const bottom = await pixelStats(page, shot, { x0: 0.3, y0: 0.7, x1: 0.7, y1: 0.95 });
  expect(top.mean[0]).toBeGreaterThan(top.mean[2] + 80);
  expect(bottom.mean[2]).toBeGreaterThan(bottom.mean[0] + 80);
  // The preview <img> (shown before the canvas) must agree with the canvas.
  const preview = await page.locator('[data-testid=photo-preview]').evaluate((img: HTMLImageElement) => getComputedStyle(img).imageOrientation);
  expect(preview).toBe('from-image');
  await context.close();
}, SLOW * 2);
