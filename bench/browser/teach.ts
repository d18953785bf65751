// Teaching a class, page side: the engine on WASM gives each photo's features (the same decode, crop and
// forward graph as the app), and times teaching from photos as the app does it. scripts/eval-teach.ts drives it.
import { createEngine, memoryFileCache } from '../../src/engine/engine';
import type { Engine } from '../../src/engine/types';

let engine: Engine | null = null;

export async function openTeachEngine(modelUrl: string): Promise<{ labels: string[]; backend: string }> {
  engine?.dispose();
  engine = await createEngine(modelUrl, { backend: 'wasm', modelCache: memoryFileCache() });
  return { labels: engine.model.labels, backend: engine.backend };
}

function need(): Engine {
  if (!engine) throw new Error('openTeachEngine first');
  return engine;
}

/** Raw features of each photo (fetched from `urls`), as plain arrays for the runner. */
export async function extractFeatures(urls: string[]): Promise<number[][]> {
  const e = need();
  const out: number[][] = [];
  for (const url of urls) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
    const photo = await e.loadPhoto(await response.blob());
    try {
      out.push(Array.from((await e.embed(photo)).features));
    } finally {
      photo.close();
    }
  }
  return out;
}

export function closeTeachEngine(): void {
  engine?.dispose();
  engine = null;
}
