import { describe, expect, test } from 'vitest';
import { combineLeaves, MAX_GROUP_LEAVES, type LeafJudgement } from '../../src/engine/model/group';

const rule = { minProbability: 0.8, minLeaves: 2 };
const leaf = (p: number[], outcome: LeafJudgement['outcome'] = 'sure'): LeafJudgement => ({ probabilities: p, outcome });

describe('combineLeaves', () => {
  test('the combined distribution is the renormalised geometric mean of the judged leaves', () => {
    const a = [0.7, 0.2, 0.1];
    const b = [0.5, 0.4, 0.1];
    const g = combineLeaves([leaf(a, 'unsure'), leaf(b, 'unsure')], rule);
    const raw = a.map((x, i) => Math.sqrt(x * b[i]!));
    const sum = raw.reduce((s, x) => s + x, 0);
    raw.forEach((x, i) => expect(g.probabilities[i]).toBeCloseTo(x / sum, 6));
    expect(g.top).toBe(0);
    expect(g.agreeing).toBe(2);
  });

  test('averaging, not summing: three identical leaves give that leaf, not a more confident answer', () => {
    const p = [0.85, 0.1, 0.05];
    const g = combineLeaves([leaf(p), leaf(p), leaf(p)], rule);
    p.forEach((x, i) => expect(g.probabilities[i]).toBeCloseTo(x, 6));
    expect(g.outcome).toBe('sure');
    expect(g.reasons).toEqual([]);
  });

  test('sum pooling (for comparison only) multiplies the leaves: sharper than the mean', () => {
    const p = [0.7, 0.2, 0.1];
    const mean = combineLeaves([leaf(p), leaf(p)], rule);
    const sum = combineLeaves([leaf(p), leaf(p)], { ...rule, pooling: 'sum' });
    const z = 0.49 + 0.04 + 0.01;
    expect(sum.probabilities[0]).toBeCloseTo(0.49 / z, 6);
    expect(sum.probabilities[0]).toBeGreaterThan(mean.probabilities[0]!);
  });

  test('unsure leaves that agree can add up to a sure group; a weak group stays unsure', () => {
    const sure = combineLeaves([leaf([0.9, 0.05, 0.05], 'unsure'), leaf([0.75, 0.2, 0.05], 'unsure'), leaf([0.88, 0.06, 0.06], 'unsure')], rule);
    expect(sure.outcome).toBe('sure');
    const weak = combineLeaves([leaf([0.5, 0.3, 0.2], 'unsure'), leaf([0.6, 0.3, 0.1], 'unsure')], rule);
    expect(weak.outcome).toBe('unsure');
    expect(weak.reasons).toEqual(['low-probability']);
  });

  test('refused leaves are left out and listed; all refused gives not-bean-leaf', () => {
    const g = combineLeaves([leaf([0.1, 0.1, 0.8], 'not-bean-leaf'), leaf([0.9, 0.05, 0.05]), leaf([0.85, 0.1, 0.05])], rule);
    expect(g.refused).toEqual([0]);
    expect(g.judged).toEqual([1, 2]);
    expect(g.top).toBe(0);
    expect(g.outcome).toBe('sure');
    const none = combineLeaves([leaf([0.1, 0.1, 0.8], 'not-bean-leaf'), leaf([0.3, 0.3, 0.4], 'not-bean-leaf')], rule);
    expect(none.outcome).toBe('not-bean-leaf');
    expect(none.top).toBe(-1);
    expect(Array.from(none.probabilities)).toEqual([0, 0, 0]);
  });

  test('one judged leaf is not a field check: unsure however sure the leaf', () => {
    const g = combineLeaves([leaf([0.99, 0.005, 0.005]), leaf([0.2, 0.2, 0.6], 'not-bean-leaf')], rule);
    expect(g.outcome).toBe('unsure');
    expect(g.reasons).toEqual(['too-few-leaves']);
  });

  test('a leaf sure of another class makes the group unsure even when the mean is confident', () => {
    const g = combineLeaves([leaf([0.99, 0.005, 0.005]), leaf([0.99, 0.005, 0.005]), leaf([0.98, 0.005, 0.005]), leaf([0.1, 0.85, 0.05])], rule);
    expect(g.top).toBe(0);
    expect(g.probabilities[0]).toBeGreaterThan(0.8);
    expect(g.outcome).toBe('unsure');
    expect(g.reasons).toContain('leaves-disagree');
    expect(g.agreeing).toBe(3);
  });

  test('an exact zero in one leaf does not veto a class the others are sure of', () => {
    const g = combineLeaves([leaf([0, 0.5, 0.5], 'unsure'), leaf([0.999, 0.0005, 0.0005]), leaf([0.999, 0.0005, 0.0005])], rule);
    expect(Array.from(g.probabilities).every(Number.isFinite)).toBe(true);
    expect(g.top).toBe(0);
  });

  test('refuses no leaves, too many leaves and mismatched class counts', () => {
    expect(() => combineLeaves([], rule)).toThrow(RangeError);
    expect(() => combineLeaves(Array.from({ length: MAX_GROUP_LEAVES + 1 }, () => leaf([0.5, 0.5])), rule)).toThrow(RangeError);
    expect(() => combineLeaves([leaf([0.5, 0.5]), leaf([0.2, 0.3, 0.5])], rule)).toThrow(RangeError);
  });
});

test("a head's own sure threshold is the group's; without one, the default rule's probability bar", async () => {
  const { DEFAULT_MIN_PROBABILITY } = await import('../../src/engine/model/domain');
  const { groupRuleOf } = await import('../../src/engine/model/group');
  expect(groupRuleOf(0.83)).toEqual({ minProbability: 0.83, minLeaves: 2 });
  expect(groupRuleOf(undefined).minProbability).toBe(DEFAULT_MIN_PROBABILITY);
});
