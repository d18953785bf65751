// npm run bench:node [-- --runs 30 --warmup 5 --json docs/bench/node-dawn.json --model DIR --no-ort]
// The WGSL kernels through Dawn's Node binding (npm `webgpu`), plus onnxruntime's WebGPU EP if it runs there.
// On a machine whose Vulkan driver Dawn refuses (lavapipe of Mesa 22), falls back to Chromium's SwiftShader ICD.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createServer } from 'vite';
import { pickModelDir } from '../bench/lib/modelFiles';
import type { OrtInNodeReport } from '../bench/lib/report';
import { nodeBenchReport, requestDawnAdapter, runKernelBench, writeReport } from '../bench/node/dawnKernelBench';
import { spawnSync } from 'node:child_process';

const ORT_RUNTIMES = {
  'web-webgpu': 'onnxruntime-web (WebGPU EP on Dawn node)',
  'node-webgpu': 'onnxruntime-node (native WebGPU EP)',
  'node-cpu': 'onnxruntime-node (CPU EP)',
} as const;

/** Runs one onnxruntime attempt in a child process; a crash there becomes a 'failed' entry with its last words. */
function ortInChild(kind: keyof typeof ORT_RUNTIMES, modelDir: string, runs: number, warmup: number): OrtInNodeReport {
  const child = spawnSync(process.execPath, [...process.execArgv, 'bench/node/ortAttempt.ts', kind, modelDir, String(runs), String(warmup)], {
    encoding: 'utf8', timeout: 600_000, maxBuffer: 64 * 1024 * 1024, env: process.env,
  });
  const line = child.stdout.split('\n').find((l) => l.startsWith('ORT_RESULT '));
  if (line) return JSON.parse(line.slice('ORT_RESULT '.length)) as OrtInNodeReport;
  const lastWords = `${child.stderr}`.split('\n').map((l) => l.trim()).filter((l) => /Error|error:/.test(l) && l.length < 300).slice(-2).join(' / ');
  return { runtime: ORT_RUNTIMES[kind], status: 'failed', detail: `process exited with ${child.status ?? child.signal}: ${lastWords || 'no message'}` };
}

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '5' },
    json: { type: 'string' },
    model: { type: 'string' },
    'no-ort': { type: 'boolean', default: false },
    'ort-runs': { type: 'string', default: '5' },
  },
});
const runs = Number(args.runs);
const warmup = Number(args.warmup);
const log = (line: string): void => console.log(`[bench:node] ${line}`);

async function main(): Promise<void> {
  const adapter = await requestDawnAdapter(log);
  const vite = await createServer({
    configFile: join(process.cwd(), 'vite.config.ts'),
    server: { middlewareMode: true, hmr: false },
    appType: 'custom',
    logLevel: 'error',
  });
  try {
    const dawn = (await vite.ssrLoadModule('/bench/node/dawn.ts')) as typeof import('../bench/node/dawn');
    const bench = await runKernelBench(dawn, adapter, { warmup, runs, log });

    const ort: OrtInNodeReport[] = [];
    if (!args['no-ort']) {
      let modelDir: string | null = null;
      try { modelDir = pickModelDir(args.model); } catch (err) { log(String(err)); }
      if (modelDir) {
        log(`onnxruntime with ${modelDir}`);
        for (const kind of ['web-webgpu', 'node-webgpu', 'node-cpu'] as const) {
          // On a software adapter one DeiT-tiny run takes minutes: there a single run only shows whether it works.
          const software = bench.adapter.software && kind !== 'node-cpu';
          const result = ortInChild(kind, modelDir, software ? 1 : Number(args['ort-runs']), software ? 0 : 1);
          if (software && result.status === 'ok') result.detail += ' (software adapter: 1 cold run, correctness only)';
          log(`${result.runtime}: ${result.status}${result.forward_ms ? `, forward ${result.forward_ms.median.toFixed(1)} ms, forward+grad ${result.explain_ms?.median.toFixed(1)} ms${result.lrp_ms ? `, lrp graph ${result.lrp_ms.median.toFixed(1)} ms` : ''}` : ''} (${result.detail})`);
          ort.push(result);
        }
      } else {
        ort.push({ runtime: 'onnxruntime-web (WebGPU EP on Dawn node)', status: 'skipped', detail: 'no model folder' });
      }
    }

    const report = nodeBenchReport(bench, ort, { warmup, runs });
    if (args.json) writeReport(args.json, report, log);
    if (report.errors.length > 0) {
      log(`errors:\n  ${report.errors.join('\n  ')}`);
      process.exitCode = 1;
    }
  } finally {
    await vite.close();
  }
}

main().then(
  // Dawn keeps native handles alive; exit explicitly once the report is written.
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => { console.error(err); process.exit(1); },
);
