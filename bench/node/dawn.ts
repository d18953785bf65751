// The explanation and overlay kernels on Dawn's Node binding (npm `webgpu`), outside any browser.
// Loaded through Vite's SSR module loader by scripts/bench-node.ts so that the kernels' `?raw` WGSL
// imports resolve exactly as in the app. Inputs are synthetic fixtures with DeiT-tiny's shapes: the
// kernels' cost depends on shapes only, and their output is cross-checked against the TS references.
// The engine's kernels surface (src/engine/kernels.ts, part of its public API): the device kit bundles this file for
// Node, and the full index would bring onnxruntime-web along.
import {
  describeWebGpuAdapter, explainOnCpu, explainTensorLength, GpuKernels, renderHeatmapCpu, withExplainDefaults, type ExplainDims,
} from '../../src/engine/kernels';
import type { ExplainOptions } from '../../src/engine/index';
import type { AdapterReport, NodeKernelReport } from '../lib/report';
import { summarize } from '../lib/stats';
import { DEIT_TINY_DIMS, syntheticPhoto, syntheticTensors } from '../lib/synthetic';

export interface KernelBenchOptions {
  warmup: number;
  runs: number;
  dims?: ExplainDims;
  /** Overlay output size in pixels (square). */
  overlaySize?: number;
  log?: (line: string) => void;
}

/** The kernels benchmarked, by report key: one per explanation method and setting, plus the overlay. */
export const KERNEL_CASES: Record<string, ExplainOptions> = {
  attention: { method: 'attention' },
  'rollout (discard 0)': { method: 'rollout', discardRatio: 0 },
  'rollout (discard 0.9)': { method: 'rollout', discardRatio: 0.9 },
  relevance: { method: 'relevance' },
  lrp: { method: 'lrp' },
};

/** The adapter as the reports name it: its own description line (Dawn's info has no separate device name). */
export function describeAdapter(adapter: GPUAdapter): AdapterReport {
  return describeWebGpuAdapter(adapter, adapter.info.description);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>, scale = 1): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / scale);
  return worst;
}

async function time(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Times every kernel case and the overlay on `device`; each entry also records its error against the reference. */
export async function benchKernels(device: GPUDevice, options: KernelBenchOptions): Promise<{ kernels: Record<string, NodeKernelReport>; errors: string[] }> {
  const dims = options.dims ?? DEIT_TINY_DIMS;
  const log = options.log ?? (() => {});
  const cpu = syntheticTensors(dims, 1);
  if (cpu.attentions.length !== explainTensorLength(dims)) throw new Error('synthetic tensors do not match the dims');
  const gpuKernels = GpuKernels.on(device, dims);
  const gpu = gpuKernels.upload(cpu);
  const kernels: Record<string, NodeKernelReport> = {};
  const errors: string[] = [];
  let lastMap: Float32Array = new Float32Array(dims.gridSize * dims.gridSize);
  try {
    for (const [name, userOptions] of Object.entries(KERNEL_CASES)) {
      try {
        const resolved = withExplainDefaults(userOptions, dims, 0);
        const gpuTimes: number[] = [];
        const wallTimes: number[] = [];
        const cpuTimes: number[] = [];
        let gpuValues: Float32Array = new Float32Array(0);
        let cpuValues: Float32Array = new Float32Array(0);
        for (let i = 0; i < options.warmup + options.runs; i++) {
          let gpuMs: number | undefined;
          const wall = await time(async () => {
            const result = await gpuKernels.explain(gpu, resolved);
            gpuMs = result.gpuMs;
            gpuValues = result.values;
          });
          const cpuMs = await time(() => { cpuValues = explainOnCpu(cpu, dims, resolved).values; });
          if (i < options.warmup) continue;
          wallTimes.push(wall);
          cpuTimes.push(cpuMs);
          if (gpuMs !== undefined) gpuTimes.push(gpuMs);
        }
        kernels[name] = {
          gpu_ms: gpuTimes.length === options.runs ? summarize(gpuTimes) : null,
          wall_ms: summarize(wallTimes),
          cpu_reference_ms: summarize(cpuTimes),
          max_abs_diff: maxAbsDiff(gpuValues, cpuValues),
        };
        lastMap = cpuValues;
        log(`${name}: wall median ${kernels[name].wall_ms.median.toFixed(3)} ms, gpu ${kernels[name].gpu_ms?.median.toFixed(3) ?? 'n/a'} ms, ` +
          `TS ${kernels[name].cpu_reference_ms?.median.toFixed(3)} ms, max |Δ| ${kernels[name].max_abs_diff?.toExponential(2)}`);
      } catch (err) {
        errors.push(`${name}: ${String(err)}`);
        log(`${name}: FAILED ${String(err)}`);
      }
    }
  } catch (err) {
    gpuKernels.destroy();
    throw err;
  }

  try {
    kernels.overlay = await benchOverlay(gpuKernels, lastMap, options);
    log(`overlay: wall median ${kernels.overlay.wall_ms.median.toFixed(3)} ms, TS ${kernels.overlay.cpu_reference_ms?.median.toFixed(3)} ms, max |Δ| ${kernels.overlay.max_abs_diff?.toExponential(2)}`);
  } catch (err) {
    errors.push(`overlay: ${String(err)}`);
    log(`overlay: FAILED ${String(err)}`);
  } finally {
    gpuKernels.destroy();
  }
  return { kernels, errors };
}

/** Overlay into a storage texture; timed until the queue is done (wall), then read back once to compare. */
async function benchOverlay(gpuKernels: GpuKernels, values: Float32Array, options: KernelBenchOptions): Promise<NodeKernelReport> {
  const { device } = gpuKernels;
  const gridSize = gpuKernels.dims.gridSize;
  const size = options.overlaySize ?? 448;
  const photo = syntheticPhoto(size, size);
  const renderOptions = { colorMap: 'turbo' as const, opacity: 0.5 };
  const target = device.createTexture({
    label: 'bench.overlayTarget',
    size: [size, size],
    format: 'rgba8unorm',
    usage: GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.COPY_SRC,
  });
  const bytesPerRow = Math.ceil((size * 4) / 256) * 256;
  const readback = device.createBuffer({ label: 'bench.overlayReadback', size: bytesPerRow * size, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
  try {
    const wall: number[] = [];
    const cpuTimes: number[] = [];
    let reference = renderHeatmapCpu(values, gridSize, photo, { width: size, height: size }, renderOptions);
    for (let i = 0; i < options.warmup + options.runs; i++) {
      const ms = await time(async () => {
        gpuKernels.renderOverlayToTexture(target, values, photo, renderOptions);
        await device.queue.onSubmittedWorkDone();
      });
      const cpuMs = await time(() => { reference = renderHeatmapCpu(values, gridSize, photo, { width: size, height: size }, renderOptions); });
      if (i >= options.warmup) { wall.push(ms); cpuTimes.push(cpuMs); }
    }
    const encoder = device.createCommandEncoder({ label: 'bench.overlayCopy' });
    encoder.copyTextureToBuffer({ texture: target }, { buffer: readback, bytesPerRow }, [size, size]);
    device.queue.submit([encoder.finish()]);
    await readback.mapAsync(GPUMapMode.READ);
    const mapped = new Uint8Array(readback.getMappedRange());
    const rows = new Uint8Array(size * size * 4);
    for (let y = 0; y < size; y++) rows.set(mapped.subarray(y * bytesPerRow, y * bytesPerRow + size * 4), y * size * 4);
    readback.unmap();
    return {
      gpu_ms: null,
      wall_ms: summarize(wall),
      cpu_reference_ms: summarize(cpuTimes),
      max_abs_diff: maxAbsDiff(rows, reference.data, 255),
    };
  } finally {
    target.destroy();
    readback.destroy();
  }
}
