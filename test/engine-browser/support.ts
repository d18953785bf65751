// Shared plumbing for the engine's browser tests: the driver page, model folders served through page.route
// (optionally with broken bytes or a rewritten manifest), and test images.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { startBrowserHarness, type BrowserHarness } from '../browser/harness';

/** The model pipeline's random-init fixture (trained:false), committed under public/models. */
export const FIXTURE_MODEL_DIR = process.env.LEAF_LENS_FIXTURE_MODEL ?? join(process.cwd(), 'public/models/fixture-deit-micro');

export const IMAGES_DIR = join(process.cwd(), 'test/fixtures/images');

export async function openDriver(harness: BrowserHarness): Promise<{ page: Page; errors: string[]; close: () => Promise<void> }> {
  const { page, context, errors } = await harness.newPage();
  await page.goto(`${harness.baseUrl}/test/engine-browser/driver.html`);
  await page.waitForFunction(() => window.leafLensReady === true, undefined, { timeout: 60_000 });
  return { page, errors, close: () => context.close() };
}

export interface ModelEdit {
  /** Replaces a file's bytes (the manifest still lists the original size and sha256 unless `manifest` says otherwise). */
  files?: Record<string, (bytes: Buffer) => Buffer>;
  /** Rewrites the manifest JSON (after `files`; `rehash` recomputes sizes and sha256 of every listed file). */
  manifest?: (manifest: Record<string, unknown>) => void;
  rehash?: boolean;
  /** Files answered with 404. */
  missing?: string[];
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Serves `dir` at `${baseUrl}/test-models/${name}/` with the given edits; returns the folder URL. */
export async function serveModel(page: Page, baseUrl: string, name: string, dir: string, edit: ModelEdit = {}): Promise<string> {
  if (!existsSync(join(dir, 'manifest.json'))) throw new Error(`no fixture model at ${dir}: run the model pipeline's export first`);
  const files = new Map<string, Buffer>();
  for (const file of readdirSync(dir)) files.set(file, readFileSync(join(dir, file)));
  for (const [file, change] of Object.entries(edit.files ?? {})) files.set(file, change(files.get(file)!));
  const manifest = JSON.parse(files.get('manifest.json')!.toString('utf8')) as Record<string, unknown> & { files: { path: string; sha256: string; bytes: number }[] };
  if (edit.rehash) {
    for (const entry of manifest.files) {
      const bytes = files.get(entry.path);
      if (bytes) { entry.sha256 = sha256(bytes); entry.bytes = bytes.length; }
    }
    const weights = manifest.files.find((f) => f.path === 'model.weights');
    if (weights) manifest.backbone_sha256 = weights.sha256;
  }
  edit.manifest?.(manifest);
  files.set('manifest.json', Buffer.from(JSON.stringify(manifest)));
  const prefix = `${baseUrl}/test-models/${name}/`;
  await page.route(`${prefix}**`, async (route) => {
    const file = decodeURIComponent(route.request().url().slice(prefix.length).split('?')[0]!);
    const body = files.get(file);
    if (!body || edit.missing?.includes(file)) return route.fulfill({ status: 404, body: 'not found', contentType: 'text/plain' });
    return route.fulfill({ status: 200, body, contentType: file.endsWith('.json') ? 'application/json' : 'application/octet-stream' });
  });
  return prefix;
}

export function imageBase64(name: string): string {
  return readFileSync(join(IMAGES_DIR, name)).toString('base64');
}

/** A solid-colour PNG of any size without ever holding its pixels: rows are identical, so deflate them once each. */
export function solidPng(width: number, height: number, rgb: [number, number, number]): Buffer {
  const row = Buffer.alloc(1 + width * 3);
  for (let x = 0; x < width; x++) row.set(rgb, 1 + x * 3);
  const raw = Buffer.alloc(row.length * height);
  for (let y = 0; y < height; y++) row.copy(raw, y * row.length);
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 6 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** One Chromium, a driver page and the fixture model served to it, shared by every test of a file (set up in beforeAll,
 * closed in afterAll); read `driver` and `modelUrl` inside tests, once beforeAll has run. */
export function fixtureDriverPerFile(): { readonly driver: Awaited<ReturnType<typeof openDriver>>; readonly modelUrl: string } {
  let harness: BrowserHarness | undefined;
  const state = {} as { driver: Awaited<ReturnType<typeof openDriver>>; modelUrl: string };
  beforeAll(async () => {
    harness = await startBrowserHarness();
    state.driver = await openDriver(harness);
    state.modelUrl = await serveModel(state.driver.page, harness.baseUrl, 'fixture', FIXTURE_MODEL_DIR);
  });
  afterAll(async () => {
    await state.driver?.close();
    await harness?.close();
  });
  return state;
}
