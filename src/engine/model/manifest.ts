// manifest.json: parsed and checked against the contract before anything else is downloaded.
import { EngineError } from '../errors';
import { CONTRACT, type GraphRole } from './contract';

export interface ModelFileEntry {
  path: string;
  sha256: string;
  bytes: number;
}

export interface Manifest {
  contract_version: number;
  name: string;
  title: string;
  version: string;
  architecture: string;
  trained: boolean;
  image_size: number;
  patch_size: number;
  prefix_tokens: number;
  layers: number;
  heads: number;
  tokens: number;
  embed_dim: number;
  features: number;
  opset: number;
  graphs: Partial<Record<GraphRole, string>> & { full: string; forward: string };
  external_data: Record<string, string>;
  outputs: string[];
  files: ModelFileEntry[];
  default_head: string;
  backbone_sha256: string;
  training: { val_accuracy?: number; [key: string]: unknown };
  created: string;
}

const SHA256_PATTERN = /^[0-9a-f]{64}$/;
const GRAPH_ROLES = Object.keys(CONTRACT.graph_roles) as GraphRole[];

/** A file name inside the model folder: no scheme, no absolute path, no climbing out. */
export function isSafeRelativePath(path: string): boolean {
  if (path.length === 0 || path.startsWith('/') || path.includes('\\') || /^[a-z][a-z0-9+.-]*:/i.test(path)) return false;
  return path.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPositiveInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

/** Checks every contract rule that can be checked without the graphs; throws EngineError('model-contract'). */
export function validateManifest(json: unknown, source = 'manifest.json'): Manifest {
  const problems: string[] = [];
  const fail = (what: string) => problems.push(what);
  if (!isRecord(json)) throw new EngineError('model-contract', `${source}: not a JSON object`);

  const missing = CONTRACT.manifest_required.filter((key) => !(key in json));
  if (missing.length > 0) throw new EngineError('model-contract', `${source}: missing ${missing.join(', ')}`);
  const m = json as Record<string, unknown>;

  if (m.contract_version !== CONTRACT.contract_version) {
    fail(`contract_version ${JSON.stringify(m.contract_version)} (this app reads ${CONTRACT.contract_version})`);
  }
  for (const key of ['name', 'title', 'version', 'architecture', 'default_head', 'created'] as const) {
    if (typeof m[key] !== 'string' || (m[key] as string).length === 0) fail(`${key} must be a non-empty string`);
  }
  if (typeof m.trained !== 'boolean') fail('trained must be a boolean');
  for (const key of ['image_size', 'patch_size', 'prefix_tokens', 'layers', 'heads', 'tokens', 'embed_dim', 'features', 'opset'] as const) {
    if (!isPositiveInt(m[key])) fail(`${key} must be a positive integer`);
  }
  if (problems.length > 0) throw new EngineError('model-contract', `${source}: ${problems.join('; ')}`);

  const imageSize = m.image_size as number;
  const patchSize = m.patch_size as number;
  const prefix = m.prefix_tokens as number;
  if (prefix !== 1 && prefix !== 2) fail(`prefix_tokens ${prefix} (must be 1, or 2 when distilled)`);
  if (imageSize % patchSize !== 0) fail(`image_size ${imageSize} is not a multiple of patch_size ${patchSize}`);
  const grid = Math.floor(imageSize / patchSize);
  if (m.tokens !== grid * grid + prefix) fail(`tokens ${m.tokens} != (image_size/patch_size)² + prefix_tokens = ${grid * grid + prefix}`);
  if (m.features !== (m.embed_dim as number) * prefix) fail(`features ${m.features} != embed_dim·prefix_tokens = ${(m.embed_dim as number) * prefix}`);
  if ((m.opset as number) < CONTRACT.min_opset) fail(`opset ${m.opset} < ${CONTRACT.min_opset}`);
  if (typeof m.backbone_sha256 !== 'string' || !SHA256_PATTERN.test(m.backbone_sha256)) fail('backbone_sha256 must be 64 lowercase hex digits');
  if (!isRecord(m.training)) fail('training must be an object');
  if (typeof m.default_head === 'string' && !isSafeRelativePath(m.default_head)) fail(`default_head "${m.default_head}" is not a relative file name`);

  // graphs: role → file, full and forward required, only known roles.
  const graphs = m.graphs;
  const graphFiles: string[] = [];
  if (!isRecord(graphs)) fail('graphs must be an object');
  else {
    for (const [role, file] of Object.entries(graphs)) {
      if (!GRAPH_ROLES.includes(role as GraphRole)) fail(`graphs has unknown role "${role}"`);
      else if (typeof file !== 'string' || !isSafeRelativePath(file)) fail(`graphs.${role} is not a relative file name`);
      else graphFiles.push(file);
    }
    for (const role of ['full', 'forward'] as const) if (!(role in graphs)) fail(`graphs.${role} is missing`);
  }

  // external_data: graph file → weights file, one per graph.
  const external = m.external_data;
  const weightFiles = new Set<string>();
  if (!isRecord(external)) fail('external_data must be an object');
  else {
    for (const file of graphFiles) {
      const weights = external[file];
      if (typeof weights !== 'string' || !isSafeRelativePath(weights)) fail(`external_data has no weights file for ${file}`);
      else weightFiles.add(weights);
    }
  }

  // outputs of the model (over all its graphs): all required ones, only known ones, no duplicates;
  // attention_relevance exactly when there is an lrp graph (which alone computes it).
  const outputs = m.outputs;
  if (!Array.isArray(outputs) || !outputs.every((o) => typeof o === 'string')) fail('outputs must be an array of names');
  else {
    const known = CONTRACT.outputs.map((o) => o.name);
    for (const o of outputs) if (!known.includes(o)) fail(`outputs has unknown "${o}"`);
    if (new Set(outputs).size !== outputs.length) fail('outputs has duplicates');
    for (const o of CONTRACT.outputs) if (!o.optional && !outputs.includes(o.name)) fail(`outputs lacks "${o.name}"`);
    if (isRecord(graphs) && ('lrp' in graphs) !== outputs.includes('attention_relevance')) {
      fail('outputs lists attention_relevance exactly when graphs has lrp');
    }
  }
  if (isRecord(graphs) && 'lrp_fp16' in graphs && !('full_fp16' in graphs)) fail('graphs.lrp_fp16 without full_fp16');

  // files: every graph and weights file listed with size and sha256.
  const files = m.files;
  const listed = new Map<string, ModelFileEntry>();
  if (!Array.isArray(files)) fail('files must be an array');
  else {
    for (const [i, entry] of files.entries()) {
      if (!isRecord(entry) || typeof entry.path !== 'string' || !isSafeRelativePath(entry.path)) { fail(`files[${i}] has no valid path`); continue; }
      if (typeof entry.sha256 !== 'string' || !SHA256_PATTERN.test(entry.sha256)) fail(`files[${i}] (${entry.path}) sha256 is not 64 lowercase hex digits`);
      if (typeof entry.bytes !== 'number' || !Number.isInteger(entry.bytes) || entry.bytes <= 0) fail(`files[${i}] (${entry.path}) bytes must be a positive integer`);
      if (listed.has(entry.path)) fail(`files lists ${entry.path} twice`);
      listed.set(entry.path, entry as unknown as ModelFileEntry);
    }
    for (const file of [...graphFiles, ...weightFiles]) if (!listed.has(file)) fail(`files does not list ${file}`);
  }

  // Optional int8 download of the weights (docs/model-contract.md): two listed files; the layout is checked when loaded.
  const int8 = m[CONTRACT.int8_weights.manifest_key];
  if (int8 !== undefined) {
    if (!isRecord(int8)) fail(`${CONTRACT.int8_weights.manifest_key} must be an object`);
    else {
      for (const key of ['file', 'layout'] as const) {
        const file = int8[key];
        if (typeof file !== 'string' || !isSafeRelativePath(file)) fail(`${CONTRACT.int8_weights.manifest_key}.${key} is not a relative file name`);
        else if (!listed.has(file)) fail(`files does not list ${file}`);
      }
    }
  }

  // The backbone is identified by its fp32 weights.
  if (isRecord(graphs) && isRecord(external) && typeof graphs.full === 'string') {
    const weights = external[graphs.full];
    const entry = typeof weights === 'string' ? listed.get(weights) : undefined;
    if (entry && typeof m.backbone_sha256 === 'string' && entry.sha256 !== m.backbone_sha256) {
      fail(`backbone_sha256 differs from the sha256 of ${entry.path}`);
    }
    if (typeof graphs.forward === 'string' && external[graphs.forward] !== weights) fail('full and forward graphs must share one weights file');
    if (typeof graphs.lrp === 'string' && external[graphs.lrp] !== weights) fail('full and lrp graphs must share one weights file');
    const fp16Weights = typeof graphs.full_fp16 === 'string' ? external[graphs.full_fp16] : undefined;
    for (const role of ['forward_fp16', 'lrp_fp16'] as const) {
      const file = graphs[role];
      if (typeof file === 'string' && external[file] !== fp16Weights) fail(`full_fp16 and ${role} graphs must share one weights file`);
    }
  }

  if (problems.length > 0) throw new EngineError('model-contract', `${source}: ${problems.join('; ')}`);
  return json as unknown as Manifest;
}

export function gridSizeOf(manifest: Manifest): number {
  return manifest.image_size / manifest.patch_size;
}

export function fileEntry(manifest: Manifest, path: string): ModelFileEntry {
  const entry = manifest.files.find((f) => f.path === path);
  if (!entry) throw new EngineError('model-contract', `manifest.json: files does not list ${path}`);
  return entry;
}
