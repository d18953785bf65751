// Reading a model folder's manifest and head for the benches (Node side), and making a feed for its graphs.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { graphFeeds, type FeedArray, type GraphFeedName } from '../../src/engine/model/feeds';
import type { Manifest } from '../../src/engine/model/manifest';

/** The manifest as the engine reads it (the bench only reads the fields it needs). */
export type ManifestLite = Manifest;

export interface HeadLite {
  labels: string[];
  features: number;
  weight: number[][];
  bias: number[];
}

/** Where the shipped model lives, and where the untrained stand-in is exported (git-ignored). */
export const SHIPPED_MODEL_DIR = 'public/models/deit-tiny-beans';
export const STAND_IN_MODEL_DIR = '.work/models/fixture-deit-tiny-random';

/** `--model DIR` if given, else the shipped model if present, else the untrained stand-in. */
export function pickModelDir(requested: string | undefined): string {
  const candidates = requested ? [requested] : [SHIPPED_MODEL_DIR, STAND_IN_MODEL_DIR];
  for (const dir of candidates) if (existsSync(join(dir, 'manifest.json'))) return resolve(dir);
  throw new Error(requested
    ? `no manifest.json in ${requested}`
    : `no model: neither ${SHIPPED_MODEL_DIR} nor ${STAND_IN_MODEL_DIR} exists. Export the stand-in with\n` +
      `  bash scripts/python.sh model/export.py --random-init --config tiny --out ${STAND_IN_MODEL_DIR}`);
}

export function readModel(dir: string): { manifest: ManifestLite; head: HeadLite; bytes: number } {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as ManifestLite;
  const head = JSON.parse(readFileSync(join(dir, manifest.default_head), 'utf8')) as HeadLite;
  // What a browser downloads for fp32: every fp32 graph, their weights and the head.
  const fp32Graphs = [manifest.graphs.full, manifest.graphs.forward, manifest.graphs.lrp].filter((g): g is string => Boolean(g));
  const needed = new Set([...fp32Graphs, manifest.default_head, 'manifest.json']);
  for (const graph of fp32Graphs) {
    const data = graph ? manifest.external_data[graph] : undefined;
    if (data) needed.add(data);
  }
  const bytes = manifest.files.filter((f) => needed.has(f.path)).reduce((s, f) => s + f.bytes, 0);
  return { manifest, head, bytes };
}

/** The contract's graph inputs for `pixels` ([3,S,S] in [0,1]) with `head`, by the engine's own graphFeeds; the
 * target is zeros (the top class). Wrap them for an onnxruntime with toOrtFeeds. */
export function modelFeeds(manifest: ManifestLite, head: HeadLite, pixels: Float32Array): Record<GraphFeedName, FeedArray> {
  const arrays = { labels: head.labels, features: head.features, weight: Float32Array.from(head.weight.flat()), bias: Float32Array.from(head.bias) };
  return graphFeeds(manifest.image_size, arrays, pixels);
}

/** Graph inputs as flat Float32Arrays with shapes: pixels (a fixture gradient image), head, target = zeros. */
export function fixtureFeeds(manifest: ManifestLite, head: HeadLite): Record<string, { data: Float32Array; dims: number[] }> {
  const s = manifest.image_size;
  const pixels = new Float32Array(3 * s * s);
  for (let c = 0; c < 3; c++) for (let i = 0; i < s * s; i++) pixels[c * s * s + i] = ((i % s) / s + Math.floor(i / s) / s + c * 0.3) % 1;
  return modelFeeds(manifest, head, pixels);
}
