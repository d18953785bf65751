// The bench page. Interactive: pick a model folder and a photo, press Run. Headless: scripts/bench.ts and
// scripts/eval-explain.ts call the functions on `window.leafLensBench`, one page per part and backend.
import { describeError, probeWebGpuAdapter } from '../src/engine/index';
import type { BackendName } from '../src/engine/index';
import { EvalSession, type EvalConfig, type EvalInfo } from './browser/evalExplain';
import { FieldSession, qualityOfPhoto, type CopyAnswer, type LeafAnswer, type PhotoQualityResult } from './browser/field';
import type { Degradation } from './lib/degrade';
import { DomainSession, type DomainRecord } from './browser/evalDomain';
import { runEndToEnd, type EndToEndConfig, type EndToEndResult } from './browser/endToEnd';
import { closeTeachEngine, extractFeatures, openTeachEngine, timeTeach } from './browser/teach';
import { runStages, type StagesConfig, type StagesResult } from './browser/stages';
import type { PhotoRecord } from './lib/evalAggregate';
import { mergeBackend } from './lib/merge';
import type { AdapterReport, BackendBench } from './lib/report';
import { adapterReport } from './browser/engines';
import { stageTableMarkdown, summaryTableMarkdown } from './lib/tables';
import { syntheticPhoto } from './lib/synthetic';

const logElement = document.getElementById('log') as HTMLPreElement;
const canvas = document.getElementById('canvas') as HTMLCanvasElement;

function log(line: string): void {
  console.log(`[bench] ${line}`);
  logElement.textContent += `${line}\n`;
}

let evalSession: EvalSession | null = null;
let fieldSession: FieldSession | null = null;
let domainSession: DomainSession | null = null;

/** EngineError's message is for farmers; the runner needs its code and detail. */
async function withDetail<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
    if (cause instanceof Error && cause.stack) console.warn(`[bench] ${cause.stack}`);
    throw new Error(describeError(err));
  }
}

const api = {
  /** The WebGPU adapter the engine would use, or null. */
  async probe(): Promise<AdapterReport | null> {
    return adapterReport(await probeWebGpuAdapter());
  },
  stages: (config: Omit<StagesConfig, 'canvas' | 'log'>): Promise<StagesResult> => withDetail(runStages({ ...config, canvas, log })),
  endToEnd: (config: Omit<EndToEndConfig, 'canvas' | 'log'>): Promise<EndToEndResult> => withDetail(runEndToEnd({ ...config, canvas, log })),
  async openEval(config: EvalConfig): Promise<EvalInfo> {
    evalSession = await withDetail(EvalSession.open(config));
    return evalSession.info();
  },
  evalPhoto(url: string, label: number, index: number, withWebgpu: boolean): Promise<PhotoRecord> {
    if (!evalSession) throw new Error('openEval first');
    return withDetail(evalSession.photo(url, label, index, withWebgpu));
  },
  openTeach: (modelUrl: string) => withDetail(openTeachEngine(modelUrl)),
  teachFeatures: (urls: string[]) => withDetail(extractFeatures(urls)),
  timeTeach: (config: Parameters<typeof timeTeach>[0]) => withDetail(timeTeach(config)),
  closeTeach: () => closeTeachEngine(),
  async closeEval(): Promise<void> {
    await evalSession?.close();
    evalSession = null;
  },
  qualityOfPhoto: (url: string, degradations: Degradation[], seed: number): Promise<PhotoQualityResult> => withDetail(qualityOfPhoto(url, degradations, seed)),
  async openField(modelUrl: string): Promise<{ labels: string[]; domainCheck: boolean }> {
    fieldSession = await withDetail(FieldSession.open(modelUrl));
    return fieldSession.info();
  },
  fieldPhoto(url: string): Promise<LeafAnswer> {
    if (!fieldSession) throw new Error('openField first');
    return withDetail(fieldSession.photo(url));
  },
  fieldDegradedAnswers(url: string, degradations: Degradation[], seed: number): Promise<Record<string, CopyAnswer>> {
    if (!fieldSession) throw new Error('openField first');
    return withDetail(fieldSession.degradedAnswers(url, degradations, seed));
  },
  closeField(): void {
    fieldSession?.close();
    fieldSession = null;
  },
  /** scripts/eval-domain.ts: the engine on one backend, then one photo per call. */
  async openDomain(modelUrl: string, backend: BackendName): Promise<ReturnType<DomainSession['info']>> {
    domainSession = await withDetail(DomainSession.open(modelUrl, backend));
    return domainSession.info();
  },
  domainPhoto(url: string): Promise<DomainRecord> {
    if (!domainSession) throw new Error('openDomain first');
    return withDetail(domainSession.photo(url));
  },
  domainPixels(url: string, size: number): Promise<string> {
    if (!domainSession) throw new Error('openDomain first');
    return withDetail(domainSession.pixels(url, size));
  },
  closeDomain(): void {
    domainSession?.close();
    domainSession = null;
  },
};

declare global {
  interface Window { leafLensBench: typeof api }
}
window.leafLensBench = api;

/** A JPEG fixture photo when none is chosen, so the page runs without any input. */
async function fixturePhotoUrl(): Promise<string> {
  const photo = syntheticPhoto(512, 384);
  const c = new OffscreenCanvas(photo.width, photo.height);
  c.getContext('2d')!.putImageData(new ImageData(photo.data, photo.width, photo.height), 0, 0);
  return URL.createObjectURL(await c.convertToBlob({ type: 'image/jpeg', quality: 0.9 }));
}

const form = document.getElementById('form') as HTMLFormElement;
const params = new URLSearchParams(location.search);
(form.elements.namedItem('model') as HTMLInputElement).value = params.get('model') ?? new URL('../models/deit-tiny-beans/', location.href).href;

form.addEventListener('submit', (event) => {
  event.preventDefault();
  void (async () => {
    const data = new FormData(form);
    const file = (form.elements.namedItem('photo') as HTMLInputElement).files?.[0];
    const photoUrl = file ? URL.createObjectURL(file) : await fixturePhotoUrl();
    const backends = (['webgpu', 'wasm'] as BackendName[]).filter((b) => data.get(b) === 'on');
    const common = { modelUrl: String(data.get('model')), photoUrl, warmup: Number(data.get('warmup')), runs: Number(data.get('runs')) };
    const results: BackendBench[] = [];
    for (const backend of backends) {
      try {
        const stages = await api.stages({ ...common, backend });
        const e2e = await api.endToEnd({ ...common, backend, method: 'relevance' });
        results.push(mergeBackend(stages, e2e));
      } catch (err) {
        log(`${backend}: ${String(err)}`);
      }
    }
    if (results.length > 0) {
      const table = document.getElementById('table')!;
      table.innerHTML = '';
      const pre = document.createElement('pre');
      pre.textContent = `${summaryTableMarkdown(results)}\n\n${stageTableMarkdown(results)}`;
      table.append(pre);
      log(JSON.stringify(results, null, 2));
    }
  })();
});
