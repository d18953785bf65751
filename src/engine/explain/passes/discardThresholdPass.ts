// shaders/discardThreshold.wgsl: one exact rollout discard threshold key per fused map.
import discardThresholdSource from '../../../../shaders/discardThreshold.wgsl?raw';
import { bufferBindGroup, explainPipeline } from './shaderSource';

/** One workgroup per fused map. */
const WORKGROUP_SIZE = 256;

export class DiscardThresholdPass {
  private readonly pipeline: GPUComputePipeline;
  private readonly bindGroup: GPUBindGroup;

  constructor(device: GPUDevice, params: GPUBuffer, fused: GPUBuffer, thresholds: GPUBuffer) {
    this.pipeline = explainPipeline(device, 'DiscardThresholdPass', discardThresholdSource, { WORKGROUP_SIZE });
    this.bindGroup = bufferBindGroup(device, 'DiscardThresholdPass.bindGroup', this.pipeline, [params, fused, thresholds]);
  }

  encode(pass: GPUComputePassEncoder, slots: number): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.bindGroup);
    pass.dispatchWorkgroups(slots);
  }
}
