// npm run bench:lighthouse [-- --runs 3 --label "…" --json docs/bench/lighthouse.json --url URL --doc docs/benchmarks.md --no-doc]
// Lighthouse (mobile profile: simulated 4× CPU slowdown and slow 4G) on the production build: vite build into
// .work/bench-lighthouse/dist, served by vite preview (or any server already running the build: --url, e.g.
// `npm run serve`'s). Each run is a first visit (Lighthouse clears the origin's storage and service worker).
// Writes the JSON report and rewrites the table of every docs/bench/lighthouse*.json in docs/benchmarks.md.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as chromeLauncher from 'chrome-launcher';
import lighthouse from 'lighthouse';
import { build, preview, type PreviewServer } from 'vite';
import { CHROMIUM_PATH } from '../test/browser/harness';
import {
  lighthouseSection, medianRun, profileOf, replaceMarkedSection, summarizeLhr,
  type LhrLike, type LighthouseReport, type LighthouseRun,
} from '../bench/lib/lighthouse';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    label: { type: 'string', default: 'current build' },
    json: { type: 'string', default: 'docs/bench/lighthouse.json' },
    url: { type: 'string' },
    doc: { type: 'string', default: 'docs/benchmarks.md' },
    'no-doc': { type: 'boolean', default: false },
  },
});
const log = (line: string): void => console.log(`[lighthouse] ${line}`);
const WORK = '.work/bench-lighthouse';

async function serveBuild(): Promise<{ url: string; server: PreviewServer; target: string }> {
  const outDir = resolve(WORK, 'dist');
  log(`vite build → ${outDir}`);
  await build({ configFile: resolve('vite.config.ts'), build: { outDir, emptyOutDir: true }, logLevel: 'warn' });
  const server = await preview({ configFile: resolve('vite.config.ts'), build: { outDir }, preview: { port: 0, host: '127.0.0.1', strictPort: false }, logLevel: 'warn' });
  const address = server.httpServer.address();
  if (!address || typeof address === 'string') throw new Error('vite preview did not report a port');
  const url = `http://127.0.0.1:${address.port}/`;
  return { url, server, target: 'production build (vite build) served by vite preview' };
}

async function main(): Promise<void> {
  const runCount = Number(args.runs);
  if (!Number.isInteger(runCount) || runCount < 1) throw new Error(`--runs must be a positive integer, got ${args.runs}`);
  mkdirSync(WORK, { recursive: true });
  const served = args.url ? { url: args.url, server: undefined, target: `production build served at ${args.url}` } : await serveBuild();
  // No --disable-gpu: the app chooses WebGPU or WASM as on a phone; headless Chromium here has no hardware GPU, so WASM.
  const chrome = await chromeLauncher.launch({ chromePath: CHROMIUM_PATH, chromeFlags: ['--headless=new', '--no-sandbox', '--no-first-run', '--disable-background-networking'] });
  const runs: LighthouseRun[] = [];
  let lhrFirst: LhrLike | undefined;
  let browser = 'Chromium';
  try {
    const version = await fetch(`http://127.0.0.1:${chrome.port}/json/version`).then((r) => r.json() as Promise<{ Browser?: string }>).catch(() => ({ Browser: undefined }));
    browser = version.Browser ?? browser;
    let failures = 0;
    for (let i = 0; i < runCount; i++) {
      const result = await lighthouse(served.url, {
        port: chrome.port,
        output: 'json',
        logLevel: 'error',
        onlyCategories: ['performance', 'accessibility', 'best-practices'],
      });
      if (!result) throw new Error('Lighthouse returned no result');
      const lhr = result.lhr as unknown as LhrLike;
      // The whole LHR (every audit) stays in .work/ for digging into a figure.
      writeFileSync(join(WORK, `lhr-${i + 1}.json`), JSON.stringify(lhr));
      let run: LighthouseRun;
      try {
        run = summarizeLhr(lhr);
      } catch (error) {
        // A trace Lighthouse could not record (e.g. NO_NAVSTART on a busy machine) is run again, twice at most.
        if (++failures > 2) throw error;
        log(`run ${i + 1} failed (${String(error)}); running it again`);
        i--;
        continue;
      }
      lhrFirst ??= lhr;
      runs.push(run);
      log(`run ${i + 1}/${runCount}: performance ${run.scores.performance}, TBT ${Math.round(run.metrics.tbt_ms ?? NaN)} ms, ` +
        `longest task ${Math.round(run.long_tasks[0]?.duration_ms ?? 0)} ms (${run.long_tasks[0]?.url ?? 'none'})`);
    }
  } finally {
    await chrome.kill();
    if (served.server) await new Promise<void>((r) => served.server!.httpServer.close(() => r()));
  }
  const report: LighthouseReport = {
    kind: 'lighthouse',
    label: args.label,
    created: new Date().toISOString(),
    lighthouse: lhrFirst!.lighthouseVersion,
    browser: `${browser} (headless, ${CHROMIUM_PATH})`,
    target: served.target,
    profile: profileOf(lhrFirst!),
    median: medianRun(runs),
    runs,
  };
  mkdirSync(dirname(args.json), { recursive: true });
  writeFileSync(args.json, JSON.stringify(report, null, 2) + '\n');
  log(`wrote ${args.json}`);
  if (!args['no-doc']) updateDoc(dirname(args.json), args.doc);
}

/** Every lighthouse*.json beside the report, oldest first, as one table in the doc. */
function updateDoc(benchDir: string, doc: string): void {
  const reports = readdirSync(benchDir)
    .filter((f) => /^lighthouse.*\.json$/.test(f))
    .map((f) => JSON.parse(readFileSync(join(benchDir, f), 'utf8')) as LighthouseReport)
    .filter((r) => r.kind === 'lighthouse')
    .sort((a, b) => a.created.localeCompare(b.created));
  if (!existsSync(doc)) throw new Error(`${doc} not found`);
  writeFileSync(doc, replaceMarkedSection(readFileSync(doc, 'utf8'), lighthouseSection(reports)));
  log(`updated the table in ${doc} (${reports.length} reports)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
