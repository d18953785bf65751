// History export, streamed: entries are read from the database in batches and written into Blob parts as
// they go (the browser keeps Blob data outside the JS heap), so 10,000 entries never sit in memory at once.
//  - CSV for spreadsheets: one row per diagnosis, no images.
//  - JSON (format 'leaf-lens-history', version 2): one entry per line, photos inline as data URLs unless left
//    out; the importer reads it line by line.
//  - ZIP (fflate): the same JSON without inline photos plus photos/<id>.jpg, for big histories.
import { bytesToBase64 } from './dataUrl';
import type { HistoryBatchItem, HistoryRepository, HistoryRow } from './types';

export const EXPORT_FORMAT = 'leaf-lens-history';
export const EXPORT_VERSION = 2;

export const CSV_COLUMNS = [
  'id', 'created_at', 'top_class', 'top_probability', 'outcome', 'field', 'group_id', 'explained_class', 'method', 'model',
  'model_version', 'model_trained', 'model_val_accuracy', 'probabilities', 'note', 'latitude', 'longitude',
  'location_accuracy_m',
] as const;

/** RFC 4180 quoting: wrap in quotes when needed and double any quote inside. */
export function csvField(value: string | number | boolean | undefined): string {
  if (value === undefined) return '';
  const text = String(value);
  // A leading = + - @ would be run as a formula by spreadsheets; a leading apostrophe keeps it text.
  const safe = /^[=+\-@\t\r]/.test(text) && typeof value === 'string' ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function csvHeader(): string {
  return `${CSV_COLUMNS.join(',')}\r\n`;
}

export function csvRow(e: HistoryRow): string {
  const probabilities = e.labels.map((label, i) => `${label}=${(e.probabilities[i] ?? 0).toFixed(4)}`).join(';');
  return [
    e.id, e.createdAt, e.labels[e.top], (e.probabilities[e.top] ?? 0).toFixed(4), e.outcome, e.field, e.groupId,
    e.labels[e.explainedClass], e.method, e.modelName, e.modelVersion, e.modelTrained, e.modelValAccuracy?.toFixed(4),
    probabilities, e.note, e.location?.latitude, e.location?.longitude, e.location?.accuracy,
  ].map(csvField).join(',') + '\r\n';
}

export function jsonHeader(exportedAt: Date, photos: 'inline' | 'files' | 'none'): string {
  return `{"format":"${EXPORT_FORMAT}","version":${EXPORT_VERSION},"exportedAt":"${exportedAt.toISOString()}","photos":"${photos}","entries":[\n`;
}
export const JSON_FOOTER = '\n]}\n';

/** One entry on one line (the importer relies on it for line-by-line reading). */
export function jsonLine(entry: object, first: boolean): string {
  return `${first ? '' : ',\n'}${JSON.stringify(entry)}`;
}

/** Collects text and bytes into Blob parts of a few MB, so the JS heap holds at most one part. */
export class BlobSink {
  private parts: Blob[] = [];
  private pending: (string | Uint8Array)[] = [];
  private pendingBytes = 0;
  constructor(private readonly partBytes = 4 << 20) {}
  write(chunk: string | Uint8Array): void {
    this.pending.push(chunk);
    this.pendingBytes += typeof chunk === 'string' ? chunk.length : chunk.byteLength;
    if (this.pendingBytes >= this.partBytes) this.flush();
  }
  private flush(): void {
    if (this.pending.length === 0) return;
    this.parts.push(new Blob(this.pending as BlobPart[]));
    this.pending = [];
    this.pendingBytes = 0;
  }
  finish(type: string): Blob {
    this.flush();
    return new Blob(this.parts, { type });
  }
}

/** What the exporters read: the database's batch walk (or a fake). */
export type ExportSource = Pick<HistoryRepository, 'forEachBatch'>;

export type ExportKind = 'csv' | 'json' | 'zip';

export interface ExportResult {
  blob: Blob;
  count: number;
  fileName: string;
}

function photoExtension(type: string): string {
  return type === 'image/png' ? 'png' : type === 'image/webp' ? 'webp' : 'jpg';
}

async function photoDataUrl(item: HistoryBatchItem): Promise<string> {
  if (item.photo) return `data:${item.photo.type || 'image/jpeg'};base64,${bytesToBase64(new Uint8Array(await item.photo.arrayBuffer()))}`;
  return item.legacyPhoto ?? '';
}

export async function exportHistory(source: ExportSource, kind: ExportKind, now = new Date()): Promise<ExportResult> {
  const stamp = now.toISOString().slice(0, 10);
  if (kind === 'csv') {
    const sink = new BlobSink();
    sink.write(csvHeader());
    const count = await source.forEachBatch((batch) => { for (const { row } of batch) sink.write(csvRow(row)); }, { photos: false });
    return { blob: sink.finish('text/csv'), count, fileName: `leaf-lens-history-${stamp}.csv` };
  }
  if (kind === 'json') {
    const withPhotos = true;
    const sink = new BlobSink();
    sink.write(jsonHeader(now, withPhotos ? 'inline' : 'none'));
    let first = true;
    const count = await source.forEachBatch(async (batch) => {
      for (const item of batch) {
        const entry = withPhotos ? { ...item.row, thumbnail: await photoDataUrl(item) } : item.row;
        sink.write(jsonLine(entry, first));
        first = false;
      }
    }, { photos: withPhotos });
    sink.write(JSON_FOOTER);
    return { blob: sink.finish('application/json'), count, fileName: `leaf-lens-history-${stamp}.json` };
  }
  return exportZip(source, now, stamp);
}

/** Photos first (each a stored, uncompressed file that ends at once, so fflate never queues output), the
 * entries' JSON (kept as a Blob meanwhile) last. */
async function exportZip(source: ExportSource, now: Date, stamp: string): Promise<ExportResult> {
  const out = new BlobSink();
  let failure: Error | null = null;
  let finished!: () => void;
  const done = new Promise<void>((resolve) => { finished = resolve; });
  // fflate only when a ZIP is exported: it stays out of the app's first download.
  const { Zip, ZipDeflate, ZipPassThrough } = await import('fflate');
  const zip = new Zip((error, chunk, final) => {
    if (error) failure = error;
    else out.write(chunk);
    if (final || error) finished();
  });
  const json = new BlobSink();
  json.write(jsonHeader(now, 'files'));
  let first = true;
  const count = await source.forEachBatch(async (batch) => {
    for (const item of batch) {
      let photoFile: string | undefined;
      const photo = item.photo;
      if (photo) {
        photoFile = `photos/${item.row.id}.${photoExtension(photo.type)}`;
        const file = new ZipPassThrough(photoFile);
        zip.add(file);
        file.push(new Uint8Array(await photo.arrayBuffer()), true);
      }
      const entry = photoFile ? { ...item.row, photoFile } : item.legacyPhoto ? { ...item.row, thumbnail: item.legacyPhoto } : item.row;
      json.write(jsonLine(entry, first));
      first = false;
    }
  });
  json.write(JSON_FOOTER);
  const jsonFile = new ZipDeflate('history.json', { level: 6 });
  zip.add(jsonFile);
  const reader = json.finish('application/json').stream().getReader();
  for (;;) {
    const { value, done: end } = await reader.read();
    if (end) break;
    jsonFile.push(value, false);
  }
  jsonFile.push(new Uint8Array(0), true);
  zip.end();
  await done;
  if (failure) throw failure;
  return { blob: out.finish('application/zip'), count, fileName: `leaf-lens-history-${stamp}.zip` };
}
