// One error type for everything the engine refuses: a `code` (and sometimes a more precise `reason`) that the UI
// translates, and a `detail` for developers (file names, shapes, the underlying exception). The sentences live in
// i18n only; `message` is the English one from there, for logs and callers without translations.
import { en } from '../i18n/en';
import type { EngineErrorCode, EngineErrorReason } from './types';

export class EngineError extends Error {
  override readonly name = 'EngineError';
  readonly code: EngineErrorCode;
  /** Technical detail for developers and logs; never shown as the main message. */
  readonly detail: string;
  readonly reason?: EngineErrorReason;

  constructor(code: EngineErrorCode, detail: string, reason?: EngineErrorReason, options?: { cause?: unknown }) {
    super(reason ? en.errorReasons[reason] : en.errors[code], options);
    this.code = code;
    this.detail = detail;
    if (reason) this.reason = reason;
  }
}

export function isEngineError(value: unknown): value is EngineError {
  return value instanceof EngineError;
}

export function describeError(error: unknown): string {
  if (error instanceof EngineError) return `${error.code}: ${error.detail}`;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** Wraps anything thrown by a lower layer; EngineErrors pass through unchanged. */
export function toEngineError(error: unknown, code: EngineErrorCode, context: string): EngineError {
  if (error instanceof EngineError) return error;
  if (error instanceof DOMException && error.name === 'AbortError') {
    return new EngineError('aborted', `${context}: aborted`, undefined, { cause: error });
  }
  if (isOutOfMemory(error)) return new EngineError('out-of-memory', `${context}: ${describeError(error)}`, undefined, { cause: error });
  return new EngineError(code, `${context}: ${describeError(error)}`, undefined, { cause: error });
}

function isOutOfMemory(error: unknown): boolean {
  if (error instanceof RangeError) return /allocation|memory|array buffer/i.test(error.message);
  if (typeof GPUOutOfMemoryError !== 'undefined' && error instanceof GPUOutOfMemoryError) return true;
  return error instanceof Error && /out of memory|OOM|bad_alloc/i.test(error.message);
}

export function throwIfAborted(signal: AbortSignal | undefined, context: string): void {
  if (signal?.aborted) throw new EngineError('aborted', `${context}: aborted`);
}
