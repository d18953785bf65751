// Shared plumbing for browser tests: one Vite dev server over the repo and headless Debian Chromium
// driven by playwright-core. WebGPU there is SwiftShader (software): fine for correctness, not speed.
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createServer, type Plugin, type ViteDevServer } from 'vite';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu-sandbox',
  '--enable-unsafe-webgpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

export interface BrowserHarness {
  baseUrl: string;
  browser: Browser;
  /** A fresh context + page; console errors and page errors are collected in `errors`. */
  newPage(options?: { viewport?: { width: number; height: number } }): Promise<{ context: BrowserContext; page: Page; errors: string[] }>;
  close(): Promise<void>;
}

/** Starts Vite (dev server, repo root) and Chromium. Call `close()` in afterAll. */
/** The repo's Vite dev server on a free loopback port (extra plugins can mount more folders). */
export async function startViteServer(plugins: Plugin[] = []): Promise<{ server: ViteDevServer; baseUrl: string }> {
  const server = await createServer({
    configFile: join(process.cwd(), 'vite.config.ts'),
    server: { port: 0, host: '127.0.0.1', strictPort: false, hmr: false },
    logLevel: 'error',
    plugins,
  });
  await server.listen();
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') throw new Error('Vite did not report a port');
  return { server, baseUrl: `http://127.0.0.1:${address.port}` };
}

export async function startBrowserHarness(): Promise<BrowserHarness> {
  const { server, baseUrl } = await startViteServer();
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    // playwright's launch() already gives every run a fresh, temporary user-data dir.
    args: CHROMIUM_ARGS,
    headless: true,
  });
  return {
    baseUrl,
    browser,
    async newPage(options) {
      const context = await browser.newContext({ viewport: options?.viewport ?? { width: 1280, height: 800 } });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()); });
      page.on('pageerror', (err) => errors.push(String(err)));
      return { context, page, errors };
    },
    async close() {
      await browser.close();
      await server.close();
    },
  };
}
