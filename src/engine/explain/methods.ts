// The table of explanation methods: everything the engine (which graph, which outputs), the kernels and the CPU
// reference (which blocks, how heads are fused, rollout's discard) and the UI (label, which controls apply) need
// to know about a method. Adding a method means one entry here plus its kernel.
import type { GraphKind } from '../model/contract';
import type { ExplainMethod, HeadFusion } from '../types';

/** The contract's `[L,1,H,N,N]` tensors, as Float32Arrays (CPU) or GPUBuffers (WebGPU). */
export interface ExplainTensors<T> {
  attentions: T;
  attentionGrads?: T;
  attentionRelevance?: T;
}

export type ExplainTensorName = keyof ExplainTensors<unknown>;

/** How fuseHeads combines the H maps of one block: the user's head fusion over one tensor, or mean_h((x ⊙ y)⁺). */
export type MethodFusion =
  | { kind: 'heads'; x: ExplainTensorName }
  | { kind: 'positiveProduct'; x: ExplainTensorName; y: ExplainTensorName };

/** Explanation options a method reads (the UI shows a control only when its method reads it). */
export type ExplainControl = 'startLayer' | 'headFusion' | 'discardRatio';

export interface ExplainMethodSpec {
  id: ExplainMethod;
  /** i18n key of the method's name. */
  labelKey: `explain.methods.${ExplainMethod}`;
  /** The graph run for it: forward (attentions only), full (+ gradients) or lrp (+ relevance). */
  graph: GraphKind;
  /** Model outputs it reads; the engine keeps every output of a run, so a run can serve several methods. */
  tensors: readonly ExplainTensorName[];
  /** 'lastBlock': row 0 of the last block's fused map; 'propagate': the CLS row through blocks L-1 … startLayer. */
  blocks: 'lastBlock' | 'propagate';
  fusion: MethodFusion;
  /** Rollout: discard the lowest fused entries, add I and row-normalise each block. */
  rollout: boolean;
  /** First block by default (the contract: rollout 0, relevance 0, lrp 1 as in Chefer et al. CVPR 2021). */
  defaultStartLayer: number;
  controls: readonly ExplainControl[];
}

/** In the order the UI lists them. */
export const EXPLAIN_METHOD_TABLE: readonly ExplainMethodSpec[] = [
  {
    id: 'relevance',
    labelKey: 'explain.methods.relevance',
    graph: 'full',
    tensors: ['attentions', 'attentionGrads'],
    blocks: 'propagate',
    fusion: { kind: 'positiveProduct', x: 'attentionGrads', y: 'attentions' },
    rollout: false,
    defaultStartLayer: 0,
    controls: ['startLayer'],
  },
  {
    id: 'rollout',
    labelKey: 'explain.methods.rollout',
    graph: 'forward',
    tensors: ['attentions'],
    blocks: 'propagate',
    fusion: { kind: 'heads', x: 'attentions' },
    rollout: true,
    defaultStartLayer: 0,
    controls: ['startLayer', 'headFusion', 'discardRatio'],
  },
  {
    id: 'attention',
    labelKey: 'explain.methods.attention',
    graph: 'forward',
    tensors: ['attentions'],
    blocks: 'lastBlock',
    fusion: { kind: 'heads', x: 'attentions' },
    rollout: false,
    defaultStartLayer: 0,
    controls: ['headFusion'],
  },
  {
    id: 'lrp',
    labelKey: 'explain.methods.lrp',
    graph: 'lrp',
    tensors: ['attentionGrads', 'attentionRelevance'],
    blocks: 'propagate',
    fusion: { kind: 'positiveProduct', x: 'attentionGrads', y: 'attentionRelevance' },
    rollout: false,
    defaultStartLayer: 1,
    controls: ['startLayer'],
  },
];

export const EXPLAIN_METHODS: readonly ExplainMethod[] = EXPLAIN_METHOD_TABLE.map((m) => m.id);
export const HEAD_FUSIONS: readonly HeadFusion[] = ['mean', 'max', 'min'];

/** The table's entry of `method`; a RangeError naming the known ones otherwise. */
export function methodSpec(method: ExplainMethod): ExplainMethodSpec {
  const spec = EXPLAIN_METHOD_TABLE.find((m) => m.id === method);
  if (!spec) throw new RangeError(`explain: unknown method "${String(method)}" (expected one of ${EXPLAIN_METHODS.join(', ')})`);
  return spec;
}

/** Default first block of `method`. */
export function defaultStartLayer(method: ExplainMethod): number {
  return methodSpec(method).defaultStartLayer;
}

/** The model outputs a method reads. */
export function tensorsNeeded(method: ExplainMethod): ExplainTensorName[] {
  return [...methodSpec(method).tensors];
}

/** Whether `control` changes what `method` shows. */
export function methodUses(method: ExplainMethod, control: ExplainControl): boolean {
  return methodSpec(method).controls.includes(control);
}

/** The methods a model offers: those whose graph it has (lrp only when it ships an lrp graph in the precision in use). */
export function methodsFor(hasGraph: (graph: GraphKind) => boolean): ExplainMethod[] {
  return EXPLAIN_METHOD_TABLE.filter((m) => hasGraph(m.graph)).map((m) => m.id);
}
