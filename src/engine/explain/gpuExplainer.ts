// The WebGPU explainer: runs the explanation kernels over the model's attention buffers.
import type { ExplainOptions } from '../types';
import type { ExplainDims, ExplainTensors } from './options';
import type { ExplainResult } from './result';

/**
 * Owns the explanation pipelines and scratch buffers for one device and one model's dims.
 * Create once per (device, model) and reuse; `run` calls are serialised; `destroy()` releases every buffer.
 * Input buffers need GPUBufferUsage.STORAGE and hold `[L,1,H,N,N]` float32 (ORT's 'gpu-buffer' outputs do).
 */
export class GpuExplainer {
  constructor(readonly device: GPUDevice, readonly dims: ExplainDims) {}

  /** Runs the method's kernels and reads back the G×G map. Rejects on a lost device or a missing tensor. */
  run(_tensors: ExplainTensors<GPUBuffer>, _options: Required<ExplainOptions>): Promise<ExplainResult> {
    return Promise.reject(new Error('GpuExplainer.run: not implemented yet'));
  }

  destroy(): void {}
}
