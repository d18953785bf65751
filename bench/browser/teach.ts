// Teaching a class, page side: the engine on WASM gives each photo's features (the same decode, crop and
// forward graph as the app), and times teaching from photos as the app does it. scripts/eval-teach.ts drives it.
import { createEngine, memoryFileCache, teachClass } from '../../src/engine/index';
import type { Engine } from '../../src/engine/index';

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

export interface TeachTiming {
  photos: number;
  repeats: number;
  /** Median over repeats, ms: decoding the photo files, their features (forward graph), the head (closed
   * form), and making it active (setHead). */
  decode_ms: number;
  features_ms: number;
  teach_ms: number;
  set_head_ms: number;
  /** From features to an active head: teach + setHead. */
  from_features_ms: number;
  /** From the photo files (in memory) to an active head. */
  end_to_end_ms: number;
  /** JS heap after a GC, before and after teaching (null where the browser does not say). */
  heap_before_bytes: number | null;
  heap_after_bytes: number | null;
  head_json_bytes: number;
  backend: string;
}

function jsHeap(): number | null {
  (globalThis as { gc?: () => void }).gc?.();
  const memory = (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory;
  return memory ? memory.usedJSHeapSize : null;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Teaches `label` from the photos at `urls` onto `baseHead`, as the app does, `repeats` times (fresh photo
 * handles each time, so every repeat decodes and runs the model again). */
export async function timeTeach(config: { urls: string[]; baseHead: Record<string, unknown>; label: string; repeats: number }): Promise<TeachTiming> {
  const e = need();
  await e.setHead(config.baseHead, 'base head');
  const blobs = await Promise.all(config.urls.map(async (url) => (await fetch(url)).blob()));
  const decode: number[] = [], features: number[] = [], teach: number[] = [], setHead: number[] = [], total: number[] = [];
  const heapBefore = jsHeap();
  let bytes = 0;
  for (let r = 0; r < config.repeats; r++) {
    await e.setHead(config.baseHead, 'base head');
    const t0 = performance.now();
    const photos = [];
    for (const blob of blobs) photos.push(await e.loadPhoto(blob));
    const t1 = performance.now();
    const embedded = [];
    for (const photo of photos) embedded.push((await e.embed(photo)).features);
    const t2 = performance.now();
    const head = teachClass(config.baseHead, e.model.backbone, { label: config.label, features: embedded });
    const t3 = performance.now();
    await e.setHead(head, 'taught head');
    const t4 = performance.now();
    for (const photo of photos) photo.close();
    decode.push(t1 - t0); features.push(t2 - t1); teach.push(t3 - t2); setHead.push(t4 - t3); total.push(t4 - t0);
    bytes = JSON.stringify(head).length;
  }
  return {
    photos: blobs.length, repeats: config.repeats,
    decode_ms: median(decode), features_ms: median(features), teach_ms: median(teach), set_head_ms: median(setHead),
    from_features_ms: median(teach.map((t, i) => t + setHead[i]!)), end_to_end_ms: median(total),
    heap_before_bytes: heapBefore, heap_after_bytes: jsHeap(), head_json_bytes: bytes, backend: e.backend,
  };
}
