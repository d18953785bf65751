// Runs in the browser (loaded from the Vite server by test/gpu/kernels.test.ts): every explanation kernel
// configuration on GpuExplainer vs explainOnCpu, over the same tensors. Returns errors, not booleans, so the
// test can report them.
import { explainOnCpu, GpuExplainer, type ExplainDims, type ExplainTensors } from '../../src/engine/explain';
import type { ExplainOptions } from '../../src/engine/types';

export interface KernelCase {
  name: string;
  options: Required<ExplainOptions>;
  /** max |gpu − cpu| over the raw map, divided by the CPU map's range (or its largest |value| when flat). */
  rawError: number;
  /** max |gpu − cpu| over the normalised map. */
  valuesError: number;
  rangeError: number;
  cpuRange: number;
  gpuMs?: number;
  /** Wall time of the CPU reference and of GpuExplainer.run (submit to read-back), ms. */
  cpuWallMs: number;
  gpuWallMs: number;
}

export async function requireDevice(): Promise<GPUDevice> {
  const adapter = await navigator.gpu?.requestAdapter();
  if (!adapter) throw new Error('no WebGPU adapter (navigator.gpu missing or requestAdapter() returned null)');
  const device = await adapter.requestDevice({
    requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
  });
  device.addEventListener('uncapturederror', (e) => console.error(`WebGPU: ${(e as GPUUncapturedErrorEvent).error.message}`));
  return device;
}

export function uploadTensor(device: GPUDevice, data: Float32Array<ArrayBuffer>, label: string): GPUBuffer {
  const buffer = device.createBuffer({ label, size: data.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(buffer, 0, data);
  return buffer;
}

export async function compareExplainers(
  dims: ExplainDims,
  tensors: Required<ExplainTensors<Float32Array<ArrayBuffer>>>,
  optionList: Required<ExplainOptions>[],
): Promise<KernelCase[]> {
  const device = await requireDevice();
  const errors: string[] = [];
  device.addEventListener('uncapturederror', (e) => errors.push((e as GPUUncapturedErrorEvent).error.message));
  const buffers: ExplainTensors<GPUBuffer> = {
    attentions: uploadTensor(device, tensors.attentions, 'test.attentions'),
    attentionGrads: uploadTensor(device, tensors.attentionGrads, 'test.attentionGrads'),
    attentionRelevance: uploadTensor(device, tensors.attentionRelevance, 'test.attentionRelevance'),
  };
  const explainer = await GpuExplainer.create(device, dims);
  const cases: KernelCase[] = [];
  try {
    for (const options of optionList) {
      const cpuStart = performance.now();
      const cpu = explainOnCpu(tensors, dims, options);
      const gpuStart = performance.now();
      const gpu = await explainer.run(buffers, options);
      const gpuWallMs = performance.now() - gpuStart;
      const cpuWallMs = gpuStart - cpuStart;
      if (errors.length) throw new Error(`WebGPU validation: ${errors.join('; ')}`);
      const cpuRange = cpu.max - cpu.min;
      const scale = cpuRange > 0 ? cpuRange : Math.max(Math.abs(cpu.max), Math.abs(cpu.min), 1e-30);
      let rawError = 0;
      let valuesError = 0;
      for (let p = 0; p < cpu.raw.length; p++) {
        rawError = Math.max(rawError, Math.abs(gpu.raw[p]! - cpu.raw[p]!) / scale);
        valuesError = Math.max(valuesError, Math.abs(gpu.values[p]! - cpu.values[p]!));
      }
      if (gpu.raw.length !== cpu.raw.length || gpu.values.length !== cpu.values.length) rawError = Infinity;
      const rangeError = Math.max(Math.abs(gpu.min - cpu.min), Math.abs(gpu.max - cpu.max)) / scale;
      const { method, headFusion, discardRatio, startLayer } = options;
      cases.push({ name: `${method}/${headFusion}/discard ${discardRatio}/start ${startLayer}`, options, rawError, valuesError, rangeError, cpuRange, cpuWallMs, gpuWallMs, ...(gpu.gpuMs === undefined ? {} : { gpuMs: gpu.gpuMs }) });
    }
  } finally {
    explainer.destroy();
    for (const b of Object.values(buffers)) b?.destroy();
    device.destroy();
  }
  return cases;
}

/** The model pipeline's committed fixture tensors (test/fixtures/<model>/: real attention of a random DeiT). */
export async function loadFixtureTensors(model: string, caseName: string): Promise<{ dims: ExplainDims; tensors: Required<ExplainTensors<Float32Array<ArrayBuffer>>> }> {
  const base = `/test/fixtures/${model}`;
  const fetchOk = async (path: string) => {
    const response = await fetch(`${base}/${path}`);
    if (!response.ok) throw new Error(`fixture ${base}/${path}: HTTP ${response.status}`);
    return response;
  };
  const index = await (await fetchOk('index.json')).json();
  const outputs = index.cases[caseName].outputs as Record<string, string>;
  const tensor = async (name: string) => {
    const entry = index.tensors[outputs[name]!];
    return { shape: entry.shape as number[], data: new Float32Array(await (await fetchOk(entry.file)).arrayBuffer()) };
  };
  const manifest = await (await fetch(`/${index.model_dir}/manifest.json`)).json();
  const dims: ExplainDims = {
    layers: manifest.layers,
    heads: manifest.heads,
    tokens: manifest.tokens,
    prefixTokens: manifest.prefix_tokens,
    gridSize: manifest.image_size / manifest.patch_size,
  };
  const attentions = await tensor('attentions');
  if (attentions.shape.join() !== [dims.layers, 1, dims.heads, dims.tokens, dims.tokens].join()) {
    throw new Error(`fixture ${model}: attentions shape ${attentions.shape} disagrees with the manifest`);
  }
  return {
    dims,
    tensors: {
      attentions: attentions.data,
      attentionGrads: (await tensor('attention_grads')).data,
      attentionRelevance: (await tensor('attention_relevance')).data,
    },
  };
}
