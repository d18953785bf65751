// Heatmap overlay: one invocation per output pixel. Bilinear upsample of the G×G map at the pixel centre,
// colour via a 256-entry table (TS uploads jet, viridis and turbo; lutOffset picks one), bilinear sample of
// the photo's covered rectangle (composited over white where it is transparent), alpha-blend, opaque write.
// Reference: src/engine/render/reference.ts (same definitions).

struct OverlayParams {
  outputSize: vec2u,
  gridSize: u32,
  lutOffset: u32,    // first entry of the chosen colour map in `lut`
  photoRect: vec4f,  // x, y, width, height in photo texels
  opacity: f32,
  lutEntries: u32,
}

@group(0) @binding(0) var<uniform> params: OverlayParams;
@group(0) @binding(1) var<storage, read> values: array<f32>; // G×G, normalised
@group(0) @binding(2) var<storage, read> lut: array<u32>;    // RGBA8 packed, little-endian (R in the low byte)
@group(0) @binding(3) var photo: texture_2d<f32>;
@group(0) @binding(4) var output: texture_storage_2d<rgba8unorm, write>;

override WORKGROUP_SIDE: u32;

// Source position of output index `x` over [start, start + extent) of a `count`-sample axis:
// (lower index, upper index, weight of the upper).
fn axisSample(x: u32, outSize: u32, start: f32, extent: f32, count: u32) -> vec3f {
  let s = clamp(start + (f32(x) + 0.5) * extent / f32(outSize) - 0.5, 0.0, f32(count - 1u));
  let i0 = floor(s);
  return vec3f(i0, min(i0 + 1.0, f32(count - 1u)), s - i0);
}

fn mapValue(ax: vec3f, ay: vec3f) -> f32 {
  let g = params.gridSize;
  let x0 = u32(ax.x);
  let x1 = u32(ax.y);
  let y0 = u32(ay.x);
  let y1 = u32(ay.y);
  let top = mix(values[y0 * g + x0], values[y0 * g + x1], ax.z);
  let bottom = mix(values[y1 * g + x0], values[y1 * g + x1], ax.z);
  return clamp(mix(top, bottom, ay.z), 0.0, 1.0);
}

fn colour(value: f32) -> vec3f {
  let p = value * f32(params.lutEntries - 1u);
  let i0 = u32(floor(p));
  let i1 = min(i0 + 1u, params.lutEntries - 1u);
  let c0 = unpack4x8unorm(lut[params.lutOffset + i0]).rgb;
  let c1 = unpack4x8unorm(lut[params.lutOffset + i1]).rgb;
  return mix(c0, c1, p - f32(i0));
}

fn photoSample(ax: vec3f, ay: vec3f) -> vec4f {
  let top = mix(textureLoad(photo, vec2u(u32(ax.x), u32(ay.x)), 0), textureLoad(photo, vec2u(u32(ax.y), u32(ay.x)), 0), ax.z);
  let bottom = mix(textureLoad(photo, vec2u(u32(ax.x), u32(ay.y)), 0), textureLoad(photo, vec2u(u32(ax.y), u32(ay.y)), 0), ax.z);
  return mix(top, bottom, ay.z);
}

@compute @workgroup_size(WORKGROUP_SIDE, WORKGROUP_SIDE)
fn main(@builtin(global_invocation_id) id: vec3u) {
  let size = params.outputSize;
  if (id.x >= size.x || id.y >= size.y) {
    return;
  }
  let g = params.gridSize;
  let heat = colour(mapValue(axisSample(id.x, size.x, 0.0, f32(g), g), axisSample(id.y, size.y, 0.0, f32(g), g)));
  let photoSize = textureDimensions(photo);
  let rect = params.photoRect;
  let texel = photoSample(axisSample(id.x, size.x, rect.x, rect.z, photoSize.x), axisSample(id.y, size.y, rect.y, rect.w, photoSize.y));
  let over = texel.rgb * texel.a + (1.0 - texel.a); // composited over white
  textureStore(output, id.xy, vec4f(mix(over, heat, params.opacity), 1.0));
}
