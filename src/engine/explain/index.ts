// Explanation maths for the engine: the method table, the CPU reference (test oracle), its fast twin (WASM path) and
// the WebGPU explainer.
//
//   methodSpec('rollout')                                               // graph, tensors, fusion, controls of a method
//   const opts = withExplainDefaults(userOptions, dims, topClass);      // validates, fills defaults
//   explainOnCpu({ attentions, attentionGrads }, dims, opts)            // Float32Arrays in, ExplainResult out
//   explainOnCpuFast(…same arguments…)                                  // the WASM path: same map, float64 sums
//   const gpu = await GpuExplainer.create(device, dims);                // once per device + model (or `new`)
//   await gpu.run({ attentions: buf, attentionGrads: buf2 }, opts);     // GPUBuffers (STORAGE) in, 196 floats read back
//   gpu.destroy();
export type { ExplainControl, ExplainMethodSpec, ExplainTensorName, ExplainTensors, MethodFusion } from './methods';
export {
  defaultStartLayer,
  EXPLAIN_METHOD_TABLE,
  EXPLAIN_METHODS,
  HEAD_FUSIONS,
  methodsFor,
  methodSpec,
  methodUses,
  tensorsNeeded,
} from './methods';
export type { ExplainDims } from './options';
export { discardCount, tensorLength, validateExplainDims, validateExplainOptions, withExplainDefaults } from './options';
export type { ExplainResult } from './result';
export { explainOnCpu } from './reference';
export { explainOnCpuFast } from './cpuFast';
export { GpuExplainer } from './gpuExplainer';
