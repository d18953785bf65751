// npm run eval:domain [-- --model DIR --data DIR --ood DIR --backend wasm|webgpu --limit K --json FILE --no-docs]
// npm run eval:domain -- --dump FILE --splits train,val   (features + logits for model/export.py --fit-domain)
//   [--graph forward_fp16]   (the records of the fp16 graph instead, to check what fp16 rounding does to the scores)
// npm run eval:domain -- --table-only                      (rewrite the docs table from the --json file)
//
// Does the app know when it does not know? Every photo goes through the engine's public API in headless
// Chromium (decode → preprocess → model → outcome), exactly as in the app, so the figures are the app's own:
// val photos (in domain) and the out-of-domain set (test/fixtures/ood: non-leaf/ and other-leaf/). Reports the
// open-set AUROC, the refusal rates at the head's threshold, calibration (ECE before/after the temperature) and
// how far "sure" can be trusted. Writes docs/bench/eval-domain.json and the table in docs/benchmarks.md.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { auroc, expectedCalibrationError, negativeLogLikelihood, refusedShare, sureSplit, thresholdAtRefusal } from '../bench/lib/domainMetrics';
import { machineReport } from '../bench/lib/machine';
import { modelFeeds, pickModelDir, readModel } from '../bench/lib/modelFiles';
import { toOrtFeeds } from '../src/engine/model/feeds';
import { browserVersion, DATA_MOUNT, MODEL_MOUNT, startBenchBrowser } from '../bench/node/browserRunner';
import type { DomainRecord } from '../bench/browser/evalDomain';
import { calibratedSoftmax, openSetScorer, OPEN_SET_SCORES } from '../src/engine/model/domain';
import { validateHead } from '../src/engine/model/head';
import { LAYER_SCORE } from '../src/engine/model/layers';
import { argmax } from '../src/engine/model/logits';
import type { Manifest } from '../src/engine/model/manifest';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string' },
    data: { type: 'string', default: '../shared/data/beans' },
    ood: { type: 'string', default: 'test/fixtures/ood' },
    splits: { type: 'string', default: 'val,ood' },
    backend: { type: 'string', default: 'wasm' },
    limit: { type: 'string' },
    dump: { type: 'string' },
    // With --dump: the graph role whose outputs are recorded (forward_fp16: what WebGPU with shader-f16 runs).
    graph: { type: 'string', default: 'forward' },
    json: { type: 'string', default: 'docs/bench/eval-domain.json' },
    'no-docs': { type: 'boolean', default: false },
    'table-only': { type: 'boolean', default: false },
    // The head fit's report (model/export.py --fit-domain … --fit-report FILE): how the teach margins were set.
    'fit-report': { type: 'string', default: 'docs/bench/domain-fit.json' },
  },
});
const log = (line: string): void => console.log(`[eval:domain] ${line.replace(/^\[bench\] /, '')}`);
const BENCHMARKS_MD = 'docs/benchmarks.md';
const MARK_BEGIN = '<!-- eval:domain -->';
const MARK_END = '<!-- /eval:domain -->';
const OOD_KINDS = ['non-leaf', 'other-leaf'] as const;

/** One photo: where it is, and what it is (a class index for bean photos, -1 for out-of-domain). */
interface Photo { split: string; kind: string; path: string; url: string; label: number }
type PhotoResult = Photo & DomainRecord;

const imageFiles = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort() : []);

function listPhotos(labels: string[], baseUrl: string, repoRoot: string): Photo[] {
  const photos: Photo[] = [];
  const limit = args.limit ? Number(args.limit) : Infinity;
  for (const split of args.splits.split(',').map((s) => s.trim())) {
    if (split === 'ood') {
      const root = resolve(args.ood);
      const rel = relative(repoRoot, root);
      if (rel.startsWith('..')) throw new Error(`--ood must be inside the repository (served by Vite): ${root}`);
      for (const kind of OOD_KINDS) {
        const files = imageFiles(join(root, kind)).slice(0, limit);
        if (files.length === 0) throw new Error(`no photos in ${join(root, kind)}`);
        for (const f of files) photos.push({ split, kind, path: `${rel}/${kind}/${f}`, url: `${baseUrl}/${rel}/${kind}/${f}`, label: -1 });
      }
    } else {
      const dir = join(resolve(args.data), split);
      if (!existsSync(dir)) throw new Error(`no photo folder ${dir}`);
      for (const [label, folder] of labels.entries()) {
        const files = imageFiles(join(dir, folder)).slice(0, limit);
        if (files.length === 0) throw new Error(`no photos of ${folder} in ${dir}`);
        for (const f of files) photos.push({ split, kind: 'bean', path: `${split}/${folder}/${f}`, url: `${baseUrl}${DATA_MOUNT}${split}/${folder}/${f}`, label });
      }
    }
  }
  return photos;
}

async function runPhotos(modelDir: string): Promise<{ results: PhotoResult[]; labels: string[]; domainCheck: boolean; browser: string; errors: string[] }> {
  const harness = await startBenchBrowser({ modelDir, dataDir: resolve(args.data), log });
  const results: PhotoResult[] = [];
  const errors: string[] = [];
  try {
    const { page, close } = await harness.openBenchPage();
    const backend = args.backend === 'webgpu' ? 'webgpu' : 'wasm';
    const info = await page.evaluate(([url, b]) => window.leafLensBench.openDomain(url, b), [`${harness.baseUrl}${MODEL_MOUNT}`, backend] as const);
    const photos = listPhotos(info.labels, harness.baseUrl, process.cwd());
    log(`${photos.length} photos on ${info.backend}; head ${info.domainCheck ? 'has' : 'has NO'} domain statistics`);
    const started = Date.now();
    // Fitting needs features of every training photo: the page preprocesses exactly as the engine does, and
    // onnxruntime-node runs the forward graph (about 10× faster than WASM in a page on a shared machine).
    const forward = args.dump ? await openNodeForward(modelDir) : null;
    for (const [i, photo] of photos.entries()) {
      try {
        if (forward) {
          const base64 = await page.evaluate(([u, s]) => window.leafLensBench.domainPixels(u, s), [photo.url, forward.size] as const);
          results.push({ ...photo, ...(await forward.run(Buffer.from(base64, 'base64'))) });
        } else {
          results.push({ ...photo, ...(await page.evaluate((u) => window.leafLensBench.domainPhoto(u), photo.url)) });
        }
      } catch (err) {
        errors.push(`${photo.path}: ${String(err).split('\n')[0]}`);
        log(`${photo.path} FAILED: ${String(err).split('\n')[0]}`);
      }
      if ((i + 1) % 25 === 0 || i + 1 === photos.length) {
        const elapsed = (Date.now() - started) / 1000;
        log(`${i + 1}/${photos.length} (elapsed ${elapsed.toFixed(0)} s, ETA ${((elapsed / (i + 1)) * (photos.length - i - 1)).toFixed(0)} s)`);
      }
    }
    await page.evaluate(() => window.leafLensBench.closeDomain());
    await close();
    return { results, labels: info.labels, domainCheck: info.domainCheck, browser: await browserVersion(harness.browser), errors };
  } finally {
    await harness.close();
  }
}

/** The forward graph on onnxruntime-node with the default head: logits and features only (no outcome: fitting
 * records). */
async function openNodeForward(modelDir: string): Promise<{ size: number; run(bytes: Uint8Array): Promise<DomainRecord> }> {
  const ort = await import('onnxruntime-node');
  const { manifest, head } = readModel(modelDir);
  const file = (manifest.graphs as Record<string, string | undefined>)[args.graph];
  if (!file || !args.graph.startsWith('forward')) throw new Error(`--graph ${args.graph}: not a forward graph of this model (${Object.keys(manifest.graphs).join(', ')})`);
  const session = await ort.InferenceSession.create(join(modelDir, file), { intraOpNumThreads: 2 });
  const S = manifest.image_size;
  return {
    size: S,
    async run(bytes) {
      if (bytes.length !== 3 * S * S) throw new Error(`pixels: ${bytes.length} bytes, expected ${3 * S * S}`);
      const all = toOrtFeeds(modelFeeds(manifest, head, Float32Array.from(bytes, (v) => v / 255)), (data, dims) => new ort.Tensor('float32', data, dims));
      const feeds = Object.fromEntries(session.inputNames.map((name) => [name, all[name]!]));
      const fetches = session.outputNames.includes('layer_features') ? ['logits', 'features', 'layer_features'] : ['logits', 'features'];
      const out = await session.run(feeds, fetches);
      const logits = Array.from(out.logits!.data as Float32Array);
      const layers = out.layer_features ? { layerFeatures: Array.from(out.layer_features.data as Float32Array) } : {};
      return { logits, features: Array.from(out.features!.data as Float32Array), ...layers, probabilities: Array.from(calibratedSoftmax(logits, 1)), outcome: 'unsure', domain: { checked: false } };
    },
  };
}

const pct = (v: number | null | undefined) => (v === null || v === undefined ? '–' : `${(v * 100).toFixed(1)} %`);
const num = (v: number | null | undefined, d = 3) => (v === null || v === undefined ? '–' : v.toFixed(d));

function report(modelDir: string, run: Awaited<ReturnType<typeof runPhotos>>, durationS: number) {
  const { manifest } = readModel(modelDir);
  const headJson = JSON.parse(readFileSync(join(modelDir, manifest.default_head), 'utf8')) as Record<string, unknown>;
  const head = validateHead(headJson, manifest as Manifest);
  const val = run.results.filter((r) => r.split === 'val');
  const ood = Object.fromEntries(OOD_KINDS.map((k) => [k, run.results.filter((r) => r.kind === k)])) as Record<(typeof OOD_KINDS)[number], PhotoResult[]>;
  // The rule the engine refuses by: the intermediate-block score when the head has layer_statistics (the graphs
  // return layer_features), else the CLS-features rule.
  const rule = head.domain.layers ? { score: LAYER_SCORE, threshold: head.domain.layers.threshold } : head.domain.openSet?.rule ?? null;

  // The head's own score (what the app refuses by) and the alternatives, all from the same features/logits.
  const candidates: Record<string, (r: PhotoResult) => number> = {
    'max-softmax (negated)': (r) => -Math.max(...calibratedSoftmax(r.logits, 1)),
    'energy (−logsumexp of logits)': (r) => { const m = Math.max(...r.logits); return -(m + Math.log(r.logits.reduce((s, l) => s + Math.exp(l - m), 0))); },
  };
  if (head.statistics) {
    for (const score of OPEN_SET_SCORES) {
      const scorer = openSetScorer(head.statistics, { score, threshold: 0 });
      candidates[score] = (r) => scorer.score(r.features);
    }
  }
  if (head.domain.layers) candidates[LAYER_SCORE] = (r) => (r.domain.checked ? r.domain.score : NaN);
  const scoreTable = Object.entries(candidates).map(([name, fn]) => {
    const inScores = val.map(fn);
    const at95 = thresholdAtRefusal(inScores, 0.05);
    return {
      score: name,
      auroc: Object.fromEntries(OOD_KINDS.map((k) => [k, auroc(inScores, ood[k].map(fn))])),
      false_accept_at_95_in_domain: Object.fromEntries(OOD_KINDS.map((k) => [k, ood[k].length ? 1 - refusedShare(ood[k].map(fn), at95)! : null])),
    };
  });

  const labelOf = (r: PhotoResult) => r.label;
  const refused = (rs: PhotoResult[]) => (rs.length ? rs.filter((r) => r.outcome === 'not-bean-leaf').length / rs.length : null);
  // A photo offered to teach a class is refused only beyond threshold × the head's teach margin (store/teachActions.ts).
  const teachMargin = head.domain.layers ? head.domain.layers.teachMargin : head.domain.openSet?.rule.teachMargin;
  const teachRefused = (rs: PhotoResult[]) => (rs.length ? rs.filter((r) => r.domain.checked && !(r.domain.score <= r.domain.teachThreshold)).length / rs.length : null);
  const rawProbabilities = val.map((r) => Array.from(calibratedSoftmax(r.logits, 1)));
  const calProbabilities = val.map((r) => r.probabilities);
  const splitRecords = (rs: PhotoResult[]) => rs.map((r) => ({ outcome: r.outcome, top: argmax(r.probabilities), label: r.label }));
  const sure = sureSplit(splitRecords(val));
  const targets = { in_domain_refusal_max: 0.05, non_leaf_refusal_min: 0.95, other_leaf_refusal_min: 0.9, sure_precision_min: 0.98, sure_share_min: 0.85 };
  const result = {
    kind: 'domain-eval',
    created: new Date().toISOString(),
    model: { name: manifest.name, title: manifest.title, trained: manifest.trained, dir: relative(process.cwd(), modelDir) },
    meaning: manifest.trained
      ? `open-set refusal and calibration of the trained model ${manifest.name}, through the engine's public API`
      : 'PIPELINE CHECK ONLY: the model is UNTRAINED (a test fixture); these numbers say nothing about refusals',
    head: {
      domain_check: run.domainCheck,
      open_set: rule,
      temperature: head.domain.temperature,
      min_probability: head.domain.minProbability ?? null,
      shrinkage: head.statistics?.shrinkage ?? null,
      trained_on: head.statistics ? head.statistics.classCounts.reduce((a, b) => a + b, 0) : null,
    },
    photos: { val: val.length, 'non-leaf': ood['non-leaf'].length, 'other-leaf': ood['other-leaf'].length },
    accuracy_val: val.length ? val.filter((r) => argmax(r.logits) === r.label).length / val.length : null,
    refusal: { val: refused(val), 'non-leaf': refused(ood['non-leaf']), 'other-leaf': refused(ood['other-leaf']) },
    teach_margin: teachMargin ?? null,
    teach_refusal: teachMargin !== undefined ? { val: teachRefused(val), 'non-leaf': teachRefused(ood['non-leaf']), 'other-leaf': teachRefused(ood['other-leaf']) } : null,
    teach_margin_fit: readFitReport(),
    auroc: rule ? Object.fromEntries(OOD_KINDS.map((k) => [k, auroc(val.map((r) => (r.domain.checked ? r.domain.score : NaN)), ood[k].map((r) => (r.domain.checked ? r.domain.score : NaN)))])) : null,
    calibration: {
      ece_before: expectedCalibrationError(rawProbabilities, val.map(labelOf)),
      ece_after: expectedCalibrationError(calProbabilities, val.map(labelOf)),
      nll_before: negativeLogLikelihood(rawProbabilities, val.map(labelOf)),
      nll_after: negativeLogLikelihood(calProbabilities, val.map(labelOf)),
      bins: 10,
    },
    sure_val: sure,
    targets,
    scores: scoreTable,
    outcomes: Object.fromEntries(['val', ...OOD_KINDS].map((k) => {
      const rs = k === 'val' ? val : ood[k as (typeof OOD_KINDS)[number]];
      return [k, { sure: rs.filter((r) => r.outcome === 'sure').length, unsure: rs.filter((r) => r.outcome === 'unsure').length, 'not-bean-leaf': rs.filter((r) => r.outcome === 'not-bean-leaf').length }];
    })),
    ood_set: relative(process.cwd(), resolve(args.ood)),
    duration_s: durationS,
    machine: machineReport(),
    browser: run.browser,
    errors: run.errors,
  };
  return result;
}

type DomainReport = ReturnType<typeof report>;

/** What model/export.py --fit-domain --fit-report wrote about the teach margins (bean photos only), if anything. */
interface TeachMarginFit { margin: number; max_refused: number; left_out: { label: string; photos: number; refused_at_threshold: number; refused_at_margin: number }[] }
function readFitReport(): Record<string, TeachMarginFit> | null {
  const path = args['fit-report'];
  if (!path || !existsSync(path)) return null;
  const fit = JSON.parse(readFileSync(path, 'utf8')) as { teach_margin?: Record<string, TeachMarginFit> };
  return fit.teach_margin ?? null;
}

function teachMarginLines(r: DomainReport): string[] {
  const fit = r.teach_margin_fit;
  if (!fit) return [];
  const rule = fit[r.head.open_set?.score === LAYER_SCORE ? 'layer_statistics' : 'open_set'];
  if (!rule) return [];
  return ['', `How the teach margin was set (${args['fit-report']}): each class in turn left out of the statistics, as the disease a farmer teaches is; ` +
    `the margin is the smallest multiple of the threshold that refuses at most ${pct(rule.max_refused)} of every left-out class's val photos.`, '',
    '| left-out class (val photos) | refused as not a bean leaf | refused when offered to teach |', '| --- | ---: | ---: |',
    ...rule.left_out.map((c) => `| ${c.label} (${c.photos}) | ${pct(c.refused_at_threshold)} | ${pct(c.refused_at_margin)} |`)];
}

function domainTableMarkdown(r: DomainReport): string {
  const t = r.targets;
  const mark = (ok: boolean | null) => (ok === null ? '' : ok ? ' ✓' : ' ✗');
  const ge = (v: number | null, min: number) => (v === null ? null : v >= min);
  const le = (v: number | null, max: number) => (v === null ? null : v <= max);
  const lines = [
    `Model \`${r.model.name}\`${r.model.trained ? '' : ' (UNTRAINED test fixture: pipeline check only)'}; ` +
      (r.head.open_set ? `open-set score \`${r.head.open_set.score}\`, threshold ${num(r.head.open_set.threshold, 2)} (set on val, in domain only)` : 'head WITHOUT statistics: no domain check') +
      `; temperature ${num(r.head.temperature, 3)}; sure when the calibrated top probability ≥ ${r.head.min_probability ?? 'default rule'}. ` +
      `${r.photos.val} val photos, ${r.photos['non-leaf']} non-leaf and ${r.photos['other-leaf']} other-leaf photos (${r.ood_set}/SOURCES.md).`,
    '',
    '| measure | val (bean leaves) | non-leaf | other leaves | target |',
    '| --- | --- | --- | --- | --- |',
    `| refused as not a bean leaf | ${pct(r.refusal.val)}${mark(le(r.refusal.val, t.in_domain_refusal_max))} | ${pct(r.refusal['non-leaf'])}${mark(ge(r.refusal['non-leaf'], t.non_leaf_refusal_min))} | ${pct(r.refusal['other-leaf'])}${mark(ge(r.refusal['other-leaf'], t.other_leaf_refusal_min))} | ≤ 5 % / ≥ 95 % / ≥ 90 % |`,
    ...(r.teach_refusal ? [`| refused when offered to teach a class (above ${num(r.teach_margin, 2)} × the threshold) | ${pct(r.teach_refusal.val)} | ${pct(r.teach_refusal['non-leaf'])} | ${pct(r.teach_refusal['other-leaf'])} | |`] : []),
    `| AUROC of the head's score (vs val) | – | ${num(r.auroc?.['non-leaf'])} | ${num(r.auroc?.['other-leaf'])} | |`,
    `| answered sure | ${r.sure_val.sure}/${r.sure_val.photos} = ${pct(r.sure_val.share)}${mark(ge(r.sure_val.share, t.sure_share_min))} | ${r.outcomes['non-leaf']!.sure} | ${r.outcomes['other-leaf']!.sure} | val ≥ 85 % |`,
    `| right among "sure" (val) | ${r.sure_val.right}/${r.sure_val.sure} = ${pct(r.sure_val.precision)}${mark(ge(r.sure_val.precision, t.sure_precision_min))} | | | ≥ 98 % |`,
    `| ECE (10 bins), before → after temperature | ${num(r.calibration.ece_before)} → ${num(r.calibration.ece_after)} | | | lower |`,
    `| NLL, before → after temperature | ${num(r.calibration.nll_before)} → ${num(r.calibration.nll_after)} | | | lower |`,
    ...teachMarginLines(r),
    '',
    'Candidate open-set scores on the same photos (threshold for the false-accept rate: 5 % of val refused):',
    '',
    '| score | AUROC non-leaf | AUROC other leaves | false accepts non-leaf | false accepts other leaves |',
    '| --- | --- | --- | --- | --- |',
    ...r.scores.map((s) => `| ${s.score}${r.head.open_set?.score === s.score ? ' (shipped)' : ''} | ${num(s.auroc['non-leaf'])} | ${num(s.auroc['other-leaf'])} | ${pct(s.false_accept_at_95_in_domain['non-leaf'])} | ${pct(s.false_accept_at_95_in_domain['other-leaf'])} |`),
    '',
    `Written by \`npm run eval:domain\` (${r.created.slice(0, 10)}, ${r.browser.split(' (')[0]}, ${r.duration_s.toFixed(0)} s).`,
  ];
  return lines.join('\n');
}

function writeDocsSection(markdown: string): void {
  const doc = readFileSync(BENCHMARKS_MD, 'utf8');
  const section = `${MARK_BEGIN}\n${markdown}\n${MARK_END}`;
  const begin = doc.indexOf(MARK_BEGIN), end = doc.indexOf(MARK_END);
  const next = begin >= 0 && end > begin
    ? doc.slice(0, begin) + section + doc.slice(end + MARK_END.length)
    : `${doc.trimEnd()}\n\n## Knowing when it does not know (issue 11)\n\n${section}\n`;
  writeFileSync(BENCHMARKS_MD, next);
  log(`updated ${BENCHMARKS_MD}`);
}

async function main(): Promise<void> {
  const started = Date.now();
  if (args['table-only']) {
    writeDocsSection(domainTableMarkdown(JSON.parse(readFileSync(args.json, 'utf8')) as DomainReport));
    return;
  }
  const modelDir = pickModelDir(args.model);
  const run = await runPhotos(modelDir);
  if (args.dump) {
    mkdirSync(dirname(args.dump), { recursive: true });
    writeFileSync(args.dump, JSON.stringify({ model: relative(process.cwd(), modelDir), labels: run.labels, photos: run.results }) + '\n');
    log(`wrote ${run.results.length} records to ${args.dump}`);
  } else {
    const r = report(modelDir, run, (Date.now() - started) / 1000);
    const table = domainTableMarkdown(r);
    console.log(`\n${r.meaning}\n\n${table}\n`);
    mkdirSync(dirname(args.json), { recursive: true });
    writeFileSync(args.json, JSON.stringify(r, null, 2) + '\n');
    log(`wrote ${args.json}`);
    if (!args['no-docs']) writeDocsSection(table);
  }
  if (run.errors.length > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
