// History export: CSV for spreadsheets (one row per diagnosis, no images) and JSON with everything,
// thumbnails included as data URLs.
import type { HistoryEntry } from './types';

export const CSV_COLUMNS = [
  'id', 'created_at', 'top_class', 'top_probability', 'explained_class', 'method', 'model', 'model_version',
  'model_trained', 'model_val_accuracy', 'probabilities', 'note', 'latitude', 'longitude', 'location_accuracy_m',
] as const;

/** RFC 4180 quoting: wrap in quotes when needed and double any quote inside. */
export function csvField(value: string | number | boolean | undefined): string {
  if (value === undefined) return '';
  const text = String(value);
  // A leading = + - @ would be run as a formula by spreadsheets; a leading apostrophe keeps it text.
  const safe = /^[=+\-@\t\r]/.test(text) && typeof value === 'string' ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function historyToCsv(entries: readonly HistoryEntry[]): string {
  const rows = entries.map((e) => {
    const probabilities = e.labels.map((label, i) => `${label}=${(e.probabilities[i] ?? 0).toFixed(4)}`).join(';');
    return [
      e.id, e.createdAt, e.labels[e.top], (e.probabilities[e.top] ?? 0).toFixed(4), e.labels[e.explainedClass], e.method,
      e.modelName, e.modelVersion, e.modelTrained, e.modelValAccuracy?.toFixed(4), probabilities, e.note, e.location?.latitude, e.location?.longitude,
      e.location?.accuracy,
    ].map(csvField).join(',');
  });
  return [CSV_COLUMNS.join(','), ...rows].join('\r\n') + '\r\n';
}

export function historyToJson(entries: readonly HistoryEntry[], exportedAt = new Date()): string {
  return JSON.stringify({ format: 'leaf-lens-history', version: 1, exportedAt: exportedAt.toISOString(), entries }, null, 2);
}
