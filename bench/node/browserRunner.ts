// Node side of the browser benches: Vite (dev server over the repo) plus two read-only mounts, the model
// folder at /__bench/model/ and a photo folder at /__bench/data/, and headless Chromium driving bench/index.html.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Plugin } from 'vite';
import { CHROMIUM_ARGS, CHROMIUM_PATH, startViteServer } from '../../test/browser/harness';

/** Headless Debian Chromium loses its WebGPU instance once a WebGPU canvas hands out a texture unless ANGLE
 * runs on Vulkan (found by the kernel tests, test/gpu/kernels.test.ts); the bench draws to canvases. */
export const WEBGPU_CANVAS_ARGS = ['--use-angle=vulkan', '--enable-features=Vulkan,VulkanFromANGLE'];

export const MODEL_MOUNT = '/__bench/model/';
export const DATA_MOUNT = '/__bench/data/';

const CONTENT_TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
};

/** Serves files under `dir` at `mount` (GET only, no listing, no climbing out). */
function mountFolder(mount: string, dir: string): Plugin {
  const root = resolve(dir);
  return {
    name: `leaf-lens-bench-mount:${mount}`,
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const url = req.url ? decodeURIComponent(req.url.split('?')[0]!) : '';
        if (!url.startsWith(mount)) return next();
        const file = normalize(join(root, url.slice(mount.length)));
        if (!file.startsWith(root + sep) || !existsSync(file) || !statSync(file).isFile()) {
          res.statusCode = 404;
          res.end('not found');
          return;
        }
        res.setHeader('Content-Type', CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream');
        res.setHeader('Content-Length', String(statSync(file).size));
        res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
        res.setHeader('Cache-Control', 'no-store');
        createReadStream(file).pipe(res);
      });
    },
  };
}

export interface BenchBrowser {
  baseUrl: string;
  browser: Browser;
  /** A fresh context and page on bench/index.html with console lines forwarded; wait for `leafLensBench`. */
  openBenchPage(): Promise<{ page: Page; close(): Promise<void> }>;
  close(): Promise<void>;
}

export async function startBenchBrowser(options: { modelDir: string; dataDir?: string; log: (line: string) => void }): Promise<BenchBrowser> {
  const plugins = [mountFolder(MODEL_MOUNT, options.modelDir)];
  if (options.dataDir) plugins.push(mountFolder(DATA_MOUNT, options.dataDir));
  const { server, baseUrl } = await startViteServer(plugins);
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    // Precise heap sizes, and gc() so that heap samples count live objects, not garbage awaiting collection.
    args: [...CHROMIUM_ARGS, ...WEBGPU_CANVAS_ARGS, '--enable-precise-memory-info', '--js-flags=--expose-gc'],
    headless: true,
  });
  return {
    baseUrl,
    browser,
    async openBenchPage() {
      const context = await browser.newContext({ viewport: { width: 1024, height: 768 } });
      const page = await context.newPage();
      page.on('console', (msg) => {
        const text = msg.text();
        if (msg.type() === 'error' || msg.type() === 'warning') options.log(`[page ${msg.type()}] ${text}`);
        else if (text.startsWith('[bench]')) options.log(text);
      });
      page.on('pageerror', (err) => options.log(`[page error] ${String(err)}`));
      await page.goto(`${baseUrl}/bench/index.html`);
      await page.waitForFunction(() => 'leafLensBench' in window, undefined, { timeout: 120_000 });
      return { page, close: () => context.close() };
    },
    async close() {
      await browser.close();
      await server.close();
    },
  };
}

export async function browserVersion(browser: Browser): Promise<string> {
  return `Chromium ${browser.version()} (headless, ${CHROMIUM_PATH})`;
}
