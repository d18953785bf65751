// Shared helpers for the app's end-to-end tests (real UI in headless Chromium, fixture model).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import type { BrowserContext, Page } from 'playwright-core';
import { en } from '../../src/i18n/en';
import { es } from '../../src/i18n/es';
import { sw } from '../../src/i18n/sw';

export const FIXTURE_MODEL = 'models/fixture-deit-micro/';
export const BEANS = join(process.cwd(), '..', 'shared', 'data', 'beans');
export const VAL_PHOTOS = {
  angular_leaf_spot: join(BEANS, 'val/angular_leaf_spot/angular_leaf_spot_0004.jpg'),
  bean_rust: join(BEANS, 'val/bean_rust/bean_rust_0004.jpg'),
  healthy: join(BEANS, 'val/healthy/healthy_0004.jpg'),
};
export const LABELS = ['angular_leaf_spot', 'bean_rust', 'healthy'];

/** Where tests write screenshots: an ignored folder, so a test run leaves the tree clean. `npm run screenshots` points
 * it at docs/screenshots to refresh the committed ones. */
export const SCREENSHOT_DIR = process.env.LEAF_LENS_SCREENSHOTS ?? join('.work', 'screenshots');

/** The path for screenshot `name` (e.g. 'phone-360x740-home.png'); the folder is created. */
export function screenshotPath(name: string): string {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return join(SCREENSHOT_DIR, name);
}

/** Diagnosis + drawn heatmap can take a while on software WebGPU / WASM on 2 shared cores. */
export const SLOW = 180_000;

/** The app on the untrained test fixture (small and fast: for flows, not for answers). */
export function appUrl(baseUrl: string, extra = ''): string {
  return `${baseUrl}/index.html?model=${FIXTURE_MODEL}&backend=wasm${extra}`;
}

/** The app on its shipped, trained model (the default), on WASM. */
export function shippedAppUrl(baseUrl: string): string {
  return `${baseUrl}/index.html?backend=wasm`;
}

/** Until the model has settled: ready, missing or failed (the loading card alone can be absent before loading starts). */
export async function waitForModel(page: Page): Promise<void> {
  await page.waitForSelector('[data-model-status=ready], [data-model-status=missing], [data-model-status=error]', { state: 'attached', timeout: SLOW });
}

/** After a first visit: one online reload so the service worker controls the page (its model loaded, so that no
 * request is cut off mid-load), then the network off and a reload that must work from the caches alone. */
export async function reloadOfflineAfterInstall(page: Page, context: BrowserContext): Promise<void> {
  await page.reload();
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: SLOW });
  await waitForModel(page);
  await context.setOffline(true);
  await page.reload();
  await waitForModel(page);
}

/** Picks a language in the header and waits until the page shows it (its strings are a chunk loaded on demand, so
 * the switch is not instant). */
export async function chooseLanguage(page: Page, code: 'en' | 'es' | 'sw'): Promise<void> {
  const navText = { en: en.nav.diagnose, es: es.nav.diagnose, sw: sw.nav.diagnose }[code];
  await page.locator('[data-testid=language]').selectOption(code);
  await page.waitForFunction(([lang, text]) => document.documentElement.lang === lang &&
    document.querySelector('[data-testid=nav-diagnose]')?.textContent === text, [code, navText] as const, { timeout: 30_000 });
}

/** Uploads through the camera input and waits for the diagnosis and its drawn heatmap. */
export async function diagnoseFile(page: Page, path: string): Promise<string> {
  await uploadPhoto(page, path);
  return waitForDiagnosis(page);
}

/** Uploads and waits until the app has taken this file as its photo (so no earlier result is read).
 * File names must differ from the previous upload's. */
export async function uploadPhoto(page: Page, path: string): Promise<void> {
  await page.setInputFiles('[data-testid=photo-input]', path);
  await page.waitForSelector(`[data-testid=photo-card][data-photo-name="${basename(path)}"]`, { timeout: 30_000 });
}

export async function waitForDiagnosis(page: Page): Promise<string> {
  const result = page.locator('[data-testid=diagnosis]');
  await result.waitFor({ timeout: SLOW });
  await page.waitForSelector('[data-testid=heatmap][data-drawn=true]', { timeout: SLOW });
  await page.waitForFunction(() => document.querySelector('.photo-box.busy') === null, undefined, { timeout: SLOW });
  return (await result.getAttribute('data-label')) ?? '';
}

export interface PixelStats {
  mean: [number, number, number];
  /** Mean over channels of each channel's standard deviation. */
  std: number;
  width: number;
  height: number;
}

/** Decodes a PNG screenshot in the page (no Node image library needed) and measures it. */
export async function pixelStats(page: Page, png: Buffer, region?: { x0: number; y0: number; x1: number; y1: number }): Promise<PixelStats> {
  return page.evaluate(async ({ b64, region }) => {
    const bitmap = await createImageBitmap(await (await fetch(`data:image/png;base64,${b64}`)).blob());
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d')!;
    ctx.drawImage(bitmap, 0, 0);
    const r = region ?? { x0: 0, y0: 0, x1: 1, y1: 1 };
    const x0 = Math.floor(r.x0 * bitmap.width);
    const y0 = Math.floor(r.y0 * bitmap.height);
    const w = Math.max(1, Math.floor((r.x1 - r.x0) * bitmap.width));
    const h = Math.max(1, Math.floor((r.y1 - r.y0) * bitmap.height));
    const data = ctx.getImageData(x0, y0, w, h).data;
    const n = w * h;
    const sum = [0, 0, 0];
    const sq = [0, 0, 0];
    for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) { const v = data[i * 4 + c]!; sum[c]! += v; sq[c]! += v * v; }
    const mean = sum.map((s) => s / n) as [number, number, number];
    const std = sq.map((s, c) => Math.sqrt(Math.max(0, s / n - mean[c]! ** 2))).reduce((a, b) => a + b, 0) / 3;
    return { mean, std, width: bitmap.width, height: bitmap.height };
  }, { b64: png.toString('base64'), region });
}

/** Mean absolute difference (0..255) between two same-sized PNG screenshots, decoded in the page. */
export async function pixelDifference(page: Page, a: Buffer, b: Buffer): Promise<number> {
  return page.evaluate(async ({ a64, b64 }) => {
    const load = async (s: string) => createImageBitmap(await (await fetch(`data:image/png;base64,${s}`)).blob());
    const [ia, ib] = await Promise.all([load(a64), load(b64)]);
    const w = Math.min(ia.width, ib.width);
    const h = Math.min(ia.height, ib.height);
    const read = (img: ImageBitmap) => {
      const c = new OffscreenCanvas(w, h).getContext('2d')!;
      c.drawImage(img, 0, 0);
      return c.getImageData(0, 0, w, h).data;
    };
    const da = read(ia);
    const db = read(ib);
    let total = 0;
    for (let i = 0; i < da.length; i += 4) for (let c = 0; c < 3; c++) total += Math.abs(da[i + c]! - db[i + c]!);
    return total / (w * h * 3);
  }, { a64: a.toString('base64'), b64: b.toString('base64') });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function convert(args: string[]): void {
  execFileSync('convert', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
}

/** A JPEG with an EXIF APP1 segment saying "rotate 90° clockwise to display" (orientation 6). */
export function withExifOrientation(jpeg: Buffer, orientation: number): Buffer {
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new Error('not a JPEG');
  const tiff = Buffer.from([
    0x4d, 0x4d, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x08, // big-endian TIFF header, IFD at 8
    0x00, 0x01, // one entry
    0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, orientation, 0x00, 0x00, // Orientation, SHORT, 1
    0x00, 0x00, 0x00, 0x00, // no next IFD
  ]);
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const length = payload.length + 2;
  const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, length >> 8, length & 0xff]), payload]);
  return Buffer.concat([jpeg.subarray(0, 2), app1, jpeg.subarray(2)]);
}

export function writeFile(dir: string, name: string, data: Buffer | string): string {
  const path = join(dir, name);
  writeFileSync(path, data);
  return path;
}

/** Console errors that are the app's fault (not Vite's dev-server chatter). */
export function appErrors(errors: string[]): string[] {
  return errors.filter((e) => !/\[vite\]|React DevTools|favicon/i.test(e));
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([length, body, crc]);
}

/** A large RGB PNG written directly (ImageMagick's resource limits make 10000² slow or impossible):
 * horizontal bands of greens, so it is not one flat colour. */
export function bigPng(width: number, height: number): Buffer {
  const stride = 1 + width * 3;
  const raw = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    const g = 80 + ((y >> 6) % 8) * 20;
    for (let x = 0; x < width; x++) {
      const o = row + 1 + x * 3;
      raw[o] = 30;
      raw[o + 1] = g;
      raw[o + 2] = 40;
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(raw, { level: 1 })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}
