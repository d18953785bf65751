// The layout of test/fixtures/lrp/case.json (written by model/tests/test_lrp.py), read by the node test and the page.
export interface TensorFile { file: string; shape: number[] }
export interface FixtureCase { target: number[]; outputs: Record<'logits' | 'attention_grads' | 'attention_relevance', TensorFile> }
export interface Fixture {
  config: { depth: number; heads: number; image_size: number; patch_size: number; distilled: boolean };
  inputs: Record<'pixels' | 'head_weight' | 'head_bias', TensorFile>;
  cases: Record<string, FixtureCase>;
}
