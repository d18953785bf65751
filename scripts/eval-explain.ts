// npm run eval:explain [-- --model DIR --data DIR --limit K --webgpu-limit K --perturb-backend wasm|webgpu --json FILE]
// The perturbation test of Chefer et al. (CVPR 2021) in headless Chromium with the engine's code: per photo
// and method, 10…90 % of the patches are filled with the photo's mean colour, most relevant first (positive)
// and least relevant first (negative); we record whether the prediction stays the original class.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { accuracy, aggregateCurves, bestRollout, confidenceSummary, roundRobin, topPatchAgreement, type PhotoRecord } from '../bench/lib/evalAggregate';
import { machineReport } from '../bench/lib/machine';
import { pickModelDir, readModel } from '../bench/lib/modelFiles';
import type { EvalReport } from '../bench/lib/report';
import { agreementTableMarkdown, evalTableMarkdown } from '../bench/lib/tables';
import { browserVersion, DATA_MOUNT, MODEL_MOUNT, startBenchBrowser } from '../bench/node/browserRunner';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string' },
    data: { type: 'string', default: '../shared/data/beans/val' },
    limit: { type: 'string' },
    'webgpu-limit': { type: 'string' },
    'no-webgpu': { type: 'boolean', default: false },
    'perturb-backend': { type: 'string', default: 'wasm' },
    seed: { type: 'string', default: '1' },
    json: { type: 'string' },
  },
});
/** Photos mapped on WebGPU by default when the adapter is software. */
const SOFTWARE_WEBGPU_PHOTOS = 3;
const log = (line: string): void => console.log(`[eval] ${line.replace(/^\[bench\] /, '')}`);

interface Photo { path: string; folder: string }

function listPhotos(dataDir: string): Photo[][] {
  if (!existsSync(dataDir)) throw new Error(`no photo folder ${dataDir}`);
  return readdirSync(dataDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((folder) => readdirSync(join(dataDir, folder)).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort().map((f) => ({ path: `${folder}/${f}`, folder })));
}

async function main(): Promise<void> {
  const started = Date.now();
  const modelDir = pickModelDir(args.model);
  const { manifest } = readModel(modelDir);
  const dataDir = resolve(args.data);
  const groups = listPhotos(dataDir);
  const total = groups.reduce((s, g) => s + g.length, 0);
  const photos = roundRobin(groups, args.limit ? Number(args.limit) : total);
  const webgpu = !args['no-webgpu'];
  let webgpuLimit = args['webgpu-limit'] ? Number(args['webgpu-limit']) : photos.length;
  const perturbBackend = args['perturb-backend'] === 'webgpu' ? 'webgpu' : 'wasm';
  const valAccuracy = manifest.training?.val_accuracy;
  const meaning = manifest.trained
    ? `faithfulness of the explanations of the trained model ${manifest.name}` +
      (typeof valAccuracy === 'number' ? ` (val accuracy ${(valAccuracy * 100).toFixed(1)} % as its manifest states)` : '')
    : 'PIPELINE CHECK ONLY: the model is UNTRAINED (a test fixture); these numbers say nothing about how the methods rank';
  log(`model ${manifest.name} (${modelDir}); ${photos.length} of ${total} photos from ${dataDir}`);
  log(meaning);

  const harness = await startBenchBrowser({ modelDir, dataDir, log });
  const records: PhotoRecord[] = [];
  const errors: string[] = [];
  let report: EvalReport | null = null;
  try {
    const { page, close } = await harness.openBenchPage();
    const info = await page.evaluate((c) => window.leafLensBench.openEval(c), {
      modelUrl: `${harness.baseUrl}${MODEL_MOUNT}`, webgpu, perturbBackend, seed: Number(args.seed),
    } as const);
    log(`cases: ${info.cases.map((c) => c.name).join(', ')}; backends: ${JSON.stringify(info.adapters)}`);
    if (info.webgpuSoftware && !args['webgpu-limit']) {
      // A full-graph run of DeiT-tiny on SwiftShader takes minutes: compare top patches on a few photos only.
      webgpuLimit = Math.min(webgpuLimit, SOFTWARE_WEBGPU_PHOTOS);
      log(`software WebGPU adapter: WebGPU maps on the first ${webgpuLimit} photos only (--webgpu-limit K to change)`);
    }
    for (const [i, photo] of photos.entries()) {
      const label = info.labels.indexOf(photo.folder);
      const t0 = Date.now();
      try {
        records.push(await page.evaluate(
          ([url, l, index, withWebgpu]) => window.leafLensBench.evalPhoto(url, l, index, withWebgpu),
          [`${harness.baseUrl}${DATA_MOUNT}${photo.path}`, label, i, webgpu && i < webgpuLimit] as const,
        ));
      } catch (err) {
        errors.push(`${photo.path}: ${String(err).split('\n')[0]}`);
        log(`${photo.path} FAILED: ${String(err).split('\n')[0]}`);
      }
      const elapsed = (Date.now() - started) / 1000;
      log(`${i + 1}/${photos.length} ${photo.path} in ${((Date.now() - t0) / 1000).toFixed(1)} s (elapsed ${elapsed.toFixed(0)} s, ETA ${((elapsed / (i + 1)) * (photos.length - i - 1)).toFixed(0)} s)`);
    }
    await page.evaluate(() => window.leafLensBench.closeEval());
    await close();

    const methods = aggregateCurves(records, info.cases, info.fractions);
    const agreement = topPatchAgreement(records);
    report = {
      kind: 'explain-eval',
      created: new Date().toISOString(),
      model: { name: manifest.name, title: manifest.title, trained: manifest.trained, url: modelDir, note: meaning },
      meaning,
      photos: records.length,
      fractions: info.fractions,
      perturbation_backend: perturbBackend,
      fill: "the photo's per-channel mean colour (of the model input), whole 16×16 patches",
      accuracy_unperturbed: accuracy(records),
      confidence: confidenceSummary(records),
      methods,
      rollout_best: bestRollout(methods)?.name ?? null,
      top_patch_agreement: Object.keys(agreement).length > 0 ? { photos: Math.min(webgpuLimit, records.length), methods: agreement } : null,
      duration_s: (Date.now() - started) / 1000,
      machine: machineReport(),
      browser: `${await browserVersion(harness.browser)}; maps on ${Object.values(info.adapters).join(' and ')}`,
      errors,
    };
  } finally {
    await harness.close();
  }
  console.log(`\n${report.meaning}\n\n${evalTableMarkdown(report)}\n\n${agreementTableMarkdown(report)}\n`);
  if (args.json) {
    mkdirSync(dirname(args.json), { recursive: true });
    writeFileSync(args.json, JSON.stringify(report, null, 2) + '\n');
    log(`wrote ${args.json}`);
  }
  if (errors.length > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
