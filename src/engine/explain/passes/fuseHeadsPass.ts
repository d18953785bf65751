// shaders/fuseHeads.wgsl: [L,1,H,N,N] (+ a second tensor) → fused [slots,N,N].
import fuseHeadsSource from '../../../../shaders/fuseHeads.wgsl?raw';
import { bufferBindGroup, explainPipeline } from './shaderSource';

/** One invocation per map entry. */
const WORKGROUP_SIZE = 64;

export class FuseHeadsPass {
  private readonly pipeline: GPUComputePipeline;
  /** The inputs change with each model run, so the bind group is cached for the last pair only. */
  private last: { x: GPUBuffer; y: GPUBuffer; bindGroup: GPUBindGroup } | null = null;

  constructor(private readonly device: GPUDevice, private readonly params: GPUBuffer, private readonly fused: GPUBuffer) {
    this.pipeline = explainPipeline(device, 'FuseHeadsPass', fuseHeadsSource, { WORKGROUP_SIZE });
  }

  /** Fuses `slots` blocks (from params.firstLayer) of x (and y) for maps of `tokens`² entries. */
  encode(pass: GPUComputePassEncoder, x: GPUBuffer, y: GPUBuffer, tokens: number, slots: number): void {
    if (this.last?.x !== x || this.last.y !== y) {
      this.last = { x, y, bindGroup: bufferBindGroup(this.device, 'FuseHeadsPass.bindGroup', this.pipeline, [this.params, x, y, this.fused]) };
    }
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.last.bindGroup);
    pass.dispatchWorkgroups(Math.ceil((tokens * tokens) / WORKGROUP_SIZE), slots);
  }

  /** Forgets the cached bind group (it references the caller's buffers). */
  release(): void {
    this.last = null;
  }
}
