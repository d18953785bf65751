// One onnxruntime attempt in its own process (spawned by scripts/bench-node.ts): a crash inside a runtime
// (onnxruntime-web on Dawn node throws asynchronously) must not take the kernel results down with it.
// Usage: tsx bench/node/ortAttempt.ts web-webgpu|node-webgpu|node-cpu MODEL_DIR RUNS [WARMUP]
import { existsSync } from 'node:fs';
import type { OrtInNodeReport } from '../lib/report';
import { benchOrtNode, benchOrtWebOnDawn } from './ort';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
export const RESULT_PREFIX = 'ORT_RESULT ';

async function dawnGpu(): Promise<GPU> {
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  let gpu = create([]);
  if (!(await gpu.requestAdapter()) && !process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    gpu = create([]);
  }
  return gpu;
}

async function main(): Promise<void> {
  const [kind, modelDir, runs, warmup] = process.argv.slice(2);
  if (!kind || !modelDir) throw new Error('usage: ortAttempt.ts KIND MODEL_DIR RUNS [WARMUP]');
  const options = { warmup: Number(warmup ?? 1), runs: Number(runs ?? 3) };
  let result: OrtInNodeReport;
  if (kind === 'web-webgpu') result = await benchOrtWebOnDawn(await dawnGpu(), modelDir, options);
  else if (kind === 'node-webgpu') result = await benchOrtNode('webgpu', modelDir, options);
  else result = await benchOrtNode('cpu', modelDir, options);
  console.log(RESULT_PREFIX + JSON.stringify(result));
}

main().then(() => process.exit(0), (err: unknown) => { console.error(err); process.exit(1); });
