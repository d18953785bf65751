// npm run bench:history [-- --sizes 200,2000,10000 --app DIR --label after --json FILE --table]
// History at season scale: the built app (vite build + vite preview of --app, default this checkout) in headless
// Chromium with a disk-backed profile, a phone viewport and an IndexedDB seeded with N synthetic saved diagnoses in
// the schema-1 layout every existing phone has (a ~20 KB JPEG data URL per entry, like real entries). Per size:
// the first start after seeding (an upgrade migrates there), time from tapping History to its first rows, the JS
// heap after that (after a forced GC), frame times while scrolling the list, and the time for each export.
// `--table` rewrites the table between the bench:history markers of docs/benchmarks.md from the JSON files.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { build, preview } from 'vite';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../test/browser/harness';
import { benchHistoryTable, type HistoryBenchReport, type HistoryBenchRun } from '../bench/lib/historyTable';
import { seedV1Script } from '../bench/lib/historySeed';
import { machineReport } from '../bench/lib/machine';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '200,2000,10000' },
    app: { type: 'string', default: '.' },
    label: { type: 'string', default: 'after' },
    json: { type: 'string' },
    table: { type: 'boolean', default: false },
    'skip-build': { type: 'boolean', default: false },
    'cap-s': { type: 'string', default: '150' },
  },
});
const log = (line: string): void => console.log(`[bench:history] ${line}`);
const FIXTURE_MODEL = 'models/fixture-deit-micro/';
const BENCH_DIR = 'docs/bench';
const MARK_BEGIN = '<!-- bench:history:begin (written by npm run bench:history -- --table) -->';
const MARK_END = '<!-- bench:history:end -->';

/** Installed before the app runs: records when the first history row appears after __historyStart is set. */
const FIRST_ROW_OBSERVER = `(() => {
  window.__history = {};
  new MutationObserver(() => {
    const h = window.__history;
    if (h.start !== undefined && h.firstRow === undefined && document.querySelector('[data-testid=history-item]')) h.firstRow = performance.now();
  }).observe(document, { subtree: true, childList: true });
})();`;

/** Scrolls the page's list 120 frames at ~600 px/s…1800 px/s and returns the rAF-to-rAF times. */
const SCROLL_SCRIPT = `(async () => {
  const times = [];
  let last = await new Promise((r) => requestAnimationFrame(r));
  for (let i = 0; i < 120; i++) {
    window.scrollBy(0, 10 + (i % 3) * 10);
    const now = await new Promise((r) => requestAnimationFrame(r));
    times.push(now - last);
    last = now;
  }
  return times;
})()`;

async function heapBytes(context: BrowserContext, page: Page): Promise<number> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('HeapProfiler.enable');
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = await cdp.send('Runtime.getHeapUsage');
  await cdp.detach();
  return usedSize;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

async function timedDownload(page: Page, testId: string, capMs: number): Promise<{ ms: number | null; bytes: number | null }> {
  if (await page.locator(`[data-testid=${testId}]`).count() === 0) return { ms: null, bytes: null };
  const start = Date.now();
  const download = page.waitForEvent('download', { timeout: capMs });
  await page.locator(`[data-testid=${testId}]`).click();
  try {
    const d = await download;
    const path = await d.path();
    const ms = Date.now() - start;
    return { ms, bytes: path ? statSync(path).size : null };
  } catch {
    return { ms: null, bytes: null };
  }
}

async function oneSize(url: string, count: number, capMs: number): Promise<HistoryBenchRun> {
  const profile = mkdtempSync(join(tmpdir(), 'bench-history-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true, viewport: { width: 360, height: 740 },
    serviceWorkers: 'block', acceptDownloads: true,
  });
  const run: HistoryBenchRun = {
    entries: count, first_start_ms: null, upgrade_ms: null, first_rows_ms: null, rows_rendered: null, heap_mb: null,
    scroll_frame_p50_ms: null, scroll_frame_p95_ms: null, scroll_frame_max_ms: null,
    export_csv_ms: null, export_json_ms: null, export_json_mb: null, export_zip_ms: null, export_zip_mb: null, note: '',
  };
  try {
    const page = context.pages()[0] ?? await context.newPage();
    page.setDefaultTimeout(capMs);
    await page.goto(`${url}icons/icon-192.png`);
    const seedStart = Date.now();
    const { thumbnailChars: thumbChars } = await page.evaluate(seedV1Script(count)) as { thumbnailChars: number };
    log(`${count}: seeded in ${Date.now() - seedStart} ms (thumbnail ${thumbChars} chars)`);
    await page.addInitScript({ content: FIRST_ROW_OBSERVER });
    const appUrl = `${url}index.html?model=${FIXTURE_MODEL}&backend=wasm`;
    const startAt = Date.now();
    await page.goto(appUrl);
    // The database opens (and, after an update, migrates) before the model is requested.
    await page.waitForSelector('[data-model-status=ready], [data-model-status=missing], [data-model-status=error]', { state: 'attached' });
    run.first_start_ms = Date.now() - startAt;
    // A schema-1 upgrade finishes in the background (src/history/db.ts): time it, and time History after it.
    const upgrading = () => page.evaluate(() => new Promise<boolean>((resolve) => {
      const request = indexedDB.open('leaf-lens');
      request.onsuccess = () => {
        const db = request.result;
        if (!db.objectStoreNames.contains('settings')) { db.close(); resolve(false); return; }
        const get = db.transaction('settings').objectStore('settings').get('history-upgrade');
        get.onsuccess = () => { db.close(); resolve(get.result !== undefined); };
        get.onerror = () => { db.close(); resolve(false); };
      };
      request.onerror = () => resolve(false);
    }));
    if (await upgrading()) {
      while (await upgrading() && Date.now() - startAt < 900_000) await page.waitForTimeout(500);
      run.upgrade_ms = Date.now() - startAt;
      log(`${count}: background upgrade done ${run.upgrade_ms} ms after the start`);
    }
    // Time to first rows: median of three opens, each on a freshly loaded page (nothing cached in memory).
    const opens: number[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      await page.reload();
      await page.waitForSelector('[data-model-status=ready], [data-model-status=missing], [data-model-status=error]', { state: 'attached' });
      await page.waitForTimeout(1000);
      await page.evaluate(() => {
        (window as unknown as { __history: { start: number } }).__history.start = performance.now();
        (document.querySelector('[data-testid=nav-history]') as HTMLElement).click();
      });
      try {
        await page.waitForFunction(() => (window as unknown as { __history: { firstRow?: number } }).__history.firstRow !== undefined, undefined, { timeout: capMs, polling: 100 });
      } catch {
        run.note = `no rows within ${capMs / 1000} s`;
        log(`${count}: ${run.note}`);
        return run;
      }
      const h = await page.evaluate(() => (window as unknown as { __history: { start: number; firstRow: number } }).__history);
      opens.push(h.firstRow - h.start);
      if (count >= 10000 && opens[0]! > 30_000) break; // the old build: once is enough
    }
    run.first_rows_ms = Math.round(percentile(opens, 0.5));
    await page.waitForTimeout(1500);
    run.rows_rendered = await page.locator('[data-testid=history-item]').count();
    run.heap_mb = Math.round((await heapBytes(context, page)) / 1e6 * 10) / 10;
    const frames = await page.evaluate(SCROLL_SCRIPT) as number[];
    run.scroll_frame_p50_ms = Math.round(percentile(frames, 0.5) * 10) / 10;
    run.scroll_frame_p95_ms = Math.round(percentile(frames, 0.95) * 10) / 10;
    run.scroll_frame_max_ms = Math.round(Math.max(...frames) * 10) / 10;
    await page.evaluate(() => window.scrollTo(0, 0));
    run.export_csv_ms = (await timedDownload(page, 'export-csv', capMs)).ms;
    const json = await timedDownload(page, 'export-json', capMs);
    run.export_json_ms = json.ms;
    run.export_json_mb = json.bytes === null ? null : Math.round(json.bytes / 1e5) / 10;
    const zip = await timedDownload(page, 'export-zip', capMs);
    run.export_zip_ms = zip.ms;
    run.export_zip_mb = zip.bytes === null ? null : Math.round(zip.bytes / 1e5) / 10;
    log(`${count}: ${JSON.stringify(run)}`);
    return run;
  } catch (error) {
    run.note = `failed: ${String(error).split('\n')[0]}`;
    log(`${count}: ${run.note}`);
    return run;
  } finally {
    await context.close().catch(() => undefined);
    rmSync(profile, { recursive: true, force: true });
  }
}

async function measure(): Promise<void> {
  const appDir = resolve(args.app);
  const outDir = resolve('.work/bench-history', args.label, 'dist');
  if (!args['skip-build']) {
    log(`vite build of ${appDir} → ${outDir}`);
    await build({ root: appDir, configFile: join(appDir, 'vite.config.ts'), build: { outDir, emptyOutDir: true }, logLevel: 'warn' });
  }
  const server = await preview({
    root: appDir, configFile: join(appDir, 'vite.config.ts'), build: { outDir },
    preview: { port: 0, host: '127.0.0.1', strictPort: false }, logLevel: 'warn',
  });
  const address = server.httpServer.address();
  if (!address || typeof address === 'string') throw new Error('vite preview did not report a port');
  const url = `http://127.0.0.1:${address.port}/`;
  const runs: HistoryBenchRun[] = [];
  const loadBefore = loadavg()[0]!;
  try {
    for (const size of args.sizes.split(',').map(Number)) runs.push(await oneSize(url, size, Number(args['cap-s']) * 1000));
  } finally {
    await new Promise<void>((r) => server.httpServer.close(() => r()));
  }
  const report: HistoryBenchReport = {
    kind: 'history-bench',
    label: args.label,
    created: new Date().toISOString(),
    app: appDir,
    machine: machineReport(),
    // The 1-minute load average when the runs started and ended: this machine is shared, and times scale with it.
    load_average: [Math.round(loadBefore * 10) / 10, Math.round(loadavg()[0]! * 10) / 10],
    target: 'vite build + vite preview, headless Chromium, persistent profile, viewport 360×740, fixture model on WASM',
    runs,
  };
  const file = args.json ?? join(BENCH_DIR, `history-${args.label}.json`);
  mkdirSync(BENCH_DIR, { recursive: true });
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  log(`wrote ${file}`);
}

function writeTable(): void {
  const read = (label: string): HistoryBenchReport | null => {
    try { return JSON.parse(readFileSync(join(BENCH_DIR, `history-${label}.json`), 'utf8')) as HistoryBenchReport; } catch { return null; }
  };
  const reports = ['before', 'after'].map(read).filter((r): r is HistoryBenchReport => r !== null);
  const doc = readFileSync('docs/benchmarks.md', 'utf8');
  const table = `${MARK_BEGIN}\n${benchHistoryTable(reports)}\n${MARK_END}`;
  const begin = doc.indexOf(MARK_BEGIN.slice(0, 24));
  const end = doc.indexOf(MARK_END);
  const next = begin >= 0 && end > begin
    ? doc.slice(0, begin) + table + doc.slice(end + MARK_END.length)
    : `${doc.trimEnd()}\n\n## History at season scale\n\n${table}\n`;
  writeFileSync('docs/benchmarks.md', next);
  log('table written to docs/benchmarks.md');
}

if (args.table) writeTable();
else await measure();
