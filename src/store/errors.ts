// Errors as the UI shows them: a code (translated into a plain message) plus the technical detail,
// whatever layer they came from. The engine's EngineError is duck-typed so this file needs no engine import.

export interface UiError {
  /** An EngineErrorCode, or one of the app's own: 'storage-full', 'storage', 'load-file', 'unknown'. */
  code: string;
  /** A more precise cause some codes carry (the engine's EngineError.reason), translated when i18n has it. */
  reason?: string;
  /** The thrower's own human message (English), used when no translation exists for `code`. */
  message: string;
  /** Technical detail for developers, shown folded. */
  detail: string;
}

export function toUiError(error: unknown, fallbackCode = 'unknown'): UiError {
  if (isQuotaError(error)) {
    return { code: 'storage-full', message: 'The phone storage for this app is full.', detail: describe(error) };
  }
  if (error && typeof error === 'object' && 'code' in error && typeof (error as { code: unknown }).code === 'string') {
    const e = error as { code: string; reason?: unknown; message?: unknown; detail?: unknown };
    return {
      code: e.code,
      ...(typeof e.reason === 'string' ? { reason: e.reason } : {}),
      message: typeof e.message === 'string' ? e.message : '',
      detail: typeof e.detail === 'string' ? e.detail : describe(error),
    };
  }
  return { code: fallbackCode, message: error instanceof Error ? error.message : String(error), detail: describe(error) };
}

/** IndexedDB reports a full quota as QuotaExceededError (sometimes wrapped as a transaction's abort error). */
export function isQuotaError(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const name = (error as { name?: unknown }).name;
  if (name === 'QuotaExceededError') return true;
  const inner = (error as { cause?: unknown; inner?: unknown }).cause ?? (error as { inner?: unknown }).inner;
  return inner !== undefined && inner !== error && isQuotaError(inner);
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}${error.stack ? `\n${error.stack}` : ''}`;
  try { return JSON.stringify(error); } catch { return String(error); }
}
