// The int8 download of the weights (docs/model-contract.md, "int8 weights"): the layout is checked, then the
// weights file a graph names (float32 or float16) is rebuilt in memory from int8 values and per-channel scales.
// The cache keeps only what was downloaded (the int8 file); the rebuilt bytes live as long as the sessions need them.
import { EngineError } from '../errors';
import { CONTRACT } from './contract';
import type { Manifest } from './manifest';

export type TargetDtype = 'float32' | 'float16';

export interface Int8Tensor {
  name: string;
  shape: number[];
  encoding: 'int8' | 'float32';
  axis?: number;
  offset: number;
  scales?: number;
  targets: Record<string, { offset: number; dtype: TargetDtype }>;
}

export interface Int8Layout {
  format: string;
  version: number;
  file: string;
  bytes: number;
  source: string;
  targets: Record<string, { bytes: number; dtype: TargetDtype }>;
  tensors: Int8Tensor[];
}

export interface Int8Files { file: string; layout: string }

const RULES = CONTRACT.int8_weights;
const DTYPE_BYTES: Record<TargetDtype, number> = { float32: 4, float16: 2 };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
const isOffset = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** The manifest's `weights_int8` entry, if it has a valid one (checked by validateManifest). */
export function int8FilesOf(manifest: Manifest): Int8Files | undefined {
  const entry = (manifest as unknown as Record<string, unknown>)[RULES.manifest_key];
  return isRecord(entry) ? (entry as unknown as Int8Files) : undefined;
}

/** A gap the weights file's own alignment leaves before a tensor (model/onnx_tools.py aligns each one). */
function isPadding(end: number, start: number): boolean {
  return start - end < RULES.target_alignment && start % RULES.target_alignment === 0;
}

function elementCount(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Every rule of the contract; throws EngineError('model-contract') naming the first problems. */
export function validateInt8Layout(json: unknown, manifest: Manifest, source = 'model.int8.json'): Int8Layout {
  const fail = (what: string): never => { throw new EngineError('model-contract', `${source}: ${what}`); };
  if (!isRecord(json)) return fail('not a JSON object');
  const missing = RULES.layout_required.filter((k) => !(k in json));
  if (missing.length > 0) fail(`missing ${missing.join(', ')}`);
  if (json.format !== RULES.format) fail(`format ${JSON.stringify(json.format)} (expected ${RULES.format})`);
  if (json.version !== RULES.version) fail(`version ${JSON.stringify(json.version)} (this app reads ${RULES.version})`);
  const files = int8FilesOf(manifest);
  if (json.file !== files?.file) fail(`file ${JSON.stringify(json.file)} is not the manifest's weights_int8.file`);
  const size = json.bytes;
  if (!isOffset(size)) return fail('bytes must be a non-negative integer');
  const listed = manifest.files.find((f) => f.path === json.file);
  if (listed && listed.bytes !== size) fail(`bytes ${size} but files lists ${listed.bytes} for ${String(json.file)}`);
  const weightFiles = new Set(Object.values(manifest.external_data));
  if (!isRecord(json.targets) || Object.keys(json.targets).length === 0) return fail('targets must name at least one weights file');
  const targets = json.targets as Record<string, unknown>;
  for (const [file, target] of Object.entries(targets)) {
    if (!weightFiles.has(file)) fail(`target ${file} is not a weights file of external_data`);
    if (!isRecord(target) || !isOffset(target.bytes) || !RULES.target_dtypes.includes(target.dtype as TargetDtype)) fail(`target ${file} needs bytes and a dtype of ${RULES.target_dtypes.join('/')}`);
    const entry = manifest.files.find((f) => f.path === file);
    if (entry && entry.bytes !== (target as { bytes: number }).bytes) fail(`target ${file}: ${String((target as { bytes: number }).bytes)} bytes, files lists ${entry.bytes}`);
  }
  if (!Array.isArray(json.tensors)) return fail('tensors must be an array');
  const spans = new Map<string, [number, number, string][]>(Object.keys(targets).map((f) => [f, []]));
  for (const [i, t] of (json.tensors as unknown[]).entries()) {
    if (!isRecord(t)) return fail(`tensors[${i}] is not an object`);
    const lacking = RULES.tensor_required.filter((k) => !(k in t));
    if (lacking.length > 0) fail(`tensors[${i}] lacks ${lacking.join(', ')}`);
    const name = typeof t.name === 'string' ? t.name : `tensors[${i}]`;
    if (!Array.isArray(t.shape) || !t.shape.every(isOffset)) fail(`${name}: shape must be non-negative integers`);
    const shape = t.shape as number[];
    const count = elementCount(shape);
    if (!RULES.encodings.includes(t.encoding as 'int8')) fail(`${name}: encoding ${JSON.stringify(t.encoding)}`);
    if (!isOffset(t.offset)) fail(`${name}: offset must be a non-negative integer`);
    const offset = t.offset as number;
    if (t.encoding === 'int8') {
      if (!isOffset(t.axis) || (t.axis as number) >= shape.length) fail(`${name}: int8 needs an axis of its shape`);
      if (!isOffset(t.scales) || (t.scales as number) % 4 !== 0) fail(`${name}: int8 needs 4-aligned scales`);
      if (offset + count > size || (t.scales as number) + 4 * shape[t.axis as number]! > size) fail(`${name}: data beyond the int8 file`);
    } else {
      if (offset % 4 !== 0) fail(`${name}: float32 data must be 4-aligned`);
      if (offset + 4 * count > size) fail(`${name}: data beyond the int8 file`);
    }
    if (!isRecord(t.targets)) return fail(`${name}: targets must be an object`);
    for (const [file, spot] of Object.entries(t.targets)) {
      const list = spans.get(file);
      if (!list) return fail(`${name}: target ${file} is not in targets`);
      if (!isRecord(spot) || !isOffset(spot.offset) || spot.dtype !== (targets[file] as { dtype: string }).dtype) fail(`${name}: target ${file} needs an offset and the file's dtype`);
      const start = (spot as { offset: number }).offset;
      list.push([start, start + count * DTYPE_BYTES[(spot as { dtype: TargetDtype }).dtype], name]);
    }
  }
  for (const [file, list] of spans) {
    list.sort((a, b) => a[0] - b[0]);
    let position = 0;
    for (const [start, end, name] of list) {
      if (start < position) fail(`${file}: ${name} overlaps the tensor before it`);
      if (start > position && !isPadding(position, start)) fail(`${file}: bytes ${position}…${start} belong to no tensor`);
      position = end;
    }
    const total = (targets[file] as { bytes: number }).bytes;
    if (position !== total) fail(`${file}: tensors cover ${position} of ${total} bytes`);
  }
  return json as unknown as Int8Layout;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE float32 → float16 bits, round to nearest even (as numpy's astype(float16)); overflow → ±Inf. */
export function float16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf / NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let out = mant >>> shift;
    if (rest > half || (rest === half && (out & 1))) out += 1;
    return sign | out;
  }
  let out = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (out & 1))) out += 1; // may carry into the exponent: still correct
  return sign | out;
}

/** The platform stores typed arrays little-endian (every browser engine in use): the rebuilt float32 weights can then
 * be written through a Float32Array, several times faster than DataView's per-element calls. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The weights file `target` rebuilt from the int8 file: float32 or float16 little-endian, laid out as the graphs expect.
 * Hundreds of milliseconds on a phone for the shipped model: the app runs it in a worker (int8OffThread.ts). */
export function rebuildWeights(blob: Uint8Array, layout: Int8Layout, target: string): Uint8Array<ArrayBuffer> {
  const spec = layout.targets[target];
  if (!spec) throw new EngineError('model-contract', `model.int8.json has no target ${target}`);
  if (blob.byteLength !== layout.bytes) throw new EngineError('model-checksum', `${layout.file}: ${blob.byteLength} bytes, layout says ${layout.bytes}`);
  const out = new Uint8Array(spec.bytes);
  const view = new DataView(out.buffer);
  const source = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const int8 = new Int8Array(blob.buffer, blob.byteOffset, blob.byteLength);
  const values = new Float32Array(largestTensor(layout, target));
  for (const t of layout.tensors) {
    const spot = t.targets[target];
    if (!spot) continue;
    const count = elementCount(t.shape);
    if (t.encoding === 'float32') {
      for (let i = 0; i < count; i++) values[i] = source.getFloat32(t.offset + 4 * i, true);
    } else {
      // Row-major: element i belongs to channel floor(i / inner) mod channels along `axis`.
      const axis = t.axis!;
      const channels = t.shape[axis]!;
      const inner = elementCount(t.shape.slice(axis + 1));
      const scales = new Float32Array(channels);
      for (let c = 0; c < channels; c++) scales[c] = source.getFloat32(t.scales! + 4 * c, true);
      let i = 0;
      while (i < count) {
        const scale = scales[Math.floor(i / inner) % channels]!;
        // Float32Array stores round to float32: the product exactly as numpy's float32 q * scale.
        for (const end = i + inner; i < end; i++) values[i] = int8[t.offset + i]! * scale;
      }
    }
    if (spot.dtype === 'float32') {
      if (LITTLE_ENDIAN && spot.offset % 4 === 0) out.set(new Uint8Array(values.buffer, 0, 4 * count), spot.offset);
      else for (let i = 0; i < count; i++) view.setFloat32(spot.offset + 4 * i, values[i]!, true);
    } else {
      for (let i = 0; i < count; i++) view.setUint16(spot.offset + 2 * i, float16Bits(values[i]!), true);
    }
  }
  return out;
}

function largestTensor(layout: Int8Layout, target: string): number {
  return layout.tensors.reduce((most, t) => (t.targets[target] ? Math.max(most, elementCount(t.shape)) : most), 0);
}
