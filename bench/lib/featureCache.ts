// The backbone features of every photo of the beans set, extracted once in headless Chromium by the engine
// (scripts/eval-teach.ts) and kept in an ignored folder, keyed by the backbone's sha256.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface PhotoFeatures {
  /** Relative to the data folder, e.g. train/healthy/healthy_0001.jpg. */
  path: string;
  label: string;
  split: 'train' | 'val';
  features: number[];
}

export interface FeatureCache {
  backbone_sha256: string;
  model: string;
  backend: string;
  created: string;
  photos: PhotoFeatures[];
}

export function featureCachePath(backboneSha256: string): string {
  return join('.work', 'teach', `features-${backboneSha256.slice(0, 16)}.json`);
}

export function readFeatureCache(backboneSha256: string): FeatureCache | null {
  const path = featureCachePath(backboneSha256);
  if (!existsSync(path)) return null;
  const cache = JSON.parse(readFileSync(path, 'utf8')) as FeatureCache;
  return cache.backbone_sha256 === backboneSha256 ? cache : null;
}

export function writeFeatureCache(cache: FeatureCache): string {
  const path = featureCachePath(cache.backbone_sha256);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(cache));
  return path;
}

/** manifest.csv of the beans set: path,label,split,sha256. */
export function readPhotoList(dataDir: string): Omit<PhotoFeatures, 'features'>[] {
  const lines = readFileSync(join(dataDir, 'manifest.csv'), 'utf8').trim().split('\n').slice(1);
  return lines.map((line) => {
    const [path, label, split] = line.split(',');
    if (!path || !label || (split !== 'train' && split !== 'val')) throw new Error(`manifest.csv: bad line ${line}`);
    return { path, label, split } as const;
  });
}
