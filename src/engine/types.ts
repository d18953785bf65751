import type { GroupResult } from './model/group';
export type { GroupResult, GroupUnsureReason } from './model/group';

// The engine's public, typed API. The UI (and the store) import only from `src/engine/index.ts`,
// which re-exports these types and `createEngine`. Nothing here knows about React.

export type BackendName = 'webgpu' | 'wasm';
/** 'auto' = WebGPU on a real adapter, WASM when WebGPU is missing or the adapter is software. */
export type BackendPreference = BackendName | 'auto';

export type ExplainMethod = 'relevance' | 'rollout' | 'attention' | 'lrp';
export type HeadFusion = 'mean' | 'max' | 'min';
export type ColorMapName = 'jet' | 'viridis' | 'turbo';

export interface ExplainOptions {
  method: ExplainMethod;
  /** Class index (logit order) to explain; undefined = the top predicted class. */
  targetClass?: number;
  /** First block included (rollout, relevance, lrp). Defaults: rollout 0, relevance 0, lrp 1. */
  startLayer?: number;
  /** rollout and attention only. Default 'mean'. */
  headFusion?: HeadFusion;
  /** rollout only, in [0, 1). Default 0. */
  discardRatio?: number;
}

/** Model facts the UI shows (from manifest.json and head.json). */
export interface ModelInfo {
  name: string;
  title: string;
  version: string;
  architecture: string;
  trained: boolean;
  imageSize: number;
  patchSize: number;
  gridSize: number;
  layers: number;
  heads: number;
  tokens: number;
  prefixTokens: number;
  labels: string[];
  valAccuracy?: number;
  /** Methods this model supports ('lrp' only when the model has an lrp graph for the precision in use). */
  methods: ExplainMethod[];
  usesFp16: boolean;
  totalBytes: number;
  /** The active head has feature statistics and an open-set rule: photos can be refused as not bean leaves. */
  domainCheck: boolean;
  /** What a head must fit (a shared head file names these). */
  backbone: { name: string; sha256: string; features: number };
  /** The active head's name (taught or imported heads), undefined for the model's own head. */
  headName?: string;
  /** Classes of the active head taught on a phone, with the teacher's own note. */
  taught: { label: string; note: string; photos: number }[];
  /** Photos added to the active head on this phone by "This is actually …". */
  localExamples: number;
  /** The active head has feature statistics, so classes can be taught and results corrected. */
  canTeach: boolean;
}

export interface StageTimings {
  /** The photo's decode time, reported by its first diagnose only (0 afterwards: it is never decoded again). */
  decodeMs: number;
  /** Crop/resize to S×S; 0 when this photo was already preprocessed. */
  preprocessMs: number;
  /** Model run(s) this call needed; 0 when cached outputs were reused. */
  modelMs: number;
  kernelsMs: number;
  /** The last `heatmap.draw` of this diagnosis (0 until drawn; not part of totalMs). */
  drawMs: number;
  totalMs: number;
}

export interface DrawOptions {
  colorMap: ColorMapName;
  /** Heatmap opacity over the photo, 0..1. */
  opacity: number;
}

/** A computed explanation. `values` is the min–max normalised G×G patch map (row-major), always on the CPU
 * (196 floats) so the UI can show the value under a finger and history can store it. */
export interface Heatmap {
  readonly gridSize: number;
  readonly values: Float32Array;
  /** The raw (un-normalised) range, for display. */
  readonly min: number;
  readonly max: number;
  /** Draws photo + blended heatmap into `canvas` at the canvas's current size. */
  draw(canvas: HTMLCanvasElement | OffscreenCanvas, options: DrawOptions): Promise<number /* ms */>;
}

/** sure / unsure / not a bean leaf: the one answer the UI and history use (rule in src/engine/model/domain.ts). */
export type DiagnosisOutcome = 'sure' | 'unsure' | 'not-bean-leaf';

/** The open-set check behind `not-bean-leaf`: score > threshold means the photo does not look like the
 * photos the head was trained on. Unchecked when the head has no statistics. `teachThreshold` (≥ threshold) is the
 * limit for a photo offered to TEACH a class: a disease the head does not know is, by design, a little foreign to
 * it, so teaching refuses only what lies beyond the head's teach margin (docs/model-contract.md). */
export type DomainCheck =
  | { checked: true; score: number; threshold: number; teachThreshold: number; inDomain: boolean }
  | { checked: false };

export type PhotoQualityIssue = 'too-dark' | 'overexposed' | 'blurred' | 'leaf-too-small';
/** Measured on the model's input (src/engine/image/quality.ts); each issue has its own retake advice. */
export interface PhotoQuality {
  issues: PhotoQualityIssue[];
  /** 95th percentile of luma, 0..1 (too dark when low). */
  brightLuma: number;
  /** Share of pixels with a channel at full scale (blown out when high). */
  clippedShare: number;
  /** var(Laplacian of luma) / var(luma) (blurred when low). */
  sharpness: number;
  /** Share of leaf-green pixels (leaf too small in the frame when low). */
  leafShare: number;
}

export interface Diagnosis {
  labels: string[];
  /** Calibrated probabilities, softmax(logits / T), logit order (T = 1 when the head has no calibration). */
  probabilities: Float32Array;
  /** The head's raw logits (a several-leaf answer averages calibrated log-probabilities from these). */
  logits: Float32Array;
  /** The backbone's [F] features (teaching a class, corrections). */
  features: Float32Array;
  /** The graph's optional `layer_features` [2L·D] ("This is actually …" pools them into the head's layer statistics). */
  layerFeatures?: Float32Array;
  /** not-bean-leaf when out of domain; unsure below the head's confidence bar or with photo-quality issues. */
  outcome: DiagnosisOutcome;
  domain: DomainCheck;
  /** How good the photo is for judging; any issue makes a sure answer unsure. */
  quality: PhotoQuality;
  top: number;
  explainedClass: number;
  options: Required<ExplainOptions>;
  heatmap: Heatmap;
  backend: BackendName;
  timings: StageTimings;
}

/** A photo classified without an explanation (nothing drawn): what teaching a class and corrections need. */
export interface PhotoEmbedding {
  labels: string[];
  /** The backbone's raw [F] `features` output (not normalised). */
  features: Float32Array;
  /** The graph's optional `layer_features` [2L·D] (teaching adds them to the head's layer statistics). */
  layerFeatures?: Float32Array;
  logits: Float32Array;
  /** Calibrated, as in Diagnosis. */
  probabilities: Float32Array;
  top: number;
  /** As in Diagnosis: a photo refused as not a bean leaf is reported, never silently taught. */
  outcome: DiagnosisOutcome;
  domain: DomainCheck;
  /** Too dark, blurred, …: teaching leaves such photos out unless the user keeps them. */
  quality: PhotoQuality;
  backend: BackendName;
  preprocessMs: number;
  /** 0 when a cached run of this photo was reused. */
  modelMs: number;
}

/** A decoded photo kept by the engine so re-explaining never re-decodes. */
export interface PhotoHandle {
  readonly id: number;
  readonly width: number;
  readonly height: number;
  /** The upright (EXIF-applied), possibly downscaled bitmap shown to the user. */
  readonly bitmap: ImageBitmap;
  readonly decodeMs: number;
  close(): void;
}

export type LoadProgress =
  | { kind: 'manifest' }
  | { kind: 'download'; file: string; loaded: number; total: number; fromCache: boolean }
  | { kind: 'verify'; file: string }
  | { kind: 'session'; backend: BackendName }
  | { kind: 'ready' };

export type EngineStatus =
  | { kind: 'ready'; backend: BackendName }
  | { kind: 'recovering'; reason: string }
  | { kind: 'fell-back'; from: BackendName; to: BackendName; reason: string };

export interface EngineOptions {
  backend?: BackendPreference;
  onProgress?: (p: LoadProgress) => void;
  onStatus?: (s: EngineStatus) => void;
  signal?: AbortSignal;
  /** Cache for downloaded model files (Cache API by default; tests may pass an in-memory one). */
  cacheName?: string;
  /** Overrides the Cache API store, e.g. `memoryFileCache()` from the engine index (tests, private mode). */
  modelCache?: ModelFileCache;
  /** Serves the model folder's files instead of the network, e.g. a folder the user loaded from disk. */
  files?: ModelFileSource;
  /** The explanation method the first diagnosis will use (the app's remembered choice): the session of its graph is
   * the one opened and checked while the model loads, so the first diagnosis does not wait for another session to be
   * created. Default: the forward graph's. Other graphs' sessions open on their first use. */
  firstMethod?: ExplainMethod;
  /** Rebuilding the backend after a WebGPU device loss. */
  recovery?: {
    /** How long each rebuild (WebGPU: device + forward session; then, if that failed, WASM) may take before the
     * engine gives up on it: falls back to WASM (status 'fell-back'), or answers 'device-lost'; default 60 s
     * (REBUILD_TIMEOUT_MS in runtime.ts). */
    rebuildTimeoutMs?: number;
    /** Test seam: awaited in ORT's queue just before a WebGPU rebuild's forward session is created; a promise that
     * never settles stands for ORT's session creation that never returns. */
    beforeWebGpuSession?: () => Promise<void>;
  };
}

/** One file of a model folder by its path inside the folder ('manifest.json', 'deit_full.onnx', …).
 * Answers a Response (a non-2xx status is a missing file), the bytes, or undefined when the folder lacks the file.
 * Everything read from it is still checked against the manifest's sizes and sha256. */
export type ModelFileSource = (relativePath: string, signal?: AbortSignal) => Promise<Response | Blob | Uint8Array | undefined>;

/** Where verified model files are kept between visits; keys are absolute URLs plus the expected sha256. */
export interface ModelFileCache {
  match(key: string): Promise<Uint8Array | undefined>;
  put(key: string, bytes: Uint8Array): Promise<void>;
  delete(key: string): Promise<void>;
}

export interface Engine {
  readonly backend: BackendName;
  readonly model: ModelInfo;
  /** Decodes a File/Blob (EXIF-upright, downscaled if huge). Throws EngineError. */
  loadPhoto(source: Blob): Promise<PhotoHandle>;
  /** Classifies and explains; reuses cached model outputs for the same photo when possible. */
  diagnose(photo: PhotoHandle, options: ExplainOptions): Promise<Diagnosis>;
  /** One answer from several leaves' diagnoses (a field check), by the active head's sure threshold; see
   * src/engine/model/group.ts. Throws RangeError for 0 or more than MAX_GROUP_LEAVES leaves. */
  combineLeaves(leaves: readonly Diagnosis[]): GroupResult;
  /** The photo's features and classification under the active head, without explaining or drawing
   * (runs the forward graph only, and not at all when a run of this photo is cached). Throws EngineError. */
  embed(photo: PhotoHandle): Promise<PhotoEmbedding>;
  /** head.json of the active head, or of the model's own head (what setHead accepts; do not modify). */
  headJson(which: 'active' | 'shipped'): Record<string, unknown>;
  /** Swaps the classifier head (same backbone); validates it first. */
  setHead(head: unknown, sourceName?: string): Promise<ModelInfo>;
  dispose(): void;
}

/** Narrows some codes to a more precise sentence (i18n `errorReasons.<reason>`). */
export type EngineErrorReason = 'heif' | 'svg' | 'pdf' | 'text' | 'photo-closed' | 'no-webgpu-adapter' | 'method-unavailable' | 'gpu-stopped';

export type EngineErrorCode =
  | 'model-missing'
  | 'model-corrupt'
  | 'model-checksum'
  | 'model-contract'
  | 'head-invalid'
  | 'head-mismatch'
  | 'head-corrupt'
  | 'head-not-finite'
  | 'head-too-many-classes'
  | 'head-no-statistics'
  | 'image-empty'
  | 'image-undecodable'
  | 'image-unsupported-format'
  | 'image-too-small'
  | 'image-too-large'
  | 'backend-unavailable'
  | 'device-lost'
  | 'out-of-memory'
  | 'aborted'
  | 'internal';
