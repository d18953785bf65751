// npm run bench:node [-- --runs 30 --warmup 5 --json docs/bench/node-dawn.json --model DIR --no-ort]
// The WGSL kernels through Dawn's Node binding (npm `webgpu`), plus onnxruntime's WebGPU EP if it runs there.
// On a machine whose Vulkan driver Dawn refuses (lavapipe of Mesa 22), falls back to Chromium's SwiftShader ICD.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { createServer } from 'vite';
import { machineReport } from '../bench/lib/machine';
import { pickModelDir } from '../bench/lib/modelFiles';
import type { NodeBenchReport, OrtInNodeReport } from '../bench/lib/report';
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

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

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

/** Dawn's instance: if it is garbage-collected, pending device promises never settle and Node just exits. */
let keepInstance: GPU | undefined;

async function requestAdapter(): Promise<{ adapter: GPUAdapter }> {
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  let gpu = create([]);
  let adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter && !process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) {
    log(`no Vulkan adapter Dawn accepts; retrying with Chromium's SwiftShader (${SWIFTSHADER_ICD})`);
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    gpu = create([]);
    adapter = await gpu.requestAdapter();
  }
  if (!adapter) throw new Error('Dawn found no adapter: install a Vulkan driver (apt-get install -y libvulkan1 mesa-vulkan-drivers, or the NVIDIA driver)');
  keepInstance = gpu;
  return { adapter };
}

async function main(): Promise<void> {
  const { adapter } = await requestAdapter();
  const vite = await createServer({
    configFile: join(process.cwd(), 'vite.config.ts'),
    server: { middlewareMode: true, hmr: false },
    appType: 'custom',
    logLevel: 'error',
  });
  const errors: string[] = [];
  try {
    const dawn = (await vite.ssrLoadModule('/bench/node/dawn.ts')) as typeof import('../bench/node/dawn');
    const adapterReport = dawn.describeAdapter(adapter);
    log(`adapter: ${adapterReport.vendor} ${adapterReport.architecture} ${adapterReport.description}${adapterReport.software ? ' (SOFTWARE: correctness only)' : ''}`);
    const hasTimestamps = adapter.features.has('timestamp-query');
    const device = await adapter.requestDevice({ requiredFeatures: hasTimestamps ? ['timestamp-query'] : [] });
    device.addEventListener('uncapturederror', (event) => errors.push(`uncaptured: ${(event as GPUUncapturedErrorEvent).error.message}`));
    const { kernels, errors: kernelErrors } = await dawn.benchKernels(device, { warmup, runs, log });
    errors.push(...kernelErrors);
    device.destroy();
    log(`Dawn instance kept: ${keepInstance !== undefined}`);

    const ort: OrtInNodeReport[] = [];
    if (!args['no-ort']) {
      let modelDir: string | null = null;
      try { modelDir = pickModelDir(args.model); } catch (err) { log(String(err)); }
      if (modelDir) {
        log(`onnxruntime with ${modelDir}`);
        for (const kind of ['web-webgpu', 'node-webgpu', 'node-cpu'] as const) {
          // On a software adapter one DeiT-tiny run takes minutes: there a single run only shows whether it works.
          const software = adapterReport.software && kind !== 'node-cpu';
          const result = ortInChild(kind, modelDir, software ? 1 : Number(args['ort-runs']), software ? 0 : 1);
          if (software && result.status === 'ok') result.detail += ' (software adapter: 1 cold run, correctness only)';
          log(`${result.runtime}: ${result.status}${result.forward_ms ? `, forward ${result.forward_ms.median.toFixed(1)} ms, forward+grad ${result.explain_ms?.median.toFixed(1)} ms${result.lrp_ms ? `, lrp graph ${result.lrp_ms.median.toFixed(1)} ms` : ''}` : ''} (${result.detail})`);
          ort.push(result);
        }
      } else {
        ort.push({ runtime: 'onnxruntime-web (WebGPU EP on Dawn node)', status: 'skipped', detail: 'no model folder' });
      }
    }

    const report: NodeBenchReport = {
      kind: 'node-dawn-bench',
      created: new Date().toISOString(),
      machine: machineReport(),
      adapter: adapterReport,
      dims: { layers: 12, heads: 3, tokens: 197, gridSize: 14, prefixTokens: 1 },
      inputs: 'synthetic fixture tensors with DeiT-tiny shapes (bench/lib/synthetic.ts); kernels cross-checked against the TS references',
      warmup,
      runs,
      kernels,
      ort,
      errors,
    };
    if (args.json) {
      mkdirSync(dirname(args.json), { recursive: true });
      writeFileSync(args.json, JSON.stringify(report, null, 2) + '\n');
      log(`wrote ${args.json}`);
    }
    if (errors.length > 0) {
      log(`errors:\n  ${errors.join('\n  ')}`);
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
