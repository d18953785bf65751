// shaders/patchMap.wgsl: CLS row over the patches → [min, max, raw G², normalised G²] (one workgroup).
import patchMapSource from '../../../../shaders/patchMap.wgsl?raw';
import { bufferBindGroup, explainPipeline } from './shaderSource';

/** The single workgroup's size; a power of two for the tree reduction. */
const WORKGROUP_SIZE = 256;

/** Where the CLS row is: the propagated row, or row 0 of the (single) fused map for 'attention'. */
export type PatchMapSource = 'row' | 'fused';

export class PatchMapPass {
  private readonly pipeline: GPUComputePipeline;
  private readonly bindGroups: Record<PatchMapSource, GPUBindGroup>;

  constructor(device: GPUDevice, params: GPUBuffer, sources: Record<PatchMapSource, GPUBuffer>, result: GPUBuffer) {
    this.pipeline = explainPipeline(device, 'PatchMapPass', patchMapSource, { WORKGROUP_SIZE });
    this.bindGroups = {
      row: bufferBindGroup(device, 'PatchMapPass.fromRow.bindGroup', this.pipeline, [params, sources.row, result]),
      fused: bufferBindGroup(device, 'PatchMapPass.fromFused.bindGroup', this.pipeline, [params, sources.fused, result]),
    };
  }

  encode(pass: GPUComputePassEncoder, source: PatchMapSource): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.bindGroups[source]);
    pass.dispatchWorkgroups(1);
  }
}
