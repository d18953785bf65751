// Chooses where an explanation runs: the WebGPU kernels over the run's GPU buffers, or the CPU reference over its
// Float32Arrays (WASM: the fast twin of the reference). Which tensors a method reads comes from the method table.
import type { Tensor } from 'onnxruntime-web';
import { explainOnCpuFast, tensorsNeeded, type ExplainDims, type ExplainResult, type ExplainTensorName, type ExplainTensors } from './explain';
import type { CachedRun } from './runCache';
import type { Backend } from './runtime';
import type { ExplainOptions } from './types';

/** The tensors `method` needs from `run`, plus the attentions whenever the run has them. */
function tensorsOf<T>(run: CachedRun, method: ExplainOptions['method'], take: (tensor: Tensor) => T): ExplainTensors<T> {
  const needed: ExplainTensorName[] = tensorsNeeded(method);
  const picked = { attentions: undefined as unknown as T } as ExplainTensors<T>;
  for (const name of needed) picked[name] = take(run.tensors[name]!);
  if (!needed.includes('attentions') && run.tensors.attentions) picked.attentions = take(run.tensors.attentions);
  return picked;
}

export function explainRun(backend: Backend, run: CachedRun, options: Required<ExplainOptions>, dims: ExplainDims): Promise<ExplainResult> {
  const gpu = backend.gpu;
  if (backend.backend === 'webgpu' && gpu) {
    return gpu.explainer.run(tensorsOf(run, options.method, (t) => t.gpuBuffer as GPUBuffer), options);
  }
  return Promise.resolve(explainOnCpuFast(tensorsOf(run, options.method, (t) => t.data as Float32Array), dims, options));
}
