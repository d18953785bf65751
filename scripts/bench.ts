// npm run bench [-- --model DIR --runs 5 --warmup 1 --backends webgpu,wasm --photo FILE --json FILE --no-cold-start --cores N]
// Per-stage latency on WebGPU and WASM in headless Chromium (bench/index.html), one fresh page per part and
// backend, then the cold start of the built app. Prints tables; --json writes the report (docs/bench/bench.json).
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { machineReport } from '../bench/lib/machine';
import type { EndToEndPart, StagesPart } from '../bench/lib/merge';
import { mergeBackend } from '../bench/lib/merge';
import { pickModelDir, readModel } from '../bench/lib/modelFiles';
import type { BackendBench, BenchReport } from '../bench/lib/report';
import { stageTableMarkdown, summaryTableMarkdown } from '../bench/lib/tables';
import { browserVersion, DATA_MOUNT, MODEL_MOUNT, startBenchBrowser } from '../bench/node/browserRunner';
import { measureColdStart } from '../bench/node/coldStart';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string' },
    runs: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    backends: { type: 'string', default: 'webgpu,wasm' },
    photo: { type: 'string' },
    json: { type: 'string' },
    'no-cold-start': { type: 'boolean', default: false },
    'cold-start-only': { type: 'boolean', default: false },
    'software-webgpu-model': { type: 'boolean', default: false },
    /** The bench pages report N logical cores (navigator.hardwareConcurrency, via the DevTools protocol), so the engine
     * sizes onnxruntime's WASM threads as on such a device (wasmThreadCount): A/B of thread counts on one machine. */
    cores: { type: 'string' },
  },
});
const log = (line: string): void => console.log(`[bench] ${line.replace(/^\[bench\] /, '')}`);

function defaultPhoto(): string {
  const dir = resolve('../shared/data/beans/val/bean_rust');
  const first = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.jpg')).sort()[0] : undefined;
  if (!first) throw new Error('no default photo: pass --photo FILE');
  return join(dir, first);
}

async function main(): Promise<void> {
  const modelDir = pickModelDir(args.model);
  const { manifest } = readModel(modelDir);
  const photo = resolve(args.photo ?? defaultPhoto());
  const runs = Number(args.runs);
  const warmup = Number(args.warmup);
  const backends = args.backends.split(',').map((b) => b.trim()) as ('webgpu' | 'wasm')[];
  const cores = args.cores !== undefined ? Number(args.cores) : undefined;
  if (cores !== undefined && (!Number.isInteger(cores) || cores < 1)) throw new Error(`--cores needs a whole number ≥ 1, got ${args.cores}`);
  const note = manifest.trained
    ? 'trained model'
    : 'UNTRAINED stand-in with the architecture of the shipped model (random weights): latency is representative, predictions are not';
  log(`model ${manifest.name} (${modelDir}) — ${note}`);
  log(`photo ${photo}; ${warmup} warm-up + ${runs} timed runs per backend${cores !== undefined ? `; pages report ${cores} cores` : ''}`);

  const harness = await startBenchBrowser({ modelDir, dataDir: dirname(photo), log });
  const results: BackendBench[] = [];
  const report: BenchReport = {
    kind: 'browser-bench',
    created: new Date().toISOString(),
    model: { name: manifest.name, title: manifest.title, trained: manifest.trained, url: modelDir, architecture: manifest.architecture, note },
    photo: basename(photo),
    warmup,
    runs,
    browser: await browserVersion(harness.browser),
    machine: machineReport(),
    backends: results,
  };
  try {
    if (!args['cold-start-only']) {
      const common = { modelUrl: `${harness.baseUrl}${MODEL_MOUNT}`, photoUrl: `${harness.baseUrl}${DATA_MOUNT}${basename(photo)}`, warmup, runs };
      const probePage = await harness.openBenchPage();
      const adapter = await probePage.page.evaluate(() => window.leafLensBench.probe());
      await probePage.close();
      const softwareWebgpu = adapter?.software === true && !args['software-webgpu-model'];
      if (softwareWebgpu) {
        log(`WebGPU adapter is software (${adapter?.description}): one DeiT-tiny graph run takes minutes there, so WebGPU ` +
          'graph stages and end-to-end are skipped and the WGSL kernels run on WASM graph outputs (--software-webgpu-model forces them)');
      }
      for (const backend of backends) {
        let stages: StagesPart | null = null;
        let e2e: EndToEndPart | null = null;
        const errors: string[] = [];
        // Separate pages: each part gets its own device and ORT instance, as a fresh app visit would.
        const parts = backend === 'webgpu' && softwareWebgpu ? (['stages'] as const) : (['stages', 'endToEnd'] as const);
        for (const part of parts) {
          const { page, close } = await harness.openBenchPage();
          try {
            if (cores !== undefined) {
              const cdp = await page.context().newCDPSession(page);
              await cdp.send('Emulation.setHardwareConcurrencyOverride', { hardwareConcurrency: cores });
            }
            if (part === 'stages') stages = await page.evaluate((c) => window.leafLensBench.stages(c), { ...common, backend, graphsOnWasm: backend === 'webgpu' && softwareWebgpu });
            else e2e = await page.evaluate((c) => window.leafLensBench.endToEnd(c), { ...common, backend, method: 'relevance' as const });
          } catch (err) {
            errors.push(`${part}: ${String(err).split('\n')[0]}`);
            log(`${backend} ${part} FAILED: ${String(err).split('\n')[0]}`);
          } finally {
            await close();
          }
        }
        if (stages || e2e) {
          const merged = mergeBackend(stages, e2e);
          merged.errors.push(...errors);
          results.push(merged);
        }
      }
      if (results.length > 0) {
        console.log(`\n${summaryTableMarkdown(results)}\n\n${stageTableMarkdown(results)}\n`);
        for (const b of results) {
          if (b.notes.length > 0) log(`${b.backend} notes: ${b.notes.join(' | ')}`);
          if (b.errors.length > 0) log(`${b.backend} errors: ${b.errors.join(' | ')}`);
        }
      }
    }
  } finally {
    await harness.close();
  }
  const write = (): void => {
    if (!args.json) return;
    if (report.machine.load_average) report.machine.load_average.end = loadavg()[0]!;
    mkdirSync(dirname(args.json), { recursive: true });
    writeFileSync(args.json, JSON.stringify(report, null, 2) + '\n');
  };
  if (!args['cold-start-only']) write();
  if (!args['no-cold-start']) {
    const coldStart = await measureColdStart({ log, photo, modelDir });
    if (args['cold-start-only'] && args.json && existsSync(args.json)) {
      // Add the cold start to an earlier full run instead of replacing its stage results.
      const earlier = JSON.parse(readFileSync(args.json, 'utf8')) as BenchReport;
      Object.assign(report, { ...earlier, cold_start: coldStart });
    } else {
      report.cold_start = coldStart;
    }
  }
  write();
  if (args.json) log(`wrote ${args.json}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
