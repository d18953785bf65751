// Fuses the H attention maps of each block in [firstLayer, firstLayer + fusedLayers) into one [N,N] map:
// mean / max / min of x (attention, rollout), or mean_h((x ⊙ y)⁺) (x = ∇A with y = A for relevance,
// y = R^A for lrp). One invocation per map entry; y is ignored except by FUSION_POSITIVE_PRODUCT_MEAN.

@group(0) @binding(0) var<uniform> params: ExplainParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;        // [L,1,H,N,N]
@group(0) @binding(2) var<storage, read> y: array<f32>;        // [L,1,H,N,N]
@group(0) @binding(3) var<storage, read_write> fused: array<f32>; // [fusedLayers,N,N]

override WORKGROUP_SIZE: u32;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3u) {
  let size = params.tokens * params.tokens;
  let entry = id.x;
  let slot = id.y;
  if (entry >= size || slot >= params.fusedLayers) {
    return;
  }
  let base = (params.firstLayer + slot) * params.heads * size + entry;
  var acc = x[base];
  switch params.fusion {
    case FUSION_MAX: {
      for (var h = 1u; h < params.heads; h++) { acc = max(acc, x[base + h * size]); }
    }
    case FUSION_MIN: {
      for (var h = 1u; h < params.heads; h++) { acc = min(acc, x[base + h * size]); }
    }
    case FUSION_MEAN: {
      // Sum in head order, then scale: the same float32 operations as the CPU reference.
      for (var h = 1u; h < params.heads; h++) { acc = acc + x[base + h * size]; }
      acc = acc * params.invHeads;
    }
    default: { // FUSION_POSITIVE_PRODUCT_MEAN
      acc = 0.0;
      for (var h = 0u; h < params.heads; h++) {
        let at = base + h * size;
        acc = acc + max(x[at] * y[at], 0.0);
      }
      acc = acc * params.invHeads;
    }
  }
  fused[slot * size + entry] = acc;
}
