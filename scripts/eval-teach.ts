// npm run eval:teach [-- --model DIR --data DIR --draws 20 --softmax-draws 5 --seed 1 --json FILE --no-timing --table-only]
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
import { evaluateHeldOut, fullHeadReference, normSpread, statisticsOf, TEACH_METHODS, teachTableMarkdown, type Sample, type TeachCell } from '../bench/lib/teachEval';
import { replaceBetweenMarkers } from '../bench/lib/fieldEval';
import { statisticsJson, type OpenSetRule } from '../src/engine/model/domain';
import { ldaHead } from '../src/engine/model/teach';
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

async function main(): Promise<void> {
  const started = Date.now();
  if (args['table-only']) {
    const table = teachTableMarkdown(JSON.parse(readFileSync(args.json, 'utf8')) as Parameters<typeof teachTableMarkdown>[0]);
    writeFileSync('docs/benchmarks.md', replaceBetweenMarkers(readFileSync('docs/benchmarks.md', 'utf8'), 'eval:teach', table));
    log(`rewrote the eval:teach table from ${args.json}`);
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
    labels: string[]; weight: number[][]; bias: number[]; statistics?: { shrinkage: number }; open_set?: OpenSetRule;
  };
  const labels = head.labels;
  const toSample = (p: PhotoFeatures): Sample => ({ features: p.features, label: labels.indexOf(p.label) });
  const train = cache.photos.filter((p) => p.split === 'train').map(toSample);
  const val = cache.photos.filter((p) => p.split === 'val').map(toSample);
  const shrinkage = head.statistics?.shrinkage ?? 0.1;
  if (args['two-class-fixture']) {
    writeTwoClassFixture(args['two-class-fixture'], head, manifest, train, labels, shrinkage);
    return;
  }
  const draws = Number(args.draws);
  const options = { ks: [1, 3, 5, 10, 20], draws, softmaxDraws: Number(args['softmax-draws']), seed: Number(args.seed), shrinkage, methods: TEACH_METHODS, openSet: head.open_set };
  const cells: TeachCell[] = [];
  for (let c = 0; c < labels.length; c++) {
    const t0 = Date.now();
    cells.push(...evaluateHeldOut(train, val, labels, c, options));
    log(`held out ${labels[c]}: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  const shippedHead = { weight: Float32Array.from(head.weight.flat()), bias: Float32Array.from(head.bias) };
  const reference = fullHeadReference(train, val, labels.length, shrinkage, shippedHead);

  let timing: unknown = null;
  if (!args['no-timing']) {
    // The shipped head once it carries statistics; until then the same head plus statistics of the training
    // photos' features computed here (said so in the report).
    const baseHead = head.statistics ? head : { ...head, statistics: statisticsJson(statisticsOf(train, labels.map((_, i) => i), shrinkage)) };
    const photos = cache.photos.filter((p) => p.split === 'train' && p.label === labels[0]).slice(0, 10);
    const timingHarness = await startBenchBrowser({ modelDir, dataDir, log });
    try {
      const { page, close } = await timingHarness.openBenchPage();
      await page.evaluate((url) => window.leafLensBench.openTeach(url), `${timingHarness.baseUrl}${MODEL_MOUNT}`);
      timing = {
        base_head: head.statistics ? 'the shipped head.json' : 'the shipped head + statistics of the training features computed by this tool (the shipped head.json has none)',
        browser: await browserVersion(timingHarness.browser),
        ...await page.evaluate((config) => window.leafLensBench.timeTeach(config), {
          urls: photos.map((p) => `${timingHarness.baseUrl}${DATA_MOUNT}${p.path}`), baseHead, label: 'Taught class', repeats: 3,
        }),
      };
      await page.evaluate(() => window.leafLensBench.closeTeach());
      await close();
    } finally {
      await timingHarness.close();
    }
    log(`timing: ${JSON.stringify(timing)}`);
  }

  const report = {
    kind: 'teach-eval',
    created: new Date().toISOString(),
    model: { name: manifest.name, backbone_sha256: manifest.backbone_sha256, features_from: `${cache.backend} in headless Chromium (engine.embed), ${cache.created}` },
    protocol: `leave one class out: statistics of the other two classes' ${'training'} photos; the third taught from k of its training photos (${draws} random draws per k); scored on all ${val.length} val photos. ` +
      'The shipped backbone saw all three classes in training, so this protocol flatters teaching; a backbone that never saw the held-out class was NOT trained (no GPU in this session).',
    shrinkage,
    norms: normSpread([...train, ...val], labels),
    full_head_reference: reference,
    cells,
    timing,
    duration_s: (Date.now() - started) / 1000,
    machine: machineReport(),
  };
  const table = teachTableMarkdown(report);
  console.log(`\n${table}\n`);
  mkdirSync(dirname(args.json), { recursive: true });
  writeFileSync(args.json, JSON.stringify(report, null, 2) + '\n');
  log(`wrote ${args.json}`);
  if (args.json === 'docs/bench/eval-teach.json') {
    writeFileSync('docs/benchmarks.md', replaceBetweenMarkers(readFileSync('docs/benchmarks.md', 'utf8'), 'eval:teach', table));
    log('updated docs/benchmarks.md between the eval:teach markers');
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
