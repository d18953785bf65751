// Rollout discard: for each fused [N,N] map, finds the threshold key = the ordered key of the candidate of
// rank k (0-based, ascending; k = params.discardCount). Candidates are the (N-1)² entries off the CLS row and
// column. propagateRow.wgsl then zeroes candidates whose key is below it (ties at the threshold are kept).
//
// Exact and GPU-friendly: a 4-pass radix select over the 32-bit keys, 8 bits per pass from the top. Each round
// counts, in a 256-bin workgroup histogram, the candidates that share the digits found so far, and picks the
// bin holding rank k. One workgroup per map; O(4·N²) reads, no sort, no global atomics.

@group(0) @binding(0) var<uniform> params: ExplainParams;
@group(0) @binding(1) var<storage, read> fused: array<f32>;        // [fusedLayers,N,N]
@group(0) @binding(2) var<storage, read_write> thresholds: array<u32>; // [fusedLayers]

override WORKGROUP_SIZE: u32;

const DIGIT_BITS: u32 = 8u;
const BINS: u32 = 256u; // 2^DIGIT_BITS

var<workgroup> histogram: array<atomic<u32>, BINS>;
var<workgroup> prefix: u32; // digits of the threshold key found so far
var<workgroup> rank: u32;   // rank of the threshold among the candidates that share `prefix`

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_index) tid: u32) {
  let n = params.tokens;
  let side = n - 1u;
  let candidates = side * side;
  let base = group.x * n * n;
  if (tid == 0u) {
    prefix = 0u;
    rank = params.discardCount;
  }
  for (var round = 0u; round < 32u / DIGIT_BITS; round++) {
    let shift = 32u - DIGIT_BITS * (round + 1u);
    // The digits above this pass's; none in the first round (a shift by 32 would be taken mod 32).
    let known = select(0xffffffffu << (shift + DIGIT_BITS), 0u, round == 0u);
    for (var b = tid; b < BINS; b += WORKGROUP_SIZE) {
      atomicStore(&histogram[b], 0u);
    }
    workgroupBarrier();
    let wanted = prefix;
    for (var c = tid; c < candidates; c += WORKGROUP_SIZE) {
      let i = 1u + c / side;
      let j = 1u + c % side;
      let key = orderedKey(fused[base + i * n + j]);
      if ((key & known) == wanted) {
        atomicAdd(&histogram[(key >> shift) & (BINS - 1u)], 1u);
      }
    }
    workgroupBarrier();
    if (tid == 0u) {
      var remaining = rank;
      for (var b = 0u; b < BINS; b++) {
        let count = atomicLoad(&histogram[b]);
        if (remaining < count) {
          prefix = prefix | (b << shift);
          break;
        }
        remaining -= count;
      }
      rank = remaining;
    }
    workgroupBarrier();
  }
  if (tid == 0u) {
    thresholds[group.x] = prefix;
  }
}
