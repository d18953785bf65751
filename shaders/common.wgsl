// Shared by the explanation kernels; TypeScript prepends it (after the constants it generates, e.g. FUSION_MEAN)
// to each kernel's source.

// One uniform block for every explanation pass; written once per run by GpuExplainer (explain/gpuExplainer.ts).
struct ExplainParams {
  tokens: u32,        // N
  heads: u32,         // H
  prefixTokens: u32,  // 1 (CLS) or 2 (CLS, DIST)
  gridSize: u32,      // G; patch tokens are prefixTokens .. N-1
  firstLayer: u32,    // block fused into slot 0 of the fused buffer
  fusedLayers: u32,   // slots in the fused buffer: blocks firstLayer .. firstLayer + fusedLayers - 1
  fusion: u32,        // one of the FUSION_* constants
  discardCount: u32,  // rollout: candidates to discard per fused map (k); 0 = none
  rowNormalise: u32,  // 1 for rollout: M = (Ā + I) / rowsum; 0: M = I + Ā
  invHeads: f32,      // fround(1 / H): the mean multiplies by it so it matches the CPU reference bit for bit
}

// A u32 whose unsigned order is the order of the float: flip all bits of negatives, set the sign bit of
// positives. Used to select and compare discard thresholds exactly.
fn orderedKey(value: f32) -> u32 {
  let bits = bitcast<u32>(value);
  return select(bits | 0x80000000u, ~bits, (bits & 0x80000000u) != 0u);
}
