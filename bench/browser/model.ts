// The bench page's model loading: the engine's own manifest/head validation and graph sessions, so the
// stage timings measure the code the app runs. Plain fetch (no cache, no checksum): that is not a stage here.
import { createEngineDevice, probeAdapter, type AdapterProbe } from '../../src/engine/gpu/device';
import { validateHead, type Head } from '../../src/engine/model/head';
import { validateManifest, type Manifest } from '../../src/engine/model/manifest';
import { loadOrt, type Ort } from '../../src/engine/model/ort';
import { GraphSession, type GraphSource } from '../../src/engine/model/session';
import type { BackendName } from '../../src/engine/index';
import type { AdapterReport } from '../lib/report';

export interface LoadedModel {
  baseUrl: string;
  manifest: Manifest;
  head: Head;
  /** Bytes the fp32 graphs, their weights, manifest and head take: what a first visit downloads for the model. */
  bytes: number;
  /** The lrp graph only when the model has one. */
  sources: { forward: GraphSource; full: GraphSource; lrp?: GraphSource };
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

export async function loadModelFiles(baseUrl: string): Promise<LoadedModel> {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const manifestText = await (await fetch(`${base}manifest.json`)).text();
  const manifest = validateManifest(JSON.parse(manifestText), `${base}manifest.json`);
  const headText = await (await fetch(`${base}${manifest.default_head}`)).text();
  const head = validateHead(JSON.parse(headText), manifest, manifest.default_head);
  const weightsCache = new Map<string, Promise<Uint8Array>>();
  const weightsOf = (path: string): Promise<Uint8Array> => {
    let p = weightsCache.get(path);
    if (!p) { p = fetchBytes(`${base}${path}`); weightsCache.set(path, p); }
    return p;
  };
  const source = async (kind: 'forward' | 'full' | 'lrp'): Promise<GraphSource> => {
    const file = manifest.graphs[kind];
    if (!file) throw new Error(`manifest has no ${kind} graph`);
    const weightsPath = manifest.external_data[file];
    if (!weightsPath) throw new Error(`manifest names no external data for ${file}`);
    return { kind, file, bytes: await fetchBytes(`${base}${file}`), weightsPath, weights: await weightsOf(weightsPath) };
  };
  const sources = {
    forward: await source('forward'),
    full: await source('full'),
    ...(manifest.graphs.lrp ? { lrp: await source('lrp') } : {}),
  };
  const graphSources = Object.values(sources);
  const weightBytes = new Set(graphSources.map((s) => s.weightsPath));
  let bytes = manifestText.length + headText.length + graphSources.reduce((sum, s) => sum + s.bytes.byteLength, 0);
  for (const path of weightBytes) bytes += (await weightsOf(path)).byteLength;
  return { baseUrl: base, manifest, head, bytes, sources };
}

export interface BenchSessions {
  backend: BackendName;
  ort: Ort;
  device?: GPUDevice;
  probe?: AdapterProbe;
  forward: GraphSession;
  full: GraphSession;
  /** Only when the model has an lrp graph. */
  lrp?: GraphSession;
}

/** The engine's kind of device (same limits and optional features), on the first adapter. */
export async function openDevice(): Promise<{ device: GPUDevice; probe: AdapterProbe }> {
  const probe = await probeAdapter();
  if (!probe) throw new Error('WebGPU: no adapter (start Chromium with --enable-unsafe-webgpu)');
  return { device: (await createEngineDevice(probe, false)).device, probe };
}

export async function openSessions(model: LoadedModel, backend: BackendName): Promise<BenchSessions> {
  const ort = await loadOrt();
  let device: GPUDevice | undefined;
  let probe: AdapterProbe | undefined;
  if (backend === 'webgpu') ({ device, probe } = await openDevice());
  // As the engine does: ORT must use the adapter that holds our device instead of probing its own.
  if (probe && !ort.env.webgpu.adapter) ort.env.webgpu.adapter = probe.adapter;
  const classes = model.head.labels.length;
  const target = { ort, backend, device };
  const forward = await GraphSession.create(target, model.sources.forward, model.manifest, classes);
  const full = await GraphSession.create(target, model.sources.full, model.manifest, classes);
  const lrp = model.sources.lrp ? await GraphSession.create(target, model.sources.lrp, model.manifest, classes) : undefined;
  return { backend, ort, device, probe, forward, full, lrp };
}

export function adapterReport(probe: AdapterProbe | undefined): AdapterReport | null {
  if (!probe) return null;
  const info = probe.adapter.info;
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    description: probe.description,
    software: probe.isFallbackAdapter || /swiftshader|llvmpipe|lavapipe/i.test(probe.description),
    features: [...probe.adapter.features].map(String).sort(),
  };
}

export function adapterLabel(sessions: Pick<BenchSessions, 'backend' | 'ort' | 'probe'>): string {
  const { backend, ort, probe } = sessions;
  if (backend === 'wasm') return `CPU (onnxruntime-web WASM, SIMD, ${String(ort.env.wasm.numThreads ?? 1)} threads)`;
  const report = adapterReport(probe);
  return report ? `${report.description}${report.software ? ' (software WebGPU, correctness only)' : ''}` : 'no adapter';
}
