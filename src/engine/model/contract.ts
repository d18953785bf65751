// The model contract's machine-readable summary (docs/model-contract.md, block `json contract`), ported to TS.
// test/engine/contract.test.ts checks that this object equals the block in the document, so the two cannot drift.

export type ShapeSymbol = 'S' | 'C' | 'F' | 'L' | 'H' | 'N' | 'D' | 'R';
export type ShapeDim = number | ShapeSymbol;
export type GraphKind = 'full' | 'forward' | 'lrp';
export type GraphRole = GraphKind | 'full_fp16' | 'forward_fp16' | 'lrp_fp16';

export interface ContractTensor {
  name: string;
  dtype: 'float32';
  shape: ShapeDim[];
}

export interface ContractOutput extends ContractTensor {
  graphs: GraphKind[];
  optional: boolean;
}

export interface Contract {
  contract_version: number;
  inputs: ContractTensor[];
  outputs: ContractOutput[];
  graph_roles: Record<GraphRole, string>;
  min_opset: number;
  manifest_required: string[];
  head_required: string[];
  head_format: string;
  label_pattern: string;
  /** Optional head.json fields (calibration, open-set statistics); a head without them still loads. */
  head_optional: string[];
  statistics_feature_norm: string;
  open_set_scores: string[];
  /** Most classes a head may have (taught heads included). */
  max_classes: number;
  /** Longest taught class name, in Unicode code points. */
  taught_label_max_length: number;
  int8_weights: {
    manifest_key: 'weights_int8';
    format: string;
    version: number;
    layout_required: string[];
    tensor_required: string[];
    encodings: ('int8' | 'float32')[];
    target_dtypes: ('float32' | 'float16')[];
    /** Tensors in a weights file start on a multiple of this; a shorter gap before one is padding. */
    target_alignment: number;
  };
}

export const CONTRACT: Contract = {
  contract_version: 1,
  inputs: [
    { name: 'pixels', dtype: 'float32', shape: [1, 3, 'S', 'S'] },
    { name: 'head_weight', dtype: 'float32', shape: ['C', 'F'] },
    { name: 'head_bias', dtype: 'float32', shape: ['C'] },
    { name: 'target', dtype: 'float32', shape: [1, 'C'] },
  ],
  outputs: [
    { name: 'logits', dtype: 'float32', shape: [1, 'C'], graphs: ['full', 'forward', 'lrp'], optional: false },
    { name: 'features', dtype: 'float32', shape: [1, 'F'], graphs: ['full', 'forward', 'lrp'], optional: false },
    { name: 'attentions', dtype: 'float32', shape: ['L', 1, 'H', 'N', 'N'], graphs: ['full', 'forward', 'lrp'], optional: false },
    { name: 'attention_grads', dtype: 'float32', shape: ['L', 1, 'H', 'N', 'N'], graphs: ['full', 'lrp'], optional: false },
    { name: 'attention_relevance', dtype: 'float32', shape: ['L', 1, 'H', 'N', 'N'], graphs: ['lrp'], optional: true },
    { name: 'layer_features', dtype: 'float32', shape: [1, 'R', 'D'], graphs: ['full', 'forward', 'lrp'], optional: true },
  ],
  graph_roles: {
    full: 'model.onnx',
    forward: 'model.forward.onnx',
    lrp: 'model.lrp.onnx',
    full_fp16: 'model.fp16.onnx',
    forward_fp16: 'model.forward.fp16.onnx',
    lrp_fp16: 'model.lrp.fp16.onnx',
  },
  min_opset: 17,
  manifest_required: ['contract_version', 'name', 'title', 'version', 'architecture', 'trained', 'image_size',
    'patch_size', 'prefix_tokens', 'layers', 'heads', 'tokens', 'embed_dim', 'features', 'opset', 'graphs',
    'external_data', 'outputs', 'files', 'default_head', 'backbone_sha256', 'training', 'created'],
  head_required: ['format', 'contract_version', 'labels', 'features', 'weight', 'bias', 'backbone_sha256', 'trained', 'created'],
  head_format: 'leaf-lens-head',
  label_pattern: '^[a-z0-9_]+$',
  head_optional: ['statistics', 'calibration', 'open_set', 'confidence', 'name', 'backbone_name', 'taught', 'layer_statistics'],
  statistics_feature_norm: 'l2',
  open_set_scores: ['mahalanobis', 'relative_mahalanobis'],
  max_classes: 20,
  taught_label_max_length: 40,
  int8_weights: {
    manifest_key: 'weights_int8',
    format: 'leaf-lens-int8-weights',
    version: 1,
    layout_required: ['format', 'version', 'file', 'bytes', 'source', 'targets', 'tensors'],
    tensor_required: ['name', 'shape', 'encoding', 'offset', 'targets'],
    encodings: ['int8', 'float32'],
    target_dtypes: ['float32', 'float16'],
    target_alignment: 64,
  },
};

export type OutputName = 'logits' | 'features' | 'attentions' | 'attention_grads' | 'attention_relevance' | 'layer_features';

/** Concrete values of the shape symbols for one model + head. */
export type ShapeBindings = Record<ShapeSymbol, number>;

export function resolveShape(shape: readonly ShapeDim[], bindings: ShapeBindings): number[] {
  return shape.map((dim) => (typeof dim === 'number' ? dim : bindings[dim]));
}

/** Outputs the given graph must have, per contract, given the outputs the manifest lists (the model's, over all graphs). */
export function requiredOutputs(kind: GraphKind, listed: readonly string[]): ContractOutput[] {
  return CONTRACT.outputs.filter((o) => o.graphs.includes(kind) && (!o.optional || listed.includes(o.name)));
}

/** The outputs a graph of this kind computes, in contract order, for a model listing `listed`. */
export function graphOutputs(kind: GraphKind, listed: readonly string[]): OutputName[] {
  return requiredOutputs(kind, listed).map((o) => o.name as OutputName);
}
