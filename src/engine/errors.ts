// One error type for everything the engine refuses. `message` is for the farmer (plain words, what to do);
// `detail` is for developers (file names, shapes, the underlying exception).
import type { EngineErrorCode } from './types';

const DEFAULT_MESSAGES: Record<EngineErrorCode, string> = {
  'model-missing': 'The diagnosis model is not on this device yet. Connect to the internet once to download it, or ask whoever set up the app.',
  'model-corrupt': 'The diagnosis model is damaged. Delete the app data and download the model again.',
  'model-checksum': 'The diagnosis model did not download correctly. Please download it again.',
  'model-contract': 'This diagnosis model does not fit this version of the app. Update the app or use the model that came with it.',
  'head-invalid': 'This classifier file is not valid. Use a head.json made by the Leaf Lens training pipeline.',
  'head-mismatch': 'This classifier was trained for a different model and cannot be used with this one.',
  'head-corrupt': 'This classifier file is damaged: it is not readable JSON. Ask for the file again.',
  'head-not-finite': 'This classifier file is damaged: some of its numbers are missing or not numbers (NaN).',
  'head-too-many-classes': 'This classifier has more classes than the app can show.',
  'head-no-statistics': 'This classifier has no feature statistics, so the app cannot teach it new classes on the phone.',
  'image-empty': 'The photo file is empty. Take the photo again.',
  'image-undecodable': 'This photo could not be opened. It may be damaged. Take the photo again.',
  'image-unsupported-format': 'This file is not a photo the app can read. Use a JPEG or PNG photo.',
  'image-too-small': 'The photo is too small to diagnose. Take a closer photo of one leaf.',
  'image-too-large': 'The photo is too large for this device. Take a photo with a lower resolution.',
  'backend-unavailable': 'This device cannot run the diagnosis model.',
  'device-lost': 'The graphics processor stopped working. The app is restarting it; please try again.',
  'out-of-memory': 'The device ran out of memory. Close other apps and try again.',
  aborted: 'Cancelled.',
  internal: 'Something went wrong inside the app. Please try again.',
};

export class EngineError extends Error {
  override readonly name = 'EngineError';
  readonly code: EngineErrorCode;
  /** Technical detail for developers and logs; never shown as the main message. */
  readonly detail: string;

  constructor(code: EngineErrorCode, detail: string, message?: string, options?: { cause?: unknown }) {
    super(message ?? DEFAULT_MESSAGES[code], options);
    this.code = code;
    this.detail = detail;
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
