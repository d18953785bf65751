// The method table is the one description of each explanation method: these checks tie its entries to the
// contract (which graph computes which outputs), to the UI's texts, and to each other.
import { expect, test } from 'vitest';
import { EXPLAIN_METHOD_TABLE, EXPLAIN_METHODS, methodSpec, methodsFor, methodUses } from '../../../src/engine/explain/methods';
import { graphOutputs } from '../../../src/engine/model/contract';
import { OUTPUT_OF } from '../../../src/engine/runCache';
import { en } from '../../../src/i18n/en';

const ALL_OUTPUTS = ['logits', 'features', 'attentions', 'attention_grads', 'attention_relevance'];

test.each(EXPLAIN_METHOD_TABLE.map((m) => [m.id, m] as const))('%s: its graph computes every tensor it reads', (_, spec) => {
  const outputs = graphOutputs(spec.graph, ALL_OUTPUTS);
  for (const name of spec.tensors) expect(outputs, name).toContain(OUTPUT_OF[name]);
  const fused = spec.fusion.kind === 'heads' ? [spec.fusion.x] : [spec.fusion.x, spec.fusion.y];
  for (const name of fused) expect(spec.tensors).toContain(name);
});

test.each(EXPLAIN_METHOD_TABLE.map((m) => [m.id, m] as const))('%s: controls match what the maths reads', (id, spec) => {
  expect(methodUses(id, 'headFusion')).toBe(spec.fusion.kind === 'heads');
  expect(methodUses(id, 'discardRatio')).toBe(spec.rollout);
  expect(methodUses(id, 'startLayer')).toBe(spec.blocks === 'propagate');
  const label = spec.labelKey.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], en);
  expect(typeof label).toBe('string');
});

test('the contract defaults: rollout 0, relevance 0, lrp 1; the forward graph when attentions suffice', () => {
  expect(EXPLAIN_METHODS.map((m) => [m, methodSpec(m).defaultStartLayer])).toEqual([['relevance', 0], ['rollout', 0], ['attention', 0], ['lrp', 1]]);
  expect(EXPLAIN_METHOD_TABLE.filter((m) => m.graph === 'forward').map((m) => m.id)).toEqual(['rollout', 'attention']);
  expect(() => methodSpec('gradcam' as never)).toThrow(/unknown method "gradcam"/);
});

test('a model without an lrp graph offers every method but lrp', () => {
  expect(methodsFor((graph) => graph !== 'lrp')).toEqual(['relevance', 'rollout', 'attention']);
  expect(methodsFor(() => true)).toEqual(['relevance', 'rollout', 'attention', 'lrp']);
});
