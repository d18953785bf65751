// npm run eval:int8 [-- --model DIR --data DIR --limit K --json docs/bench/int8.json --doc docs/benchmarks.md]
// The int8 download against the float32 weights it replaces, on the validation photos: accuracy of both, how
// often they predict the same class, and per explanation method how well the maps agree (Spearman rank
// correlation over the patches, same top patch, overlap of the top 10 % of patches). Both runs use the same
// float32 lrp graph (every output at once) in onnxruntime-node; the int8 run gets the weights rebuilt by the
// engine's own code (src/engine/model/int8.ts). Photos: centre square, 224 px, by ImageMagick (`convert`).
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { writeMarkedSection } from '../bench/lib/markedSection';
import { machineReport } from '../bench/lib/machine';
import { EXPLAIN_METHODS } from '../src/engine/explain/methods';
import { withExplainDefaults, type ExplainDims } from '../src/engine/explain/options';
import { explainOnCpu } from '../src/engine/explain/reference';
import { int8FilesOf, rebuildWeights, validateInt8Layout } from '../src/engine/model/int8';
import { gridSizeOf, validateManifest } from '../src/engine/model/manifest';
import { toOrtFeeds } from '../src/engine/model/feeds';
import { modelFeeds, readModel } from '../bench/lib/modelFiles';
import type { ExplainMethod } from '../src/engine/types';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'public/models/deit-tiny-beans' },
    data: { type: 'string', default: '../shared/data/beans/val' },
    limit: { type: 'string' },
    json: { type: 'string', default: 'docs/bench/int8.json' },
    doc: { type: 'string', default: 'docs/benchmarks.md' },
  },
});
const log = (line: string): void => console.log(`[eval:int8] ${line}`);
const TOP_SHARE = 0.1;

interface MethodAgreement { spearman_mean: number; spearman_min: number; top_patch_same: number; top10_overlap_mean: number }
interface Int8Report {
  kind: 'int8-eval';
  created: string;
  model: string;
  photos: number;
  bytes: { float32_weights: number; int8_download: number };
  accuracy: { float32: number; int8: number; change_points: number };
  same_prediction: number;
  max_probability_change: number;
  methods: Record<string, MethodAgreement>;
  machine: ReturnType<typeof machineReport>;
  note: string;
}

function ranks(values: Float32Array): Float64Array {
  const order = Array.from(values.keys()).sort((a, b) => values[a]! - values[b]!);
  const out = new Float64Array(values.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && values[order[j + 1]!] === values[order[i]!]) j++;
    for (let k = i; k <= j; k++) out[order[k]!] = (i + j) / 2; // ties share the mean rank
    i = j + 1;
  }
  return out;
}

function spearman(a: Float32Array, b: Float32Array): number {
  const ra = ranks(a);
  const rb = ranks(b);
  const mean = (ra.length - 1) / 2;
  let num = 0, da = 0, db = 0;
  for (let i = 0; i < ra.length; i++) {
    num += (ra[i]! - mean) * (rb[i]! - mean);
    da += (ra[i]! - mean) ** 2;
    db += (rb[i]! - mean) ** 2;
  }
  return da === 0 || db === 0 ? (da === db ? 1 : 0) : num / Math.sqrt(da * db);
}

function topSet(values: Float32Array, k: number): Set<number> {
  return new Set(Array.from(values.keys()).sort((x, y) => values[y]! - values[x]!).slice(0, k));
}

function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

function softmax(logits: Float32Array): number[] {
  const m = Math.max(...logits);
  const e = Array.from(logits, (v) => Math.exp(v - m));
  const s = e.reduce((x, y) => x + y, 0);
  return e.map((v) => v / s);
}

/** Centre square, 224×224 RGB in [0,1], NCHW. */
function loadPhoto(path: string, size: number): Float32Array {
  const rgb = execFileSync('convert', [path, '-auto-orient', '-resize', `${size}x${size}^`, '-gravity', 'center', '-extent', `${size}x${size}`, '-depth', '8', 'rgb:-'], { maxBuffer: 1 << 24 });
  if (rgb.length !== size * size * 3) throw new Error(`${path}: decoded ${rgb.length} bytes`);
  const plane = size * size;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) out[c * plane + i] = rgb[3 * i + c]! / 255;
  return out;
}

async function main(): Promise<void> {
  const started = Date.now();
  const modelDir = resolve(args.model);
  const manifest = validateManifest(JSON.parse(readFileSync(join(modelDir, 'manifest.json'), 'utf8')));
  const int8 = int8FilesOf(manifest);
  if (!int8) throw new Error(`${modelDir} has no int8 weights: python model/quantize.py ${args.model}`);
  const graph = manifest.graphs.lrp ?? manifest.graphs.full;
  const weightsPath = manifest.external_data[graph]!;
  const layout = validateInt8Layout(JSON.parse(readFileSync(join(modelDir, int8.layout), 'utf8')), manifest);
  const blob = new Uint8Array(readFileSync(join(modelDir, int8.file)));
  // onnxruntime-node reads external data next to the graph: one folder per variant.
  const work = resolve('.work/eval-int8');
  for (const variant of ['float32', 'int8']) {
    mkdirSync(join(work, variant), { recursive: true });
    copyFileSync(join(modelDir, graph), join(work, variant, graph));
  }
  copyFileSync(join(modelDir, weightsPath), join(work, 'float32', weightsPath));
  writeFileSync(join(work, 'int8', weightsPath), rebuildWeights(blob, layout, weightsPath));
  const sessions = {
    float32: await ort.InferenceSession.create(join(work, 'float32', graph)),
    int8: await ort.InferenceSession.create(join(work, 'int8', graph)),
  };
  const { head } = readModel(modelDir);
  const feedsFor = (pixels: Float32Array, inputs: readonly string[]): Record<string, ort.Tensor> => {
    const all = toOrtFeeds(modelFeeds(manifest, head, pixels), (data, dims) => new ort.Tensor('float32', data, dims));
    return Object.fromEntries(inputs.map((name) => [name, all[name]!]));
  };
  const dims: ExplainDims = { layers: manifest.layers, heads: manifest.heads, tokens: manifest.tokens, prefixTokens: manifest.prefix_tokens, gridSize: gridSizeOf(manifest) };
  const methods = EXPLAIN_METHODS.filter((m) => m !== 'lrp' || graph === manifest.graphs.lrp);

  const dataDir = resolve(args.data);
  const photos = readdirSync(dataDir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()
    .flatMap((label) => readdirSync(join(dataDir, label)).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort().map((f) => ({ label, path: join(dataDir, label, f) })))
    .slice(0, args.limit ? Number(args.limit) : undefined);
  log(`${manifest.name}: ${photos.length} photos from ${dataDir}; graph ${graph}; methods ${methods.join(', ')}`);

  let right32 = 0, right8 = 0, same = 0, maxProbChange = 0;
  const perMethod = new Map<ExplainMethod, { rho: number[]; top: number; overlap: number[] }>(methods.map((m) => [m, { rho: [], top: 0, overlap: [] }]));
  const topK = Math.max(1, Math.round(TOP_SHARE * dims.gridSize * dims.gridSize));
  for (const [index, photo] of photos.entries()) {
    const pixels = loadPhoto(photo.path, manifest.image_size);
    const out = {} as Record<'float32' | 'int8', Record<string, ort.Tensor>>;
    for (const variant of ['float32', 'int8'] as const) out[variant] = await sessions[variant].run(feedsFor(pixels, sessions[variant].inputNames));
    const logits32 = out.float32.logits!.data as Float32Array;
    const logits8 = out.int8.logits!.data as Float32Array;
    const p32 = softmax(logits32);
    const p8 = softmax(logits8);
    const c32 = argmax(p32);
    const c8 = argmax(p8);
    if (head.labels[c32] === photo.label) right32++;
    if (head.labels[c8] === photo.label) right8++;
    if (c32 === c8) same++;
    maxProbChange = Math.max(maxProbChange, ...p32.map((p, i) => Math.abs(p - p8[i]!)));
    for (const method of methods) {
      // Both explain the float32 model's class, so the maps answer the same question.
      const options = withExplainDefaults({ method }, dims, c32);
      const maps = (['float32', 'int8'] as const).map((variant) => explainOnCpu({
        attentions: out[variant].attentions!.data as Float32Array,
        attentionGrads: out[variant].attention_grads?.data as Float32Array | undefined,
        attentionRelevance: out[variant].attention_relevance?.data as Float32Array | undefined,
      }, dims, options).raw);
      const entry = perMethod.get(method)!;
      entry.rho.push(spearman(maps[0]!, maps[1]!));
      if (argmax(maps[0]!) === argmax(maps[1]!)) entry.top++;
      const a = topSet(maps[0]!, topK);
      entry.overlap.push([...topSet(maps[1]!, topK)].filter((i) => a.has(i)).length / topK);
    }
    if ((index + 1) % 10 === 0) log(`${index + 1}/${photos.length} photos (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  }
  // Note: the lrp graph's target is all zeros, so it explains its own top class; when the two runs disagree on the
  // class the maps still compare the same photo.
  const n = photos.length;
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const report: Int8Report = {
    kind: 'int8-eval',
    created: new Date().toISOString(),
    model: manifest.name,
    photos: n,
    bytes: { float32_weights: manifest.files.find((f) => f.path === weightsPath)!.bytes, int8_download: blob.byteLength + manifest.files.find((f) => f.path === int8.layout)!.bytes },
    accuracy: { float32: right32 / n, int8: right8 / n, change_points: 100 * (right8 - right32) / n },
    same_prediction: same / n,
    max_probability_change: maxProbChange,
    methods: Object.fromEntries([...perMethod].map(([m, e]) => [m, { spearman_mean: mean(e.rho), spearman_min: Math.min(...e.rho), top_patch_same: e.top / n, top10_overlap_mean: mean(e.overlap) }])),
    machine: machineReport(),
    note: `float32 ${graph} in onnxruntime-node (CPU) with ${weightsPath} as exported vs rebuilt from ${int8.file}; photos centre-cropped to ${manifest.image_size} px by ImageMagick (the app's canvas resampling differs slightly, so accuracy can differ from the manifest's by a photo or two)`,
  };
  mkdirSync(dirname(args.json), { recursive: true });
  writeFileSync(args.json, JSON.stringify(report, null, 2) + '\n');
  const table = int8TableMarkdown(report);
  console.log(`\n${table}\n`);
  if (args.doc && existsSync(args.doc)) writeMarkedSection(args.doc, 'eval:int8', table, '## int8 weights against float32');
  log(`wrote ${args.json}${args.doc ? ` and the table in ${args.doc}` : ''} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
}

function int8TableMarkdown(r: Int8Report): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  return [
    `${r.model}, ${r.photos} validation photos (${r.created.slice(0, 10)}; \`npm run eval:int8\`, docs/bench/int8.json). ` +
      `Download: ${(r.bytes.int8_download / 1e6).toFixed(2)} MB int8 instead of ${(r.bytes.float32_weights / 1e6).toFixed(2)} MB float32.`,
    '',
    '| | float32 | int8 | change |',
    '| --- | ---: | ---: | ---: |',
    `| accuracy | ${pct(r.accuracy.float32)} | ${pct(r.accuracy.int8)} | ${r.accuracy.change_points >= 0 ? '+' : ''}${r.accuracy.change_points.toFixed(1)} points |`,
    `| same predicted class | | | ${pct(r.same_prediction)} of photos |`,
    `| largest change of a class probability | | | ${r.max_probability_change.toFixed(4)} |`,
    '',
    '| method | rank correlation (mean) | rank correlation (worst photo) | same top patch | top-10 % patches shared |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...Object.entries(r.methods).map(([m, a]) => `| ${m} | ${a.spearman_mean.toFixed(4)} | ${a.spearman_min.toFixed(4)} | ${pct(a.top_patch_same)} | ${pct(a.top10_overlap_mean)} |`),
    '',
    `- ${r.note}.`,
  ].join('\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
