// How much room the history takes on this phone, how much is left, and whether the browser promised to keep it.
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { HISTORY_STORAGE_KEY } from '../../setup';

interface StorageFacts { used: number | null; free: number | null; persisted: boolean | null }

async function readStorage(): Promise<StorageFacts> {
  const storage = typeof navigator !== 'undefined' ? navigator.storage : undefined;
  if (!storage?.estimate) return { used: null, free: null, persisted: null };
  const [estimate, persisted] = await Promise.all([storage.estimate(), storage.persisted?.().catch(() => null) ?? null]);
  // Chromium splits usage by kind; IndexedDB there is the history (settings are a few bytes). Elsewhere only
  // the whole site's usage is known, model files included: shown as such rather than guessed.
  const details = (estimate as StorageEstimate & { usageDetails?: { indexedDB?: number } }).usageDetails;
  const used = details?.indexedDB ?? estimate.usage ?? null;
  const free = estimate.quota !== undefined && estimate.usage !== undefined ? Math.max(0, estimate.quota - estimate.usage) : null;
  return { used, free, persisted };
}

export function formatBytes(bytes: number, language: string): string {
  const units = [['GB', 1e9], ['MB', 1e6], ['kB', 1e3]] as const;
  for (const [unit, size] of units) {
    if (bytes >= size) return `${new Intl.NumberFormat(language, { maximumFractionDigits: bytes >= 10 * size ? 0 : 1 }).format(bytes / size)} ${unit}`;
  }
  return `${new Intl.NumberFormat(language).format(bytes)} B`;
}

export function StorageInfo() {
  const { t, i18n } = useTranslation();
  const { data } = useQuery({ queryKey: HISTORY_STORAGE_KEY, queryFn: readStorage });
  if (!data || data.used === null) return null;
  const used = formatBytes(data.used, i18n.language);
  return (
    <p className="hint storage-info" data-testid="storage-info" data-persisted={String(data.persisted)}>
      {data.free !== null ? t('history.storageUsed', { used, free: formatBytes(data.free, i18n.language) }) : t('history.storageUsedOnly', { used })}
      {data.persisted !== null && <> {data.persisted ? t('history.storageKept') : t('history.storageNotKept')}</>}
    </p>
  );
}
