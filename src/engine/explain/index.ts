// Explanation maths for the engine: the CPU reference (WASM path, test oracle) and the WebGPU explainer.
//
//   const opts = withExplainDefaults(userOptions, dims, topClass);      // validates, fills defaults
//   tensorsNeeded(opts.method)                                          // which model outputs to request
//   explainOnCpu({ attentions, attentionGrads }, dims, opts)            // Float32Arrays in, ExplainResult out
//   const gpu = await GpuExplainer.create(device, dims);                // once per device + model (or `new`)
//   await gpu.run({ attentions: buf, attentionGrads: buf2 }, opts);     // GPUBuffers (STORAGE) in, 196 floats read back
//   gpu.destroy();
export type { ExplainDims, ExplainTensors, ExplainTensorName } from './options';
export {
  defaultStartLayer,
  discardCount,
  EXPLAIN_METHODS,
  HEAD_FUSIONS,
  tensorLength,
  tensorsNeeded,
  validateExplainDims,
  validateExplainOptions,
  withExplainDefaults,
} from './options';
export type { ExplainResult } from './result';
export { explainOnCpu } from './reference';
export { GpuExplainer } from './gpuExplainer';
