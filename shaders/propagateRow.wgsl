// Propagates the CLS row through the blocks, from the last fused block down to the first:
// r ← r·M with M = I + Ā (relevance, lrp) or M = (Ā' + I) / rowsum (rollout, Ā' = Ā after the discard).
// Only row 0 of the product M_{L-1}⋯M_start is needed, so a row vector is propagated: O(L·N²) work instead
// of the O(L·N³) matrix products. The whole chain is sequential and small (N ≈ 197), so one workgroup runs it,
// each invocation owning columns j ≡ tid (mod WORKGROUP_SIZE); reads of a fused row are coalesced.

@group(0) @binding(0) var<uniform> params: ExplainParams;
@group(0) @binding(1) var<storage, read> fused: array<f32>;      // [fusedLayers,N,N]
@group(0) @binding(2) var<storage, read> thresholds: array<u32>; // [fusedLayers], read when discardCount > 0
@group(0) @binding(3) var<storage, read_write> row: array<f32>;  // [2N]: r, then r scaled by 1/rowsum

override WORKGROUP_SIZE: u32;

fn fusedEntry(slot: u32, i: u32, j: u32) -> f32 {
  let n = params.tokens;
  let value = fused[(slot * n + i) * n + j];
  let discarded = params.discardCount > 0u && i > 0u && j > 0u && orderedKey(value) < thresholds[slot];
  return select(value, 0.0, discarded);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32) {
  let n = params.tokens;
  for (var j = tid; j < n; j += WORKGROUP_SIZE) {
    row[j] = select(0.0, 1.0, j == 0u);
  }
  storageBarrier();
  for (var step = 0u; step < params.fusedLayers; step++) {
    let slot = params.fusedLayers - 1u - step;
    // Row-normalising M scales row i of Ā' + I by 1/rowsum_i; fold that into r_i once.
    for (var i = tid; i < n; i += WORKGROUP_SIZE) {
      var scaled = row[i];
      if (params.rowNormalise != 0u) {
        var sum = 0.0;
        for (var j = 0u; j < n; j++) { sum = sum + fusedEntry(slot, i, j); }
        scaled = scaled / (sum + 1.0);
      }
      row[n + i] = scaled;
    }
    storageBarrier();
    for (var j = tid; j < n; j += WORKGROUP_SIZE) {
      var acc = 0.0;
      for (var i = 0u; i < n; i++) { acc = acc + row[n + i] * fusedEntry(slot, i, j); }
      row[j] = acc + row[n + j]; // the + I term
    }
    storageBarrier();
  }
}
