// Explanation maths for the engine: the CPU reference (test oracle), its fast twin (WASM path) and the WebGPU explainer.
//
//   const opts = withExplainDefaults(userOptions, dims, topClass);      // validates, fills defaults
//   tensorsNeeded(opts.method)                                          // which model outputs to request
//   explainOnCpu({ attentions, attentionGrads }, dims, opts)            // Float32Arrays in, ExplainResult out
//   explainOnCpuFast(…same arguments…)                                  // the WASM path: same map, float64 sums
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
export { explainOnCpuFast } from './cpuFast';
export { GpuExplainer } from './gpuExplainer';
