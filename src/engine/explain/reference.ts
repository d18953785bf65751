// Plain TypeScript references of the explanation kernels (shaders/*.wgsl): same definitions, Float32Array in/out.
import type { ExplainOptions } from '../types';
import type { ExplainDims, ExplainTensors } from './options';
import type { ExplainResult } from './result';

/** Computes the explanation map on the CPU. */
export function explainOnCpu(
  _tensors: ExplainTensors<Float32Array>,
  _dims: ExplainDims,
  _options: Required<ExplainOptions>,
): ExplainResult {
  throw new Error('explainOnCpu: not implemented yet');
}
