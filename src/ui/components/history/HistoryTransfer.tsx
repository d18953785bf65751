// Keep it: export (CSV, JSON with photos, ZIP with photo files; streamed from the database) and import of a
// JSON or ZIP export through [data-testid=import-history]. Import only adds: duplicates are counted and
// left alone, a bad file is refused with a message saying what to do, and nothing is overwritten.
import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ExportKind } from '../../../history/export';
import { HistoryImportError } from '../../../history/import';
import type { ImportReport } from '../../../history/types';
import { exportHistoryFile, importHistory } from '../../../store/actions';
import { toUiError } from '../../../store/errors';
import { useAppStore } from '../../../store/index';
import { saveFile } from '../../saveFile';
import { takeFiles } from '../../fileInput';

type ImportState =
  | { kind: 'idle' }
  | { kind: 'busy' }
  | { kind: 'done'; report: ImportReport }
  | { kind: 'failed'; code: string; detail: string };

export function HistoryTransfer({ hasEntries }: { hasEntries: boolean }) {
  const { t } = useTranslation();
  const id = useId();
  const [exporting, setExporting] = useState<ExportKind | null>(null);
  const [exported, setExported] = useState<number | null>(null);
  const [imported, setImported] = useState<ImportState>({ kind: 'idle' });

  async function exportAs(kind: ExportKind) {
    setExporting(kind);
    setExported(null);
    try {
      const result = await exportHistoryFile(kind);
      saveFile(result.blob, result.fileName);
      setExported(result.count);
    } catch (error) {
      useAppStore.getState().setAppError(toUiError(error, 'storage'));
    } finally {
      setExporting(null);
    }
  }

  async function importFile(input: HTMLInputElement) {
    const [file] = takeFiles(input);
    if (!file) return;
    setImported({ kind: 'busy' });
    try {
      setImported({ kind: 'done', report: await importHistory(file) });
    } catch (error) {
      setImported(error instanceof HistoryImportError
        ? { kind: 'failed', code: error.code, detail: error.message }
        : { kind: 'failed', code: 'unknown', detail: String(error) });
    }
  }

  return (
    <div className="history-transfer">
      {hasEntries && (
        <div className="actions">
          <button type="button" className="button secondary small" data-testid="export-csv" disabled={exporting !== null} onClick={() => void exportAs('csv')}>
            {t('history.exportCsv')}
          </button>
          <button type="button" className="button secondary small" data-testid="export-json" disabled={exporting !== null} onClick={() => void exportAs('json')}>
            {t('history.exportJson')}
          </button>
          <button type="button" className="button secondary small" data-testid="export-zip" disabled={exporting !== null} onClick={() => void exportAs('zip')}>
            {t('history.exportZip')}
          </button>
        </div>
      )}
      <p className="hint" role="status" data-testid="export-status">
        {exporting ? t('history.exporting') : exported !== null ? t('history.exported', { count: exported }) : ''}
      </p>
      {/* The input precedes its label so the label (styled as a button) can show the hidden input's focus. */}
      <div className="file-pick">
        <input
          id={`${id}-import`} className="visually-hidden" type="file" data-testid="import-history"
          accept=".json,.zip,application/json,application/zip"
          disabled={imported.kind === 'busy'} onChange={(e) => void importFile(e.currentTarget)}
        />
        <label htmlFor={`${id}-import`} className="button secondary small file-button">{t('history.importLabel')}</label>
      </div>
      <div role="status" aria-live="polite">
        {imported.kind === 'busy' && <p className="hint">{t('history.importing')}</p>}
        {imported.kind === 'done' && (
          <p className="notice" data-testid="import-result" data-added={imported.report.added}
            data-duplicates={imported.report.duplicates} data-skipped={imported.report.skipped}>
            {t('history.importDone', { added: imported.report.added, duplicates: imported.report.duplicates })}
            {imported.report.skipped > 0 && <> {t('history.importSkipped', { count: imported.report.skipped, problems: imported.report.problems.join('; ') })}</>}
          </p>
        )}
      </div>
      {imported.kind === 'failed' && (
        <p className="error-text" role="alert" data-testid="import-error" data-code={imported.code} title={imported.detail}>
          {t(`history.importErrors.${imported.code}`, { defaultValue: t('history.importErrors.unknown') })}
        </p>
      )}
    </div>
  );
}
