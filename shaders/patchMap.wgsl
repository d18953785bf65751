// The CLS row over the patch tokens (CLS and DIST skipped) → raw G×G map, its range, and the min–max
// normalised map (all zeros when the map is flat). One workgroup; a tree reduction finds min and max.

@group(0) @binding(0) var<uniform> params: ExplainParams;
@group(0) @binding(1) var<storage, read> row: array<f32>;           // CLS row, N values from index 0
@group(0) @binding(2) var<storage, read_write> result: array<f32>;  // [min, max, raw G², normalised G²]

override WORKGROUP_SIZE: u32; // a power of two, for the tree reduction

var<workgroup> partialMin: array<f32, WORKGROUP_SIZE>;
var<workgroup> partialMax: array<f32, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32) {
  let cells = params.gridSize * params.gridSize;
  let first = params.prefixTokens;
  var lo = row[first];
  var hi = lo;
  for (var p = tid; p < cells; p += WORKGROUP_SIZE) {
    let value = row[first + p];
    result[2u + p] = value;
    lo = min(lo, value);
    hi = max(hi, value);
  }
  partialMin[tid] = lo;
  partialMax[tid] = hi;
  workgroupBarrier();
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride = stride / 2u) {
    if (tid < stride) {
      partialMin[tid] = min(partialMin[tid], partialMin[tid + stride]);
      partialMax[tid] = max(partialMax[tid], partialMax[tid + stride]);
    }
    workgroupBarrier();
  }
  let mapMin = partialMin[0];
  let mapMax = partialMax[0];
  if (tid == 0u) {
    result[0] = mapMin;
    result[1] = mapMax;
  }
  let range = mapMax - mapMin;
  for (var p = tid; p < cells; p += WORKGROUP_SIZE) {
    result[2u + cells + p] = select(0.0, (row[first + p] - mapMin) / range, range > 0.0);
  }
}
