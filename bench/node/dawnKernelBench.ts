// The kernel half of the Dawn-node bench, shared by its two entries:
// - scripts/bench-node.ts loads bench/node/dawn.ts through Vite's SSR loader (the app's `?raw` WGSL imports);
// - tools/device/kernelEntry.ts is bundled by esbuild into the device kit (tools/device/build-kit.ts), dawn.ts inlined.
// So this file takes dawn.ts as an argument and imports it for its types only.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { machineReport } from '../lib/machine';
import type { AdapterReport, NodeBenchReport, NodeKernelReport, OrtInNodeReport } from '../lib/report';

export type DawnKernels = Pick<typeof import('./dawn'), 'benchKernels' | 'describeAdapter'>;
export type BenchLog = (line: string) => void;

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** Dawn's instance: if it is garbage-collected, pending device promises never settle and Node just exits. */
let keepInstance: GPU | undefined;

/**
 * Dawn's high-performance adapter. On a machine whose Vulkan driver Dawn refuses (lavapipe of Mesa 22), retries
 * with Chromium's SwiftShader ICD, unless the caller already chose the drivers.
 */
export async function requestDawnAdapter(log: BenchLog): Promise<GPUAdapter> {
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
  return adapter;
}

export interface KernelBenchResult {
  adapter: AdapterReport;
  kernels: Record<string, NodeKernelReport>;
  errors: string[];
}

/** Opens a device on `adapter` (with timestamp queries when it has them), times every kernel, closes the device. */
export async function runKernelBench(
  dawn: DawnKernels, adapter: GPUAdapter, options: { warmup: number; runs: number; log: BenchLog },
): Promise<KernelBenchResult> {
  const { log } = options;
  const adapterReport = dawn.describeAdapter(adapter);
  log(`adapter: ${adapterReport.vendor} ${adapterReport.architecture} ${adapterReport.description}${adapterReport.software ? ' (SOFTWARE: correctness only)' : ''}`);
  const hasTimestamps = adapter.features.has('timestamp-query');
  const device = await adapter.requestDevice({ requiredFeatures: hasTimestamps ? ['timestamp-query'] : [] });
  const errors: string[] = [];
  device.addEventListener('uncapturederror', (event) => errors.push(`uncaptured: ${(event as GPUUncapturedErrorEvent).error.message}`));
  const { kernels, errors: kernelErrors } = await dawn.benchKernels(device, { warmup: options.warmup, runs: options.runs, log });
  errors.push(...kernelErrors);
  device.destroy();
  log(`Dawn instance kept: ${keepInstance !== undefined}`);
  return { adapter: adapterReport, kernels, errors };
}

export function nodeBenchReport(
  bench: KernelBenchResult, ort: OrtInNodeReport[], options: { warmup: number; runs: number },
): NodeBenchReport {
  return {
    kind: 'node-dawn-bench',
    created: new Date().toISOString(),
    machine: machineReport(),
    adapter: bench.adapter,
    dims: { layers: 12, heads: 3, tokens: 197, gridSize: 14, prefixTokens: 1 },
    inputs: 'synthetic fixture tensors with DeiT-tiny shapes (bench/lib/synthetic.ts); kernels cross-checked against the TS references',
    warmup: options.warmup,
    runs: options.runs,
    kernels: bench.kernels,
    ort,
    errors: bench.errors,
  };
}

export function writeReport(path: string, report: NodeBenchReport, log: BenchLog): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(report, null, 2) + '\n');
  log(`wrote ${path}`);
}
