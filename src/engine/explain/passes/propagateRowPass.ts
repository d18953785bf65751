// shaders/propagateRow.wgsl: the CLS row through the fused blocks, last block first (one workgroup).
import propagateRowSource from '../../../../shaders/propagateRow.wgsl?raw';
import { bufferBindGroup, explainPipeline } from './shaderSource';

/** The single workgroup's size: each invocation owns columns j ≡ id (mod WORKGROUP_SIZE). */
const WORKGROUP_SIZE = 256;

export class PropagateRowPass {
  private readonly pipeline: GPUComputePipeline;
  private readonly bindGroup: GPUBindGroup;

  constructor(device: GPUDevice, params: GPUBuffer, fused: GPUBuffer, thresholds: GPUBuffer, row: GPUBuffer) {
    this.pipeline = explainPipeline(device, 'PropagateRowPass', propagateRowSource, { WORKGROUP_SIZE });
    this.bindGroup = bufferBindGroup(device, 'PropagateRowPass.bindGroup', this.pipeline, [params, fused, thresholds, row]);
  }

  encode(pass: GPUComputePassEncoder): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.bindGroup);
    pass.dispatchWorkgroups(1);
  }
}
