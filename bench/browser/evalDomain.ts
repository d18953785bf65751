// The domain eval, page side: the engine's public API as the app uses it (photo blob → loadPhoto → diagnose),
// one photo at a time. The runner (scripts/eval-domain.ts) aggregates; fitting happens in model/export.py.
import { createEngine, memoryFileCache, modelInput } from '../../src/engine/index';
import type { BackendName, DiagnosisOutcome, DomainCheck, Engine } from '../../src/engine/index';

export interface DomainRecord {
  logits: number[];
  features: number[];
  /** The graph's optional `layer_features` [2L·D], row-major (dumps for fitting; absent when the graph lacks it). */
  layerFeatures?: number[];
  /** Calibrated (the head's temperature). */
  probabilities: number[];
  outcome: DiagnosisOutcome;
  domain: DomainCheck;
}

export class DomainSession {
  private constructor(readonly engine: Engine) {}

  static async open(modelUrl: string, backend: BackendName): Promise<DomainSession> {
    const engine = await createEngine(modelUrl, { backend, modelCache: memoryFileCache() });
    if (engine.backend !== backend) throw new Error(`asked for ${backend}, the engine opened ${engine.backend}`);
    return new DomainSession(engine);
  }

  info(): { labels: string[]; domainCheck: boolean; backend: BackendName } {
    return { labels: this.engine.model.labels, domainCheck: this.engine.model.domainCheck, backend: this.engine.backend };
  }

  async photo(url: string): Promise<DomainRecord> {
    const blob = await (await fetch(url)).blob();
    const photo = await this.engine.loadPhoto(blob);
    try {
      // 'attention' runs only the forward graph: the cheapest diagnosis, with the same logits and features.
      const d = await this.engine.diagnose(photo, { method: 'attention' });
      return {
        logits: Array.from(d.logits),
        features: Array.from(d.features),
        probabilities: Array.from(d.probabilities),
        outcome: d.outcome,
        domain: d.domain,
      };
    } finally {
      photo.close();
    }
  }

  /** The model input the engine would feed for this photo (its loadPhoto bitmap, its preprocessing), as base64 of
   * the [3,S,S] bytes (values are k/255 exactly), so the runner can compute features with onnxruntime-node fast. */
  async pixels(url: string, size: number): Promise<string> {
    const blob = await (await fetch(url)).blob();
    const photo = await this.engine.loadPhoto(blob);
    try {
      const { pixels } = modelInput(photo.bitmap, size);
      const bytes = Uint8Array.from(pixels, (v) => Math.round(v * 255));
      let binary = '';
      for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return btoa(binary);
    } finally {
      photo.close();
    }
  }

  close(): void {
    this.engine.dispose();
  }
}
