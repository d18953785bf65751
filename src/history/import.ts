// History import: a JSON export (version 2, one entry per line, read as a stream; version 1 and any other
// layout parsed whole) or a ZIP export (history.json + photos/). Every entry is checked; a bad entry is skipped
// and reported, a file that is not a history export is refused before anything is written. Entries already in
// the history (same time, model and answer) are counted as duplicates and left alone: nothing is overwritten.
import { EXPORT_FORMAT } from './export';
import { normaliseFieldName } from './fieldName';
import { HISTORY_OUTCOMES, type HistoryEntry, type HistoryOutcome, type ImportReport } from './types';

/** Why a whole file was refused (shown translated: `history.importErrors.<code>`). */
export class HistoryImportError extends Error {
  constructor(readonly code: 'not-json' | 'not-history' | 'newer-version' | 'too-large' | 'empty' | 'bad-zip', detail: string) {
    super(detail);
    this.name = 'HistoryImportError';
  }
}

const METHODS = ['relevance', 'rollout', 'attention', 'lrp'];
const FUSIONS = ['mean', 'max', 'min'];
const NOTE_MAX_LENGTH = 500;

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isInt = (v: unknown): v is number => Number.isInteger(v);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A checked entry, or the reason it cannot be one. `photos` resolves a ZIP export's photo files. */
export function parseEntry(raw: unknown, photos?: ReadonlyMap<string, Blob>): { entry: HistoryEntry; photo?: Blob } | { problem: string } {
  if (!isObject(raw)) return { problem: 'not an object' };
  const e = raw;
  if (typeof e.createdAt !== 'string' || Number.isNaN(Date.parse(e.createdAt))) return { problem: 'no valid createdAt date' };
  if (!Array.isArray(e.labels) || e.labels.length === 0 || !e.labels.every((l) => typeof l === 'string' && l.length > 0)) {
    return { problem: 'no class labels' };
  }
  const labels = e.labels as string[];
  if (!Array.isArray(e.probabilities) || e.probabilities.length !== labels.length || !e.probabilities.every(isNumber)) {
    return { problem: 'probabilities do not match the labels' };
  }
  if (!isInt(e.top) || e.top < 0 || e.top >= labels.length) return { problem: 'top class out of range' };
  const explainedClass = e.explainedClass === undefined ? e.top : e.explainedClass;
  if (!isInt(explainedClass) || explainedClass < 0 || explainedClass >= labels.length) return { problem: 'explained class out of range' };
  const h = e.heatmap;
  if (!isObject(h) || !isInt(h.gridSize) || h.gridSize <= 0 || h.gridSize > 64 || !Array.isArray(h.values)
    || h.values.length !== h.gridSize * h.gridSize || !h.values.every(isNumber) || !isNumber(h.min) || !isNumber(h.max)) {
    return { problem: 'heatmap is missing or malformed' };
  }
  if (typeof e.modelName !== 'string' || typeof e.modelVersion !== 'string' || typeof e.modelTrained !== 'boolean') {
    return { problem: 'model name, version or trained flag missing' };
  }
  if (typeof e.method !== 'string' || !METHODS.includes(e.method)) return { problem: `unknown explanation method ${String(e.method)}` };
  let thumbnail = '';
  let photo: Blob | undefined;
  if (typeof e.thumbnail === 'string' && e.thumbnail !== '') {
    if (!/^data:image\/[a-z+.-]+(;[^,]*)?,/i.test(e.thumbnail)) return { problem: 'photo is not an image data URL' };
    thumbnail = e.thumbnail;
  } else if (typeof e.photoFile === 'string' && photos) {
    photo = photos.get(e.photoFile);
    if (!photo) return { problem: `photo ${e.photoFile} missing from the ZIP` };
  }
  const entry: HistoryEntry = {
    createdAt: new Date(e.createdAt).toISOString(),
    thumbnail,
    modelName: e.modelName,
    modelVersion: e.modelVersion,
    modelTrained: e.modelTrained,
    labels: [...labels],
    probabilities: [...(e.probabilities as number[])],
    top: e.top,
    explainedClass,
    method: e.method as HistoryEntry['method'],
    startLayer: isInt(e.startLayer) ? e.startLayer : 0,
    headFusion: (typeof e.headFusion === 'string' && FUSIONS.includes(e.headFusion) ? e.headFusion : 'mean') as HistoryEntry['headFusion'],
    discardRatio: isNumber(e.discardRatio) ? e.discardRatio : 0,
    heatmap: { gridSize: h.gridSize, values: [...(h.values as number[])], min: h.min, max: h.max },
  };
  if (isNumber(e.modelValAccuracy)) entry.modelValAccuracy = e.modelValAccuracy;
  if (typeof e.note === 'string' && e.note.trim()) entry.note = e.note.trim().slice(0, NOTE_MAX_LENGTH);
  if (isObject(e.location) && isNumber(e.location.latitude) && isNumber(e.location.longitude)) {
    entry.location = { latitude: e.location.latitude, longitude: e.location.longitude, accuracy: isNumber(e.location.accuracy) ? e.location.accuracy : 0 };
  }
  if (e.outcome !== undefined) {
    if (!HISTORY_OUTCOMES.includes(e.outcome as HistoryOutcome)) return { problem: `unknown outcome ${String(e.outcome)}` };
    entry.outcome = e.outcome as HistoryOutcome;
  }
  const field = normaliseFieldName(e.field);
  if (field) entry.field = field;
  if (typeof e.groupId === 'string' && e.groupId) entry.groupId = e.groupId;
  if (isObject(e.group) && isInt(e.group.leafCount)) entry.group = { ...e.group, leafCount: e.group.leafCount, refused: isInt(e.group.refused) ? e.group.refused : 0 };
  return photo ? { entry, photo } : { entry };
}

function checkHeader(header: Record<string, unknown>): void {
  if (header.format !== EXPORT_FORMAT) throw new HistoryImportError('not-history', `format is ${String(header.format)}`);
  if (header.version !== 1 && header.version !== 2) {
    throw new HistoryImportError(isNumber(header.version) && header.version > 2 ? 'newer-version' : 'not-history', `version ${String(header.version)}`);
  }
}

/** Where checked entries go (the database's addMissing), in batches. */
export type ImportSink = (entries: { entry: HistoryEntry; photo?: Blob }[]) => Promise<{ added: number; duplicates: number }>;

class Tally {
  report: ImportReport = { added: 0, duplicates: 0, skipped: 0, problems: [] };
  private batch: { entry: HistoryEntry; photo?: Blob }[] = [];
  private seen = 0;
  constructor(private readonly sink: ImportSink, private readonly photos?: ReadonlyMap<string, Blob>) {}
  async take(raw: unknown): Promise<void> {
    this.seen++;
    const parsed = parseEntry(raw, this.photos);
    if ('problem' in parsed) {
      this.report.skipped++;
      if (this.report.problems.length < 5) this.report.problems.push(`#${this.seen}: ${parsed.problem}`);
      return;
    }
    this.batch.push(parsed);
    if (this.batch.length >= 200) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.batch.length === 0) return;
    const { added, duplicates } = await this.sink(this.batch);
    this.report.added += added;
    this.report.duplicates += duplicates;
    this.batch = [];
  }
  get count(): number { return this.seen; }
}

const STREAMED_HEADER = /^\{"format":"leaf-lens-history","version":2,[^\n]*"entries":\[$/;

/** Lines of a text stream, without their line ends. */
async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let rest = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) { rest += decoder.decode(); break; }
    rest += decoder.decode(value, { stream: true });
    let at: number;
    while ((at = rest.indexOf('\n')) >= 0) {
      yield rest.slice(0, at).replace(/\r$/, '');
      rest = rest.slice(at + 1);
    }
  }
  if (rest) yield rest;
}

const WHOLE_FILE_LIMIT = 400 * 1024 * 1024;

async function importJsonText(file: Blob, tally: Tally): Promise<void> {
  const head = await file.slice(0, 4096).text();
  const firstLine = head.split('\n', 1)[0] ?? '';
  if (STREAMED_HEADER.test(firstLine)) {
    let index = 0;
    for await (const line of lines(file.stream())) {
      if (index++ === 0) {
        checkHeader(JSON.parse(`${line}]}`) as Record<string, unknown>);
        continue;
      }
      const text = line.replace(/,$/, '').trim();
      if (text === '' || text === ']}') continue;
      let raw: unknown;
      try { raw = JSON.parse(text); } catch { raw = undefined; }
      await tally.take(raw);
    }
    return;
  }
  // Version 1 files (pretty-printed by earlier builds) and anything else: parsed in one piece.
  if (file.size > WHOLE_FILE_LIMIT) throw new HistoryImportError('too-large', `${file.size} bytes`);
  if (!/^\s*\{/.test(head)) throw new HistoryImportError(head.trim() === '' ? 'empty' : 'not-json', 'does not start with {');
  let data: unknown;
  try { data = JSON.parse(await file.text()); } catch (error) {
    throw new HistoryImportError(error instanceof RangeError ? 'too-large' : 'not-json', String(error));
  }
  if (!isObject(data)) throw new HistoryImportError('not-history', 'not an object');
  checkHeader(data);
  if (!Array.isArray(data.entries)) throw new HistoryImportError('not-history', 'no entries list');
  for (const raw of data.entries) await tally.take(raw);
}

/** A ZIP export: photos kept as Blobs (outside the JS heap) until history.json, which comes last, is read. */
async function importZip(file: Blob, sink: ImportSink): Promise<ImportReport> {
  const photos = new Map<string, Blob>();
  let json: Blob | null = null;
  const pending: Promise<void>[] = [];
  let files = 0;
  // fflate only when a ZIP is imported: it stays out of the app's first download.
  const { Unzip, UnzipInflate, UnzipPassThrough } = await import('fflate');
  const unzip = new Unzip((stream) => {
    files++;
    const chunks: Uint8Array[] = [];
    pending.push(new Promise<void>((resolve, reject) => {
      stream.ondata = (error, chunk, final) => {
        if (error) { reject(error); return; }
        chunks.push(chunk);
        if (!final) return;
        const blob = new Blob(chunks as BlobPart[], { type: stream.name.endsWith('.json') ? 'application/json' : stream.name.endsWith('.png') ? 'image/png' : 'image/jpeg' });
        if (stream.name === 'history.json') json = blob;
        else if (stream.name.startsWith('photos/')) photos.set(stream.name, blob);
        resolve();
      };
    }));
    stream.start();
  });
  unzip.register(UnzipInflate);
  unzip.register(UnzipPassThrough);
  const reader = file.stream().getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) { unzip.push(new Uint8Array(0), true); break; }
      unzip.push(value, false);
    }
    await Promise.all(pending);
  } catch (error) {
    throw new HistoryImportError('bad-zip', String(error));
  }
  if (files === 0) throw new HistoryImportError('bad-zip', 'no complete file in the ZIP');
  if (!json) throw new HistoryImportError('not-history', 'no history.json in the ZIP');
  const tally = new Tally(sink, photos);
  await importJsonText(json, tally);
  await tally.flush();
  if (tally.count === 0) throw new HistoryImportError('empty', 'no entries');
  return tally.report;
}

export async function importHistoryFile(file: Blob, sink: ImportSink): Promise<ImportReport> {
  if (file.size === 0) throw new HistoryImportError('empty', 'empty file');
  const magic = new Uint8Array(await file.slice(0, 4).arrayBuffer());
  if (magic[0] === 0x50 && magic[1] === 0x4b && magic[2] === 3 && magic[3] === 4) return importZip(file, sink);
  const tally = new Tally(sink);
  await importJsonText(file, tally);
  await tally.flush();
  return tally.report;
}
