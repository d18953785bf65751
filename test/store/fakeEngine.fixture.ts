// A test fixture: a fake Engine (no ORT, no GPU) whose answers are computed from its inputs, so store
// tests can check what the store does with them. Counts calls so tests can assert what was re-run.
import type {
  BackendName, Diagnosis, Engine, GroupResult, EngineOptions, ExplainOptions, Heatmap, ModelInfo, PhotoEmbedding, PhotoHandle, PhotoQualityIssue,
} from '../../src/engine/types';
import { decideOutcome } from '../../src/engine/model/domain';
import { combineLeaves, groupRuleOf } from '../../src/engine/model/group';

export class FakeEngineError extends Error {
  override readonly name = 'EngineError';
  constructor(readonly code: string, readonly detail: string) { super(`fake ${code}`); }
}

export const FAKE_LABELS = ['angular_leaf_spot', 'bean_rust', 'healthy'];

export function fakeModelInfo(overrides: Partial<ModelInfo> = {}): ModelInfo {
  return {
    name: 'fixture-fake', title: 'Fake model (test fixture)', version: '0.0.1', architecture: 'deit_custom',
    trained: false, imageSize: 224, patchSize: 16, gridSize: 14, layers: 4, heads: 3, tokens: 197, prefixTokens: 1,
    labels: FAKE_LABELS, methods: ['relevance', 'rollout', 'attention'], usesFp16: false, totalBytes: 1000,
    backbone: { name: 'fixture-fake', sha256: 'f'.repeat(64), features: 192 }, taught: [], localExamples: 0, canTeach: false, domainCheck: false,
    ...overrides,
  };
}

export interface FakeEngineControl {
  engine: FakeEngine;
  options: EngineOptions;
  baseUrl: string;
}

/** Probabilities depend on the photo's width so different photos give different answers. */
export function fakeProbabilities(width: number, labels: number): Float32Array {
  const logits = Array.from({ length: labels }, (_, i) => Math.cos(width * 0.37 + i * 2.1) * 3);
  const max = Math.max(...logits);
  const exps = logits.map((l) => Math.exp(l - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return Float32Array.from(exps.map((e) => e / sum));
}

export class FakeEngine implements Engine {
  backend: BackendName = 'wasm';
  model: ModelInfo;
  loadPhotoCalls = 0;
  diagnoseCalls: ExplainOptions[] = [];
  disposed = false;
  closedPhotos = 0;
  /** When set, loadPhoto rejects with this code. */
  failPhotoWith: string | null = null;
  /** Delay (ms) of each diagnose, to test races. */
  diagnoseDelay = 0;
  /** Photo-quality issues every diagnosis reports. */
  qualityIssues: PhotoQualityIssue[] = [];
  private nextId = 1;

  constructor(model: ModelInfo = fakeModelInfo()) { this.model = model; }

  async loadPhoto(source: Blob): Promise<PhotoHandle> {
    this.loadPhotoCalls++;
    if (this.failPhotoWith) throw new FakeEngineError(this.failPhotoWith, 'fake decode failure');
    if (source.size === 0) throw new FakeEngineError('image-empty', 'zero bytes');
    const width = source.size;
    const onClose = () => { this.closedPhotos++; };
    return {
      id: this.nextId++, width, height: width, bitmap: {} as ImageBitmap, decodeMs: 1,
      close: onClose,
    };
  }

  async diagnose(photo: PhotoHandle, options: ExplainOptions): Promise<Diagnosis> {
    this.diagnoseCalls.push(options);
    if (this.diagnoseDelay) await new Promise((r) => setTimeout(r, this.diagnoseDelay));
    const probabilities = fakeProbabilities(photo.width, this.model.labels.length);
    let top = 0;
    probabilities.forEach((p, i) => { if (p > (probabilities[top] ?? 0)) top = i; });
    const g = this.model.gridSize;
    const values = Float32Array.from({ length: g * g }, (_, i) => ((i * 7 + photo.id + options.method.length) % 11) / 10);
    const heatmap: Heatmap = { gridSize: g, values, min: 0, max: 1, draw: async () => 0 };
    return {
      labels: this.model.labels, probabilities, top, explainedClass: options.targetClass ?? top,
      logits: Float32Array.from(probabilities, (p) => Math.log(p)), features: new Float32Array(192).fill(photo.width / 1000),
      // A fake without statistics: the domain is unchecked, the outcome follows the engine's rule.
      outcome: decideOutcome({ probabilities, inDomain: true, qualityIssues: this.qualityIssues.length }), domain: { checked: false },
      options: {
        method: options.method, targetClass: options.targetClass ?? top,
        startLayer: options.startLayer ?? (options.method === 'lrp' ? 1 : 0),
        headFusion: options.headFusion ?? 'mean', discardRatio: options.discardRatio ?? 0,
      },
      heatmap, backend: this.backend,
      timings: { decodeMs: 0, preprocessMs: 0, modelMs: 0, kernelsMs: 0, drawMs: 0, totalMs: 0 },
      quality: { issues: [...this.qualityIssues], brightLuma: 0.7, clippedShare: 0, sharpness: 0.3, leafShare: 0.6 },
    };
  }

  /** The engine's own combination maths, with the default rule (the fake head has no confidence threshold). */
  combineLeaves(leaves: readonly Diagnosis[]): GroupResult {
    return combineLeaves(leaves, groupRuleOf(undefined));
  }

  embedCalls = 0;
  /** When set, embed reports this open-set verdict (score above threshold: not-bean-leaf), as a head with statistics. */
  domainVerdict?: { score: number; threshold: number; teachThreshold: number };

  /** Features depend on the photo's width (a 192-d ramp), probabilities as in diagnose. */
  async embed(photo: PhotoHandle): Promise<PhotoEmbedding> {
    this.embedCalls++;
    const probabilities = fakeProbabilities(photo.width, this.model.labels.length);
    let top = 0;
    probabilities.forEach((p, i) => { if (p > (probabilities[top] ?? 0)) top = i; });
    const features = Float32Array.from({ length: 192 }, (_, i) => Math.sin(photo.width * 0.01 + i * 0.1));
    return {
      labels: this.model.labels, features, logits: probabilities.map(Math.log), probabilities, top,
      ...(this.domainVerdict
        ? { outcome: this.domainVerdict.score <= this.domainVerdict.threshold ? 'sure' as const : 'not-bean-leaf' as const,
          domain: { checked: true as const, ...this.domainVerdict, inDomain: this.domainVerdict.score <= this.domainVerdict.threshold } }
        : { outcome: 'sure' as const, domain: { checked: false as const } }),
      quality: { issues: [...this.qualityIssues], brightLuma: 0.7, clippedShare: 0, sharpness: 0.3, leafShare: 0.6 },
      backend: this.backend, preprocessMs: 0, modelMs: 0,
    };
  }

  headJson(_which: 'active' | 'shipped' = 'active'): Record<string, unknown> {
    return { labels: this.model.labels, features: 192 };
  }

  async setHead(head: unknown): Promise<ModelInfo> {
    const h = head as { labels?: unknown; features?: unknown };
    if (!Array.isArray(h.labels) || h.labels.length < 2) throw new FakeEngineError('head-invalid', 'labels');
    if (h.features !== 192) throw new FakeEngineError('head-mismatch', 'features');
    this.model = { ...this.model, labels: h.labels as string[] };
    return this.model;
  }

  dispose(): void { this.disposed = true; }
}
