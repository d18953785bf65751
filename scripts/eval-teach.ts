// npm run eval:teach [-- --model DIR --data DIR --draws 20 --softmax-draws 5 --seed 1 --json FILE --no-timing --table-only]
//   -- --timing-only                 re-measures only the time to teach from 10 photos (into the existing JSON + table)
//   -- --features FILE               the second protocol on a backbone that never saw one class (model/holdout_backbone.py)
// Teaching a class on the phone, measured. 1) Features of every train and val photo, extracted once by the
// engine on WASM in headless Chromium (cached in .work/teach/). 2) Leave one class out: a head of the other
// two classes, then the third taught from k train photos (20 random draws per k), scored on all val photos,
// closed form (LDA from the statistics) against softmax regression. 3) Time to teach from 10 photos on WASM,
// from features and end to end from the photo files, and memory.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readFeatureCache, readPhotoList, writeFeatureCache, type FeatureCache, type PhotoFeatures } from '../bench/lib/featureCache';
import { machineReport } from '../bench/lib/machine';
import { evaluateHeldOut, fullClassDrop, fullHeadReference, normSpread, statisticsOf, TEACH_METHODS, teachSummaryMarkdown, teachTableMarkdown, type Sample, type TeachCell, type TeachReportLike } from '../bench/lib/teachEval';
import { heldOutBackboneMarkdown, ledoitWolfShrinkage, TEACH_CANDIDATES, type HeldOutBackboneReport } from '../bench/lib/teachHeldOut';
import { selectTeachRule } from '../bench/lib/teachSelect';
import { existsSync, readdirSync } from 'node:fs';
import { replaceBetweenMarkers } from '../bench/lib/fieldEval';
import { l2Normalize, statisticsJson, type OpenSetRule } from '../src/engine/model/domain';
import { ldaHead, TEACH_RULE, type TeachRule } from '../src/engine/model/teach';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pickModelDir, readModel } from '../bench/lib/modelFiles';
import { browserVersion, DATA_MOUNT, MODEL_MOUNT, startBenchBrowser, type BenchBrowser } from '../bench/node/browserRunner';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string' },
    data: { type: 'string', default: '../shared/data/beans' },
    draws: { type: 'string', default: '20' },
    'softmax-draws': { type: 'string', default: '5' },
    seed: { type: 'string', default: '1' },
    json: { type: 'string', default: 'docs/bench/eval-teach.json' },
    'no-timing': { type: 'boolean', default: false },
    /** Writes the e2e test's fixture head (bean rust + healthy only, from the training features) and stops. */
    'two-class-fixture': { type: 'string' },
    /** Rewrites only the docs table from an existing JSON report (no measuring). */
    'table-only': { type: 'boolean', default: false },
    'timing-only': { type: 'boolean', default: false },
    /** Features of a backbone trained without one class (model/holdout_backbone.py's features.json). */
    features: { type: 'string' },
    /** Cross-validation draws per (held-out class, fold, k) when selecting the rule on train. */
    'select-draws': { type: 'string', default: '2' },
    ood: { type: 'string', default: 'test/fixtures/ood' },
  },
});
const log = (line: string): void => console.log(`[eval:teach] ${line.replace(/^\[bench\] /, '')}`);
const BATCH = 25;

async function extract(harness: BenchBrowser, photos: Omit<PhotoFeatures, 'features'>[], sha: string, model: string): Promise<FeatureCache> {
  const { page, close } = await harness.openBenchPage();
  try {
    const info = await page.evaluate((url) => window.leafLensBench.openTeach(url), `${harness.baseUrl}${MODEL_MOUNT}`);
    const out: PhotoFeatures[] = [];
    const t0 = Date.now();
    for (let i = 0; i < photos.length; i += BATCH) {
      const batch = photos.slice(i, i + BATCH);
      const features = await page.evaluate((urls) => window.leafLensBench.teachFeatures(urls), batch.map((p) => `${harness.baseUrl}${DATA_MOUNT}${p.path}`));
      batch.forEach((p, j) => out.push({ ...p, features: features[j]! }));
      const s = (Date.now() - t0) / 1000;
      log(`features ${out.length}/${photos.length} (${s.toFixed(0)} s, ETA ${((s / out.length) * (photos.length - out.length)).toFixed(0)} s)`);
    }
    await page.evaluate(() => window.leafLensBench.closeTeach());
    return { backbone_sha256: sha, model, backend: info.backend, created: new Date().toISOString(), photos: out };
  } finally {
    await close();
  }
}

const HELD_OUT_JSON = (label: string) => `docs/bench/eval-teach-heldout-${label}.json`;

/** The docs section: the main report's tables, then those of every held-out-backbone report present. */
function writeDocsTable(report: TeachReportLike): string {
  const heldOut = existsSync('docs/bench') ? readdirSync('docs/bench').filter((f) => /^eval-teach-heldout-[a-z_]+\.json$/.test(f)).sort() : [];
  const reports = heldOut.map((f) => JSON.parse(readFileSync(join('docs/bench', f), 'utf8')) as HeldOutBackboneReport);
  const table = [teachTableMarkdown(report), ...(reports.length > 0 ? [heldOutBackboneMarkdown(reports)] : [])].join('\n\n');
  // Every table in docs/bench/teach.md; the summary in docs/benchmarks.md.
  writeFileSync('docs/bench/teach.md', `# Teaching a class: every table\n\n<!-- written by npm run eval:teach from docs/bench/eval-teach*.json; do not edit -->\n\n${table}\n`);
  writeFileSync('docs/benchmarks.md', replaceBetweenMarkers(readFileSync('docs/benchmarks.md', 'utf8'), 'eval:teach', teachSummaryMarkdown(report, reports)));
  return table;
}

const sameRule = (a: TeachRule, b: TeachRule) => a.priorWeight === b.priorWeight && a.scatterWeight === b.scatterWeight && Math.abs(a.temperature - b.temperature) < 5e-4;

async function measureTiming(modelDir: string, dataDir: string, head: Record<string, unknown>, cache: FeatureCache, labels: string[], train: Sample[], shrinkage: number): Promise<unknown> {
  // The shipped head once it carries statistics; until then the same head plus statistics of the training
  // photos' features computed here (said so in the report).
  const baseHead = head.statistics ? head : { ...head, statistics: statisticsJson(statisticsOf(train, labels.map((_, i) => i), shrinkage)) };
  const photos = cache.photos.filter((p) => p.split === 'train' && p.label === labels[0]).slice(0, 10);
  const timingHarness = await startBenchBrowser({ modelDir, dataDir, log });
  try {
    const { page, close } = await timingHarness.openBenchPage();
    await page.evaluate((url) => window.leafLensBench.openTeach(url), `${timingHarness.baseUrl}${MODEL_MOUNT}`);
    const timing = {
      base_head: head.statistics ? 'the shipped head.json' : 'the shipped head + statistics of the training features computed by this tool (the shipped head.json has none)',
      browser: await browserVersion(timingHarness.browser),
      measured: new Date().toISOString(),
      ...await page.evaluate((config) => window.leafLensBench.timeTeach(config), {
        urls: photos.map((p) => `${timingHarness.baseUrl}${DATA_MOUNT}${p.path}`), baseHead, label: 'Taught class', repeats: 3,
      }),
    };
    await page.evaluate(() => window.leafLensBench.closeTeach());
    await close();
    log(`timing: ${JSON.stringify(timing)}`);
    return timing;
  } finally {
    await timingHarness.close();
  }
}

/** The second protocol: a backbone that never saw `held_out` (features from model/holdout_backbone.py). */
function heldOutBackbone(path: string): void {
  const cache = JSON.parse(readFileSync(path, 'utf8')) as FeatureCache & { held_out: string; trained_on: unknown; known_classes_val_accuracy_own_head?: number };
  const labels = [...new Set(cache.photos.map((p) => p.label))].sort();
  const heldOut = labels.indexOf(cache.held_out);
  if (heldOut < 0) throw new Error(`${path}: held_out ${cache.held_out} is not among the photos' labels ${labels.join(', ')}`);
  const toSample = (p: PhotoFeatures): Sample => ({ features: p.features, label: labels.indexOf(p.label) });
  const train = cache.photos.filter((p) => p.split === 'train').map(toSample);
  const val = cache.photos.filter((p) => p.split === 'val').map(toSample);
  // No head was fitted for this backbone: λ by Ledoit–Wolf on its class-centred training features (as model/domain.py
  // does for the shipped head), the rule by the same cross-validation on its own training features.
  const shrinkage = ledoitWolfShrinkage(train, labels.length);
  const t0 = Date.now();
  const selection = selectTeachRule(train, labels.length, { folds: 5, ks: [5, 10, 20], draws: Number(args['select-draws']), seed: Number(args.seed), shrinkage, candidates: TEACH_CANDIDATES, maxDrop: 0.01 });
  log(`held-out backbone ${cache.held_out}: selected ${JSON.stringify(selection.selected)} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  const options = { ks: [1, 3, 5, 10, 20], draws: Number(args.draws), softmaxDraws: Number(args['softmax-draws']), seed: Number(args.seed), shrinkage, methods: ['rule', 'lda'] as const, rule: selection.selected };
  const cells = evaluateHeldOut(train, val, labels, heldOut, { ...options, methods: [...options.methods] });
  const full = statisticsOf(train, labels.map((_, i) => i), shrinkage);
  const fullHead = ldaHead(full);
  const perClass = labels.map((_, c) => { const vs = val.filter((s) => s.label === c); return vs.filter((s) => argmaxOf(applyLinear(fullHead, l2Normalize(s.features))) === c).length / vs.length; });
  const report: HeldOutBackboneReport = {
    kind: 'teach-eval-heldout-backbone', created: new Date().toISOString(), features_file: path, model: cache.model, backend: cache.backend,
    held_out: cache.held_out, trained_on: cache.trained_on, shrinkage,
    baseline: {
      three_class_lda_val_accuracy: val.filter((s) => argmaxOf(applyLinear(fullHead, l2Normalize(s.features))) === s.label).length / val.length,
      three_class_lda_per_class: Object.fromEntries(labels.map((l, c) => [l, perClass[c]!])),
      known_classes_own_trained_head: cache.known_classes_val_accuracy_own_head ?? null,
    },
    selection, cells, full_class_drop: fullClassDrop(train, val, labels, shrinkage, selection.selected).filter((d) => d.held_out === cache.held_out),
  };
  writeFileSync(HELD_OUT_JSON(cache.held_out), JSON.stringify(report, null, 2) + '\n');
  log(`wrote ${HELD_OUT_JSON(cache.held_out)}`);
  if (existsSync(args.json)) {
    writeDocsTable(JSON.parse(readFileSync(args.json, 'utf8')) as TeachReportLike);
    log('updated docs/benchmarks.md between the eval:teach markers');
  }
}

function applyLinear(head: { weight: Float32Array; bias: Float32Array }, x: ArrayLike<number>): number[] {
  const C = head.bias.length, F = x.length;
  return Array.from({ length: C }, (_, c) => { let s = head.bias[c]!; for (let f = 0; f < F; f++) s += head.weight[c * F + f]! * x[f]!; return s; });
}
const argmaxOf = (v: number[]) => v.indexOf(Math.max(...v));

/** Features of the out-of-domain photos (report only: the open-set must stay shut for them after teaching). */
async function oodFeatures(modelDir: string, sha: string, model: string): Promise<PhotoFeatures[]> {
  const dir = resolve(args.ood);
  if (!existsSync(dir)) return [];
  const path = join('.work', 'teach', `ood-features-${sha.slice(0, 16)}.json`);
  if (existsSync(path)) return (JSON.parse(readFileSync(path, 'utf8')) as FeatureCache).photos;
  const photos = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).flatMap((d) =>
    readdirSync(join(dir, d.name)).filter((f) => /\.(jpe?g|png|webp)$/i.test(f)).map((f) => ({ path: `${d.name}/${f}`, label: d.name, split: 'val' as const })));
  const harness = await startBenchBrowser({ modelDir, dataDir: dir, log });
  try {
    log(`extracting features of ${photos.length} out-of-domain photos`);
    const cache = await extract(harness, photos, sha, model);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, JSON.stringify(cache));
    return cache.photos;
  } finally {
    await harness.close();
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  if (args['table-only']) {
    writeDocsTable(JSON.parse(readFileSync(args.json, 'utf8')) as TeachReportLike);
    log(`rewrote the eval:teach table from ${args.json}`);
    return;
  }
  if (args.features) {
    heldOutBackbone(args.features);
    return;
  }
  const modelDir = pickModelDir(args.model);
  const { manifest } = readModel(modelDir);
  const dataDir = resolve(args.data);
  let cache = readFeatureCache(manifest.backbone_sha256);
  let harness: BenchBrowser | null = null;
  try {
    if (!cache) {
      harness = await startBenchBrowser({ modelDir, dataDir, log });
      log(`extracting features of ${readPhotoList(dataDir).length} photos with ${manifest.name} on WASM (${await browserVersion(harness.browser)})`);
      cache = await extract(harness, readPhotoList(dataDir), manifest.backbone_sha256, manifest.name);
      log(`cached in ${writeFeatureCache(cache)}`);
    } else {
      log(`features of ${cache.photos.length} photos from the cache (${cache.created})`);
    }
  } finally {
    await harness?.close();
  }
  const head = JSON.parse(readFileSync(join(modelDir, manifest.default_head), 'utf8')) as Record<string, unknown> & {
    labels: string[]; weight: number[][]; bias: number[]; statistics?: { shrinkage: number }; open_set?: OpenSetRule & { reference_d2?: number }; confidence?: { min_probability: number };
  };
  const labels = head.labels;
  const ood = args['timing-only'] || args['two-class-fixture'] ? [] : await oodFeatures(modelDir, manifest.backbone_sha256, manifest.name);
  const toSample = (p: PhotoFeatures): Sample => ({ features: p.features, label: labels.indexOf(p.label) });
  const train = cache.photos.filter((p) => p.split === 'train').map(toSample);
  const val = cache.photos.filter((p) => p.split === 'val').map(toSample);
  const shrinkage = head.statistics?.shrinkage ?? 0.1;
  if (args['two-class-fixture']) {
    writeTwoClassFixture(args['two-class-fixture'], head, manifest, train, labels, shrinkage);
    return;
  }
  if (args['timing-only']) {
    const report = JSON.parse(readFileSync(args.json, 'utf8')) as TeachReportLike & Record<string, unknown>;
    report.timing = await measureTiming(modelDir, dataDir, head, cache, labels, train, shrinkage);
    writeFileSync(args.json, JSON.stringify(report, null, 2) + '\n');
    if (args.json === 'docs/bench/eval-teach.json') writeDocsTable(report);
    log(`timing re-measured into ${args.json}`);
    return;
  }
  const draws = Number(args.draws);
  // 1) The rule, selected on the TRAIN features only; the app's TEACH_RULE must be this selection.
  const t0 = Date.now();
  const selection = selectTeachRule(train, labels.length, { folds: 5, ks: [5, 10, 20], draws: Number(args['select-draws']), seed: Number(args.seed), shrinkage, candidates: TEACH_CANDIDATES, maxDrop: 0.01, openSet: head.open_set, referenceD2: head.open_set?.reference_d2 });
  log(`selected on train in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${JSON.stringify(selection.selected)}`);
  if (!sameRule(selection.selected, TEACH_RULE)) {
    log(`WARNING: src/engine/model/teach.ts TEACH_RULE ${JSON.stringify(TEACH_RULE)} differs from this selection; the app would not use what is reported. Update TEACH_RULE.`);
  }
  // 2) Val, reported only.
  const options = { ks: [1, 3, 5, 10, 20], draws, softmaxDraws: Number(args['softmax-draws']), seed: Number(args.seed), shrinkage, methods: TEACH_METHODS, openSet: head.open_set, referenceD2: head.open_set?.reference_d2, rule: selection.selected, ood: ood.map((p) => p.features), minProbability: head.confidence?.min_probability };
  const cells: TeachCell[] = [];
  for (let c = 0; c < labels.length; c++) {
    const t1 = Date.now();
    cells.push(...evaluateHeldOut(train, val, labels, c, options));
    log(`held out ${labels[c]}: ${((Date.now() - t1) / 1000).toFixed(0)} s`);
  }
  const shippedHead = { weight: Float32Array.from(head.weight.flat()), bias: Float32Array.from(head.bias) };
  const reference = fullHeadReference(train, val, labels.length, shrinkage, shippedHead);
  const timing = args['no-timing'] ? null : await measureTiming(modelDir, dataDir, head, cache, labels, train, shrinkage);

  const report = {
    kind: 'teach-eval',
    created: new Date().toISOString(),
    model: { name: manifest.name, backbone_sha256: manifest.backbone_sha256, features_from: `${cache.backend} in headless Chromium (engine.embed), ${cache.created}` },
    protocol: `leave one class out: statistics of the other two classes' training photos; the third taught from k of its training photos (${draws} random draws per k); scored on all ${val.length} val photos. ` +
      'The shipped backbone saw all three classes in training, so this protocol flatters teaching; see the held-out-backbone reports for a backbone that did not.',
    shrinkage,
    selection,
    app_rule: TEACH_RULE,
    norms: normSpread([...train, ...val], labels),
    full_head_reference: reference,
    full_class_drop: fullClassDrop(train, val, labels, shrinkage, selection.selected),
    ood_photos: ood.length > 0 ? `${ood.length} photos of ${args.ood} (non-leaf and other-leaf; report only, never used in selection)` : null,
    cells,
    timing,
    duration_s: (Date.now() - started) / 1000,
    machine: machineReport(),
  };
  mkdirSync(dirname(args.json), { recursive: true });
  writeFileSync(args.json, JSON.stringify(report, null, 2) + '\n');
  log(`wrote ${args.json}`);
  if (args.json === 'docs/bench/eval-teach.json') {
    console.log(`\n${writeDocsTable(report)}\n`);
    log('updated docs/benchmarks.md between the eval:teach markers');
  } else {
    console.log(`\n${teachTableMarkdown(report)}\n`);
  }
}

/** A TEST FIXTURE head without angular leaf spot (its statistics from the training photos of the other two
 * classes), so the e2e test can teach angular leaf spot as a new class under a new name. */
function writeTwoClassFixture(path: string, head: Record<string, unknown>, manifest: { name: string; backbone_sha256: string; features: number }, train: Sample[], labels: string[], shrinkage: number): void {
  const keep = ['bean_rust', 'healthy'].map((l) => labels.indexOf(l));
  const samples = train.filter((s) => keep.includes(s.label)).map((s) => ({ features: s.features, label: keep.indexOf(s.label) }));
  const stats = statisticsOf(samples, [0, 1], shrinkage);
  const scale = samples.reduce((a, s) => a + Math.hypot(...s.features), 0) / samples.length;
  const lda = ldaHead(stats, { prior: 'uniform', inputScale: scale });
  const round = (v: number) => Number(v.toPrecision(6));
  const json = statisticsJson(stats) as { class_means: number[][]; scatter: number[][] };
  const fixture = {
    format: 'leaf-lens-head', contract_version: 1, name: 'TEST FIXTURE: bean rust + healthy only', labels: ['bean_rust', 'healthy'],
    features: manifest.features, backbone_name: manifest.name, backbone_sha256: manifest.backbone_sha256,
    weight: [0, 1].map((c) => Array.from(lda.weight.subarray(c * manifest.features, (c + 1) * manifest.features), round)),
    bias: Array.from(lda.bias, round), trained: true, created: new Date().toISOString(),
    trained_on: { dataset: 'iBean train split without angular leaf spot (test fixture for test/e2e/teach.test.ts)', images: samples.length },
    statistics: { ...json, class_means: json.class_means.map((r) => r.map(round)), scatter: json.scatter.map((r) => r.map(round)) },
    open_set: head.open_set, confidence: head.confidence,
    taught: { classes: [], local_examples: {}, method: 'lda', input_scale: scale },
  };
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(fixture)}\n`);
  log(`wrote the two-class test fixture ${path}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
