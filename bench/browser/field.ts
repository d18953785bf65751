// The field evaluations, page side: photo quality of clean and degraded copies (the engine's own decode,
// preprocess and quality code), and per-photo answers of the engine's public API for the group evaluation.
import { createEngine, decodePhoto, memoryFileCache, modelInput, type Engine } from '../../src/engine/index';
import { assessPhotoQuality } from '../../src/engine/image/quality';
import type { DiagnosisOutcome, PhotoQuality, PhotoQualityIssue } from '../../src/engine/index';
import { degrade, type Degradation, type Rgba } from '../lib/degrade';

/** The model's input size; quality is measured on it, as in the engine. */
const INPUT_SIZE = 224;

async function rgbaOf(bitmap: ImageBitmap): Promise<Rgba> {
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(bitmap, 0, 0);
  const data = ctx.getImageData(0, 0, bitmap.width, bitmap.height, { colorSpace: 'srgb' }).data;
  return { data, width: bitmap.width, height: bitmap.height };
}

function qualityOf(bitmap: ImageBitmap): PhotoQuality {
  return assessPhotoQuality(modelInput(bitmap, INPUT_SIZE).pixels, INPUT_SIZE);
}

export interface PhotoQualityResult {
  clean: PhotoQuality;
  degraded: Record<string, PhotoQualityIssue[]>;
}

export async function qualityOfPhoto(url: string, degradations: Degradation[], seed: number): Promise<PhotoQualityResult> {
  const decoded = await decodePhoto(await (await fetch(url)).blob());
  try {
    const clean = qualityOf(decoded.bitmap);
    const degraded: Record<string, PhotoQualityIssue[]> = {};
    if (degradations.length > 0) {
      const rgba = await rgbaOf(decoded.bitmap);
      for (const d of degradations) {
        const copy = degrade(rgba, d, seed);
        const bitmap = await createImageBitmap(new ImageData(new Uint8ClampedArray(copy.data), copy.width, copy.height));
        try {
          degraded[d.name] = qualityOf(bitmap).issues;
        } finally {
          bitmap.close();
        }
      }
    }
    return { clean, degraded };
  } finally {
    decoded.bitmap.close();
  }
}

/** The answer to one copy of a photo: its top class and the outcome. */
export interface CopyAnswer { top: number; outcome: DiagnosisOutcome }

export interface LeafAnswer {
  probabilities: number[];
  outcome: DiagnosisOutcome;
  qualityIssues: PhotoQualityIssue[];
}

/** The app's engine (public API), on WASM with an in-memory model cache. */
export class FieldSession {
  private constructor(readonly engine: Engine) {}

  static async open(modelUrl: string): Promise<FieldSession> {
    return new FieldSession(await createEngine(modelUrl, { backend: 'wasm', modelCache: memoryFileCache() }));
  }

  info(): { labels: string[]; domainCheck: boolean } {
    const model = this.engine.model as { labels: string[]; domainCheck?: boolean };
    return { labels: model.labels, domainCheck: model.domainCheck === true };
  }

  /** One photo judged alone, as the app does (the forward-only method: the answer does not depend on it). */
  async photo(url: string): Promise<LeafAnswer> {
    const { probabilities, outcome, qualityIssues } = await this.judge(await (await fetch(url)).blob());
    return { probabilities, outcome, qualityIssues };
  }

  /** The photo and each degraded copy of it (the same copies qualityOfPhoto measures, same seed), diagnosed as the
   * app does: does the model still answer right, and when it does not, does the app still say "sure"? */
  async degradedAnswers(url: string, degradations: Degradation[], seed: number): Promise<Record<string, CopyAnswer>> {
    const blob = await (await fetch(url)).blob();
    const answer = async (b: Blob): Promise<CopyAnswer> => { const { top, outcome } = await this.judge(b); return { top, outcome }; };
    const out: Record<string, CopyAnswer> = { clean: await answer(blob) };
    const decoded = await decodePhoto(blob);
    try {
      const rgba = await rgbaOf(decoded.bitmap);
      for (const d of degradations) {
        const copy = degrade(rgba, d, seed);
        const canvas = new OffscreenCanvas(copy.width, copy.height);
        canvas.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(copy.data), copy.width, copy.height), 0, 0);
        out[d.name] = await answer(await canvas.convertToBlob({ type: 'image/png' }));
      }
    } finally {
      decoded.bitmap.close();
    }
    return out;
  }

  /** One photo judged as the app does (the forward-only method: the answer does not depend on it). */
  private async judge(blob: Blob): Promise<LeafAnswer & CopyAnswer> {
    const photo = await this.engine.loadPhoto(blob);
    try {
      const d = await this.engine.diagnose(photo, { method: 'attention' });
      const outcome = (d as { outcome?: DiagnosisOutcome }).outcome;
      if (!outcome) throw new Error('the engine gives no outcome');
      return { probabilities: Array.from(d.probabilities), outcome, qualityIssues: d.quality.issues, top: d.top };
    } finally {
      photo.close();
    }
  }

  close(): void {
    this.engine.dispose();
  }
}
