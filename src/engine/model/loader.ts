// Model folder → verified bytes: manifest (validated), the graphs and weights of one precision, the default head.
import { EngineError, describeError, throwIfAborted } from '../errors';
import { nextTask } from '../nextTask';
import type { LoadProgress, ModelFileSource } from '../types';
import { fetchJson, fetchVerified, networkOpener, sourceOpener, type FileOpener, type ModelFileCache } from './fetcher';
import { validateHead, type Head } from './head';
import { int8FilesOf, validateInt8Layout } from './int8';
import { rebuildWeightsOffMainThread } from './int8OffThread';
import { fileEntry, validateManifest, type Manifest, type ModelFileEntry } from './manifest';

export interface GraphFiles {
  /** fp16 variants (adapter has shader-f16 and the manifest lists them) or fp32. */
  fp16: boolean;
  /** Loaded with the model: the graphs of the first diagnosis (forward, full). */
  graphs: { full: GraphFile; forward: GraphFile };
  /** The lrp graph's file when the manifest has one for this precision (the lrp method is offered only then). It is
   * not on the way to the first diagnosis (no default method uses it): loadGraphFile fetches it when lrp is chosen,
   * or in the background after the model is ready, so that it is in the model cache for offline use. */
  lrpFile?: string;
  weightsPath: string;
  /** Bytes, or a Blob of them (the int8 download rebuilt in a worker): ORT takes either as external data. */
  weights: Uint8Array | Blob;
  /** Every file of this precision, the lrp graph included. */
  totalBytes: number;
}

export interface GraphFile {
  file: string;
  bytes: Uint8Array;
}

export interface LoaderContext {
  baseUrl: string;
  cache: ModelFileCache;
  onProgress?: (p: LoadProgress) => void;
  signal?: AbortSignal;
  /** The folder's files when they do not come from the network (EngineOptions.files). */
  files?: ModelFileSource;
}

function openerOf(ctx: LoaderContext): FileOpener {
  return ctx.files ? sourceOpener(ctx.files, ctx.baseUrl) : networkOpener;
}

/** Ends with a slash, absolute, so `new URL(file, base)` stays inside the model folder. */
export function modelFolderUrl(baseUrl: string): string {
  const withSlash = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const origin = typeof document !== 'undefined' ? document.baseURI : globalThis.location?.href;
  return new URL(withSlash, origin).href;
}

export async function loadManifest(ctx: LoaderContext): Promise<Manifest> {
  ctx.onProgress?.({ kind: 'manifest' });
  const url = new URL('manifest.json', ctx.baseUrl).href;
  let json: unknown;
  try {
    json = await fetchJson(url, 'manifest.json', ctx.signal, ctx.cache, openerOf(ctx));
  } catch (error) {
    if (error instanceof EngineError && error.code === 'model-missing') {
      throw new EngineError('model-missing', `${error.detail} (no model installed at ${ctx.baseUrl})`, undefined, { cause: error });
    }
    throw error;
  }
  return validateManifest(json, url);
}

export function hasFp16(manifest: Manifest): boolean {
  return Boolean(manifest.graphs.full_fp16 && manifest.graphs.forward_fp16);
}

/** The lrp graph's file for this precision, if the model has one. */
export function lrpGraphFile(manifest: Manifest, fp16: boolean): string | undefined {
  return fp16 ? manifest.graphs.lrp_fp16 : manifest.graphs.lrp;
}

/** Downloads (or takes from cache) the forward and full graphs of one precision and their shared weights; every file
 * checked by size and sha256. The lrp graph (fetched later: loadGraphFile) counts in totalBytes.
 * With an int8 download (manifest `weights_int8`) that covers this precision's weights file, the int8 file is what is
 * downloaded and cached, and the weights are rebuilt from it in memory. */
export async function loadGraphFiles(manifest: Manifest, ctx: LoaderContext, fp16: boolean): Promise<GraphFiles> {
  const full = fp16 ? manifest.graphs.full_fp16! : manifest.graphs.full;
  const forward = fp16 ? manifest.graphs.forward_fp16! : manifest.graphs.forward;
  const lrp = lrpGraphFile(manifest, fp16);
  const weightsPath = manifest.external_data[full]!;
  const fetchEntry = (entry: ModelFileEntry) => fetchModelFile(ctx, entry);
  const graphEntries = [forward, full].map((p) => fileEntry(manifest, p));
  const [weights, weightEntries] = await loadWeights(manifest, weightsPath, fetchEntry);
  const [weightBytes, forwardBytes, fullBytes] = (await Promise.all([weights, ...graphEntries.map(fetchEntry)])) as [Uint8Array | Blob, Uint8Array, Uint8Array];
  const lrpEntries = lrp ? [fileEntry(manifest, lrp)] : [];
  return {
    fp16,
    graphs: { forward: { file: forward, bytes: forwardBytes }, full: { file: full, bytes: fullBytes } },
    ...(lrp ? { lrpFile: lrp } : {}),
    weightsPath,
    weights: weightBytes,
    totalBytes: [...weightEntries, ...graphEntries, ...lrpEntries].reduce((sum, e) => sum + e.bytes, 0),
  };
}

/** One graph file of the model folder (downloaded, or from the model cache), checked by size and sha256. */
export async function loadGraphFile(manifest: Manifest, ctx: LoaderContext, file: string): Promise<GraphFile> {
  return { file, bytes: await fetchModelFile(ctx, fileEntry(manifest, file)) };
}

function fetchModelFile(ctx: LoaderContext, entry: ModelFileEntry): Promise<Uint8Array> {
  throwIfAborted(ctx.signal, 'model download');
  return fetchVerified(new URL(entry.path, ctx.baseUrl).href, entry, {
    cache: ctx.cache,
    signal: ctx.signal,
    open: openerOf(ctx),
    onProgress: (p) => ctx.onProgress?.({ kind: 'download', ...p }),
    onVerify: (file) => ctx.onProgress?.({ kind: 'verify', file }),
  });
}

/** The weights file's bytes (started, not awaited, so the graphs download alongside) and the files that carry them:
 * the int8 file and its layout when the manifest has an int8 download for this file, else the file itself. */
async function loadWeights(manifest: Manifest, weightsPath: string, fetchEntry: (e: ModelFileEntry) => Promise<Uint8Array>): Promise<[Promise<Uint8Array | Blob>, ModelFileEntry[]]> {
  const int8 = int8FilesOf(manifest);
  if (int8) {
    const layoutEntry = fileEntry(manifest, int8.layout);
    const layoutBytes = await fetchEntry(layoutEntry);
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(layoutBytes)) as unknown;
    } catch (error) {
      throw new EngineError('model-corrupt', `${int8.layout}: not valid JSON (${describeError(error)})`, undefined, { cause: error });
    }
    const layout = validateInt8Layout(json, manifest, int8.layout);
    if (layout.targets[weightsPath]) {
      const blobEntry = fileEntry(manifest, int8.file);
      return [fetchEntry(blobEntry).then((blob) => rebuildWeightsOffMainThread(blob, layout, weightsPath)), [layoutEntry, blobEntry]];
    }
  }
  const entry = fileEntry(manifest, weightsPath);
  return [fetchEntry(entry), [entry]];
}

/** The manifest's default head; verified against `files` when listed there. */
export async function loadDefaultHead(manifest: Manifest, ctx: LoaderContext): Promise<Head> {
  const path = manifest.default_head;
  const url = new URL(path, ctx.baseUrl).href;
  const listed = manifest.files.find((f) => f.path === path);
  let json: unknown;
  if (listed) {
    const bytes = await fetchVerified(url, listed, { cache: ctx.cache, signal: ctx.signal, open: openerOf(ctx) });
    try {
      json = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    } catch (error) {
      throw new EngineError('head-invalid', `${path}: not valid JSON (${describeError(error)})`, undefined, { cause: error });
    }
  } else {
    json = await fetchJson(url, path, ctx.signal, ctx.cache, openerOf(ctx));
  }
  // Parsing (~0.5 MB of JSON), checking the head (its statistics, the covariance factored) and what the caller does
  // next (start the runtime) are separate main-thread tasks: on a slow phone each is tens of milliseconds, together
  // a long task that delays any tap.
  await nextTask();
  const head = validateHead(json, manifest, path);
  await nextTask();
  return head;
}
