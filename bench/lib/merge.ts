// Combines a backend's stage run and end-to-end run into the tracked figures of issue 5.
import type { BackendBench, MemorySample, TimingSource, AdapterReport } from './report';
import type { Summary } from './stats';

export interface StagesPart {
  backend: 'webgpu' | 'wasm';
  adapter: string;
  adapter_info: AdapterReport | null;
  model_bytes: number;
  stages: Record<string, Summary>;
  kernel_timing: TimingSource;
  notes?: string[];
  errors: string[];
}

export interface EndToEndPart {
  backend: 'webgpu' | 'wasm';
  stages: Record<string, Summary>;
  memory: { before: MemorySample; after: MemorySample; js_heap_growth_per_run_bytes: number | null; samples: number[] };
  live_output_tensors?: { before: number; after: number };
  errors: string[];
}

const ratio = (a: number | null, b: number | null): number | null => (a !== null && b !== null && b > 0 ? a / b : null);

export function mergeBackend(stages: StagesPart | null, e2e: EndToEndPart | null): BackendBench {
  const backend = stages?.backend ?? e2e?.backend;
  if (!backend) throw new Error('mergeBackend needs at least one part');
  if (stages && e2e && stages.backend !== e2e.backend) throw new Error(`parts disagree on the backend: ${stages.backend} vs ${e2e.backend}`);
  const med = (parts: Record<string, Summary> | undefined, key: string): number | null => parts?.[key]?.median ?? null;
  const forward = med(stages?.stages, 'forward');
  const explain = med(stages?.stages, 'forward+gradients');
  const kernels = med(e2e?.stages, 'kernels+draw');
  const endToEnd = med(e2e?.stages, 'end_to_end');
  const emptyMemory: MemorySample = { js_heap_bytes: null, ua_memory_bytes: null };
  return {
    backend,
    adapter: stages?.adapter ?? '',
    adapter_info: stages?.adapter_info ?? null,
    forward_ms: forward,
    explain_ms: explain,
    explain_over_forward: ratio(explain, forward),
    kernels_ms: kernels,
    kernels_share: ratio(kernels, endToEnd),
    end_to_end_ms: endToEnd,
    model_bytes: stages?.model_bytes ?? 0,
    stages: { ...(stages?.stages ?? {}), ...(e2e?.stages ?? {}) },
    kernel_timing: stages?.kernel_timing ?? 'wall',
    memory: e2e
      ? { ...e2e.memory, ...(e2e.live_output_tensors ? { live_output_tensors: e2e.live_output_tensors } : {}) }
      : { before: emptyMemory, after: emptyMemory, js_heap_growth_per_run_bytes: null, samples: [] },
    notes: [...(stages?.notes ?? [])],
    errors: [...(stages?.errors ?? []), ...(e2e?.errors ?? [])],
  };
}
