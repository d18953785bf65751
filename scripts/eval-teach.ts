// npm run eval:teach [-- --model DIR --data DIR --draws 20 --seed 1 --json FILE --no-timing]
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
import { pickModelDir, readModel } from '../bench/lib/modelFiles';
import { browserVersion, DATA_MOUNT, MODEL_MOUNT, startBenchBrowser, type BenchBrowser } from '../bench/node/browserRunner';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string' },
    data: { type: 'string', default: '../shared/data/beans' },
    draws: { type: 'string', default: '20' },
    seed: { type: 'string', default: '1' },
    json: { type: 'string', default: 'docs/bench/eval-teach.json' },
    'no-timing': { type: 'boolean', default: false },
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
  const report = { kind: 'teach-eval', created: new Date().toISOString(), duration_s: (Date.now() - started) / 1000, machine: machineReport() };
  mkdirSync(dirname(args.json), { recursive: true });
  writeFileSync(args.json, JSON.stringify(report, null, 2) + '\n');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
