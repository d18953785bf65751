// npm run eval:quality [-- --limit K --no-train --no-model --json FILE --no-docs]
// npm run eval:group   [-- --model DIR --draws N --size K --seed S --json FILE --no-docs]
// Field evaluations in headless Chromium with the engine's own code:
// - quality: photo-quality issues on the clean val photos (false alarms), on degraded copies of them
//   (detection), the training photos' measures (where the thresholds come from), and, unless --no-model, the
//   shipped model's answers to each copy (right? sure and wrong?);
// - group: every val photo judged alone by the engine's public API (shipped model), then seeded random groups
//   of K photos of one class combined by the engine's combineLeaves: accuracy and share answered sure,
//   single photo vs group.
// Writes docs/bench/eval-quality.json / eval-group.json and the tables between the markers in docs/benchmarks.md
// (`--from FILE` re-writes the table from an earlier run's JSON without measuring; for groups it redoes the
// seeded draws from the stored per-photo answers).
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEGRADATIONS } from '../bench/lib/degrade';
import {
  evaluateGroups, groupTableMarkdown, measurePercentiles, qualityTableMarkdown, replaceBetweenMarkers, summariseQuality,
  type LeafRecord, type QualityRecord,
} from '../bench/lib/fieldEval';
import { machineReport } from '../bench/lib/machine';
import { pickModelDir, readModel } from '../bench/lib/modelFiles';
import { browserVersion, DATA_MOUNT, MODEL_MOUNT, startBenchBrowser } from '../bench/node/browserRunner';
import { QUALITY_THRESHOLDS } from '../src/engine/image/quality';
import { groupRuleOf } from '../src/engine/model/group';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    model: { type: 'string' },
    data: { type: 'string', default: '../shared/data/beans' },
    limit: { type: 'string' },
    'no-train': { type: 'boolean', default: false },
    'no-model': { type: 'boolean', default: false },
    draws: { type: 'string', default: '3000' },
    size: { type: 'string', default: '3' },
    seed: { type: 'string', default: '1' },
    json: { type: 'string' },
    'no-docs': { type: 'boolean', default: false },
    /** Re-writes the docs table from an earlier run's JSON instead of measuring again. */
    from: { type: 'string' },
  },
});
const part = positionals[0];
const log = (line: string): void => console.log(`[eval:${part}] ${line.replace(/^\[bench\] /, '')}`);
const DOCS = 'docs/benchmarks.md';

function listSplit(dataDir: string, split: string): { path: string; folder: string }[] {
  const root = join(dataDir, split);
  if (!existsSync(root)) throw new Error(`no photo folder ${root}`);
  return readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()
    .flatMap((folder) => readdirSync(join(root, folder)).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort().map((f) => ({ path: `${split}/${folder}/${f}`, folder })));
}

function writeOutputs(name: string, report: object, table: string): void {
  const json = args.json ?? `docs/bench/eval-${name}.json`;
  mkdirSync(dirname(json), { recursive: true });
  writeFileSync(json, JSON.stringify(report, null, 2) + '\n');
  log(`wrote ${json}`);
  if (!args['no-docs']) {
    writeFileSync(DOCS, replaceBetweenMarkers(readFileSync(DOCS, 'utf8'), `eval:${name}`, table));
    log(`updated the eval:${name} table in ${DOCS}`);
  }
}

function qualityTable(summary: ReturnType<typeof summariseQuality>, train: { photos: number; withIssues: number } | null): string {
  return qualityTableMarkdown(summary) + (train
    ? `\n\nTraining photos (where the thresholds were set): ${train.withIssues} of ${train.photos} raise an issue.`
    : '');
}

async function evalQuality(): Promise<void> {
  if (args.from) {
    const report = JSON.parse(readFileSync(args.from, 'utf8')) as { val: ReturnType<typeof summariseQuality>; train: { photos: number; withIssues: number } | null };
    writeOutputs('quality', report, qualityTable(report.val, report.train));
    return;
  }
  const started = Date.now();
  const dataDir = resolve(args.data);
  const limit = args.limit ? Number(args.limit) : Infinity;
  const val = listSplit(dataDir, 'val').slice(0, limit);
  const train = args['no-train'] ? [] : listSplit(dataDir, 'train').slice(0, limit);
  const seed = Number(args.seed);
  const harness = await startBenchBrowser({ modelDir: pickModelDir(args.model), dataDir, log });
  const records: QualityRecord[] = [];
  const trainQualities = [];
  let trainAlarms = 0;
  try {
    const { page, close } = await harness.openBenchPage();
    const labels = args['no-model'] ? null : (await page.evaluate((url) => window.leafLensBench.openField(url), `${harness.baseUrl}${MODEL_MOUNT}`)).labels;
    for (const [i, photo] of val.entries()) {
      const url = `${harness.baseUrl}${DATA_MOUNT}${photo.path}`;
      const result = await page.evaluate(([u, d, s]) => window.leafLensBench.qualityOfPhoto(u, d, s), [url, DEGRADATIONS, seed + i] as const);
      // The same copies (same seed), diagnosed by the app's engine.
      const answers = labels ? await page.evaluate(([u, d, s]) => window.leafLensBench.fieldDegradedAnswers(u, d, s), [url, DEGRADATIONS, seed + i] as const) : undefined;
      records.push({ path: photo.path, ...result, ...(labels && answers ? { label: labels.indexOf(photo.folder), answers } : {}) });
      if ((i + 1) % 10 === 0) log(`val ${i + 1}/${val.length}`);
    }
    if (labels) await page.evaluate(() => window.leafLensBench.closeField());
    for (const [i, photo] of train.entries()) {
      const result = await page.evaluate((url) => window.leafLensBench.qualityOfPhoto(url, [], 0), `${harness.baseUrl}${DATA_MOUNT}${photo.path}`);
      trainQualities.push(result.clean);
      if (result.clean.issues.length > 0) trainAlarms++;
      if ((i + 1) % 100 === 0) log(`train ${i + 1}/${train.length}`);
    }
    await close();
    const summary = summariseQuality(records, DEGRADATIONS);
    const report = {
      kind: 'quality-eval',
      created: new Date().toISOString(),
      meaning: 'photo-quality issues (src/engine/image/quality.ts) on the model input of each photo: false alarms on clean val photos, detection on degraded copies',
      thresholds: QUALITY_THRESHOLDS,
      val: summary,
      train: train.length > 0 ? {
        photos: train.length,
        withIssues: trainAlarms,
        percentiles: measurePercentiles(trainQualities, [0.5, 1, 50, 99, 99.5]),
      } : null,
      valPercentiles: measurePercentiles(records.map((r) => r.clean), [0.5, 1, 50, 99, 99.5]),
      degradations: DEGRADATIONS,
      seed,
      duration_s: (Date.now() - started) / 1000,
      machine: machineReport(),
      browser: await browserVersion(harness.browser),
      photos: records,
    };
    const table = qualityTable(summary, report.train);
    console.log(`\n${table}\n`);
    writeOutputs('quality', report, table);
  } finally {
    await harness.close();
  }
}

async function evalGroup(): Promise<void> {
  if (args.from) {
    // The engine's per-photo answers are kept in the JSON: the draws (pure, seeded) are redone from them.
    const stored = JSON.parse(readFileSync(args.from, 'utf8')) as ReturnType<typeof evaluateGroups> & { photos: LeafRecord[] };
    const summary = evaluateGroups(stored.photos, { draws: stored.draws, groupSize: stored.groupSize, seed: stored.seed, rule: stored.rule });
    const report = { ...stored, ...summary, photos: stored.photos };
    writeOutputs('group', report, groupTableMarkdown(summary));
    return;
  }
  const started = Date.now();
  const modelDir = pickModelDir(args.model);
  const { manifest } = readModel(modelDir);
  const head = JSON.parse(readFileSync(join(modelDir, manifest.default_head), 'utf8')) as { confidence?: { min_probability?: number } };
  const dataDir = resolve(args.data);
  const val = listSplit(dataDir, 'val').slice(0, args.limit ? Number(args.limit) : Infinity);
  const harness = await startBenchBrowser({ modelDir, dataDir, log });
  const records: LeafRecord[] = [];
  try {
    const { page, close } = await harness.openBenchPage();
    const info = await page.evaluate((url) => window.leafLensBench.openField(url), `${harness.baseUrl}${MODEL_MOUNT}`);
    log(`model ${manifest.name}; domain check ${info.domainCheck ? 'on' : 'OFF (head has no statistics)'}`);
    for (const [i, photo] of val.entries()) {
      const answer = await page.evaluate((url) => window.leafLensBench.fieldPhoto(url), `${harness.baseUrl}${DATA_MOUNT}${photo.path}`);
      records.push({ path: photo.path, label: info.labels.indexOf(photo.folder), probabilities: answer.probabilities, outcome: answer.outcome });
      if ((i + 1) % 10 === 0) log(`${i + 1}/${val.length}`);
    }
    await page.evaluate(() => window.leafLensBench.closeField());
    await close();
    const rule = groupRuleOf(head.confidence?.min_probability);
    const summary = evaluateGroups(records, { draws: Number(args.draws), groupSize: Number(args.size), seed: Number(args.seed), rule });
    const report = {
      kind: 'group-eval',
      created: new Date().toISOString(),
      model: { name: manifest.name, url: modelDir, domainCheck: info.domainCheck },
      meaning: 'one answer from several leaves (src/engine/model/group.ts) vs one photo, on the val photos judged by the engine',
      ...summary,
      duration_s: (Date.now() - started) / 1000,
      machine: machineReport(),
      browser: await browserVersion(harness.browser),
      photos: records,
    };
    const table = groupTableMarkdown(summary);
    console.log(`\n${table}\n`);
    writeOutputs('group', report, table);
  } finally {
    await harness.close();
  }
}

const run = part === 'quality' ? evalQuality : part === 'group' ? evalGroup : undefined;
if (!run) {
  console.error('usage: tsx scripts/eval-field.ts quality|group [options]');
  process.exit(2);
}
run().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
