// JSON shapes of the published results (docs/bench/*.json). Keys in snake_case are the tracked figures of issue 5.
import type { Summary } from './stats';

export type TimingSource = 'timestamp-query' | 'wall' | 'cpu';

export interface AdapterReport {
  vendor: string;
  architecture: string;
  description: string;
  /** true for SwiftShader / fallback adapters: figures are for correctness only. */
  software: boolean;
  features: string[];
}

export interface MemorySample {
  /** performance.memory.usedJSHeapSize (Chromium) or process heapUsed (Node), bytes. */
  js_heap_bytes: number | null;
  /** performance.measureUserAgentSpecificMemory() total (JS + WebAssembly memory; needs cross-origin isolation), bytes. */
  ua_memory_bytes: number | null;
}

export interface BackendBench {
  backend: 'webgpu' | 'wasm';
  adapter: string;
  adapter_info: AdapterReport | null;
  /** Median forward-only graph run (logits + attentions), ms. */
  forward_ms: number | null;
  /** Median full graph run (forward + gradients, and relevance when exported), ms. */
  explain_ms: number | null;
  explain_over_forward: number | null;
  /** Median explanation compute + overlay of the end-to-end run (WGSL kernels on WebGPU, TS on WASM), ms. */
  kernels_ms: number | null;
  kernels_share: number | null;
  end_to_end_ms: number | null;
  model_bytes: number;
  /** Per stage: median/min/max/mean over the timed runs, ms. */
  stages: Record<string, Summary>;
  /** How kernel stages were timed. */
  kernel_timing: TimingSource;
  memory: {
    before: MemorySample;
    after: MemorySample;
    /** Least-squares growth of the JS heap per run over the timed runs, bytes (≈ 0 = no leak). */
    js_heap_growth_per_run_bytes: number | null;
    samples: number[];
    /** Output tensors the engine held after warm-up and after the timed runs (equal = nothing piles up). */
    live_output_tensors?: { before: number; after: number };
  };
  /** How this backend was measured when it differs from the plain path (e.g. software adapter). */
  notes: string[];
  errors: string[];
}

export interface BenchReport {
  kind: 'browser-bench';
  created: string;
  model: { name: string; title: string; trained: boolean; url: string; architecture: string; note: string };
  photo: string;
  warmup: number;
  runs: number;
  browser: string;
  machine: MachineReport;
  backends: BackendBench[];
  cold_start?: ColdStartReport;
}

export interface MachineReport {
  cpu: string;
  cores: number;
  memory_bytes: number;
  os: string;
  node: string;
  /** 1-minute load average when the report was started and when it was written (absent in older reports): the
   * bench machine is shared, and timings on 2 busy cores say little without it. */
  load_average?: { start: number; end?: number };
}

export interface ColdStartRun {
  cache: 'empty' | 'warm-sw';
  /** WASM-only device (Chromium without WebGPU) or WebGPU device (backend webgpu). Absent in older reports. */
  device?: 'wasm' | 'webgpu';
  /** Fast 3G + 4× CPU slowdown (DevTools protocol) on the page. */
  throttled?: boolean;
  /** 'nginx': deploy/nginx.conf.template; 'static': the same server without any of its headers (a plain static host). */
  host?: 'nginx' | 'static';
  /** The backend the app ended on, and whether the page was cross-origin isolated (threads). */
  backend?: string | null;
  cross_origin_isolated?: boolean | null;
  /** photo chosen → diagnosis shown, ms. */
  diagnosis_ms?: number | null;
  /** Counted at the server (nginx $bytes_sent: headers + compressed body), page and service worker together. */
  wire?: WireTally;
  /** navigation → the app shell rendered (bottom navigation present), ms. */
  shell_ms: number | null;
  /** navigation → a photo can be chosen and no model is loading any more, ms. */
  usable_ui_ms: number | null;
  /** navigation → first diagnosis shown, ms (null when the UI could not be driven). */
  first_diagnosis_ms: number | null;
  /** Bytes received over the network (CDP Network.loadingFinished encodedDataLength). */
  bytes_downloaded: number;
  requests: number;
  note: string;
}

export interface WireTally {
  requests: number;
  bytes: number;
  /** ORT's glue and wasm, the model folder, everything else (app shell, icons, samples). */
  runtime_bytes: number;
  model_bytes: number;
  app_bytes: number;
  /** Response bodies only (a 304 has none): what a second visit must keep at 0 for runtime and model. */
  runtime_body_bytes: number;
  model_body_bytes: number;
  /** The largest responses, for reading the report. */
  largest: { uri: string; bytes: number; status: number; encoding: string }[];
}

export interface ColdStartReport {
  target: string;
  runs: ColdStartRun[];
  note: string;
}

export interface NodeKernelReport {
  /** Kernel GPU time from timestamp queries, when the adapter has them. */
  gpu_ms: Summary | null;
  /** Wall time around the call until results were back on the CPU. */
  wall_ms: Summary;
  /** The plain TypeScript reference, same input. */
  cpu_reference_ms: Summary | null;
  /** max |GPU − reference| over the output (normalised map or RGBA/255). */
  max_abs_diff: number | null;
}

export interface NodeBenchReport {
  kind: 'node-dawn-bench';
  created: string;
  machine: MachineReport;
  adapter: AdapterReport;
  dims: { layers: number; heads: number; tokens: number; gridSize: number; prefixTokens: number };
  inputs: string;
  warmup: number;
  runs: number;
  kernels: Record<string, NodeKernelReport>;
  ort: OrtInNodeReport[];
  errors: string[];
}

export interface OrtInNodeReport {
  runtime: 'onnxruntime-web (WebGPU EP on Dawn node)' | 'onnxruntime-node (native WebGPU EP)' | 'onnxruntime-node (CPU EP)';
  /** The graphs timed: fp16 (weights and compute in fp16) or, when absent, fp32. */
  precision?: 'fp32' | 'fp16';
  status: 'ok' | 'failed' | 'skipped';
  detail: string;
  forward_ms?: Summary;
  /** The full graph: forward + gradients (what the default relevance method runs). */
  explain_ms?: Summary;
  /** The lrp graph (forward + gradients + LRP relevance), when the model has one. */
  lrp_ms?: Summary;
}

export interface EvalMethodResult {
  /** e.g. 'relevance', 'rollout (mean, discard 0.9)', 'random'. */
  name: string;
  method: string;
  options: Record<string, unknown>;
  positive: number[];
  negative: number[];
  positive_auc: number;
  negative_auc: number;
}

/** The app's sure / not-sure split of the unperturbed val photos (bench/lib/evalAggregate.ts confidenceSummary). */
export interface ConfidenceSummary {
  rule: string;
  photos: number;
  sure: { photos: number; right: number };
  unsure: { photos: number; right: number };
}

export interface EvalReport {
  kind: 'explain-eval';
  created: string;
  model: { name: string; title: string; trained: boolean; url: string; note: string };
  /** Label printed next to every table and plot made from this file. */
  meaning: string;
  photos: number;
  fractions: number[];
  perturbation_backend: 'wasm' | 'webgpu';
  fill: string;
  accuracy_unperturbed: number | null;
  /** Absent in reports written before it existed. */
  confidence?: ConfidenceSummary | null;
  methods: EvalMethodResult[];
  /** Best discard ratio of rollout by the AUC gap (negative − positive). */
  rollout_best: string | null;
  top_patch_agreement: { photos: number; methods: Record<string, { same: number; compared: number }> } | null;
  duration_s: number;
  machine: MachineReport;
  browser: string;
  errors: string[];
}
