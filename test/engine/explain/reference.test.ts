// The CPU references: hand-computed small cases and the properties the contract's definitions imply.
import { describe, expect, test } from 'vitest';
import { explainOnCpu, withExplainDefaults, type ExplainDims } from '../../../src/engine/explain';
import {
  applyDiscard,
  discardThreshold,
  fuseHeads,
  orderedKey,
  propagateRowStep,
  selectRank,
} from '../../../src/engine/explain/reference';
import type { ExplainOptions } from '../../../src/engine/types';
import { fixtureDims, randomTensors, seededRandom } from './randomTensors';

const opts = (o: Partial<Required<ExplainOptions>> & Pick<ExplainOptions, 'method'>): Required<ExplainOptions> => ({
  targetClass: 0,
  startLayer: 0,
  headFusion: 'mean',
  discardRatio: 0,
  ...o,
});

/** Independent oracle: the full N×N matrix products the contract writes, in float64. */
function naiveMap(t: ReturnType<typeof randomTensors>, dims: ExplainDims, o: Required<ExplainOptions>): number[] {
  const { heads: H, tokens: N, layers: L } = dims;
  const fused = (layer: number): number[][] => {
    const m: number[][] = [];
    for (let i = 0; i < N; i++) {
      m.push([]);
      for (let j = 0; j < N; j++) {
        const vals: number[] = [];
        for (let h = 0; h < H; h++) {
          const at = ((layer * H + h) * N + i) * N + j;
          if (o.method === 'relevance') vals.push(Math.max(t.attentionGrads[at]! * t.attentions[at]!, 0));
          else if (o.method === 'lrp') vals.push(Math.max(t.attentionGrads[at]! * t.attentionRelevance[at]!, 0));
          else vals.push(t.attentions[at]!);
        }
        const v = o.method === 'attention' || o.method === 'rollout'
          ? o.headFusion === 'max' ? Math.max(...vals) : o.headFusion === 'min' ? Math.min(...vals) : vals.reduce((a, b) => a + b) / H
          : vals.reduce((a, b) => a + b) / H;
        m[i]!.push(v);
      }
    }
    return m;
  };
  const matmul = (a: number[][], b: number[][]) => a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
  const patches = (row: number[]) => row.slice(dims.prefixTokens);
  if (o.method === 'attention') return patches(fused(L - 1)[0]!);
  let R: number[][] = Array.from({ length: N }, (_, i) => Array.from({ length: N }, (_, j) => (i === j ? 1 : 0)));
  for (let l = o.startLayer; l < L; l++) {
    const a = fused(l);
    if (o.method === 'rollout') {
      // Discard: sort candidate values, zero those strictly below the value of rank k.
      const cands: number[] = [];
      for (let i = 1; i < N; i++) for (let j = 1; j < N; j++) cands.push(a[i]![j]!);
      cands.sort((x, y) => x - y);
      const k = Math.floor(o.discardRatio * (N - 1) * (N - 1));
      if (k > 0) for (let i = 1; i < N; i++) for (let j = 1; j < N; j++) if (a[i]![j]! < cands[k]!) a[i]![j] = 0;
      const hat = a.map((row, i) => {
        const withI = row.map((v, j) => v + (i === j ? 1 : 0));
        const s = withI.reduce((x, y) => x + y);
        return withI.map((v) => v / s);
      });
      R = matmul(hat, R);
    } else {
      R = R.map((row, i) => row.map((v, j) => v + matmul(a, R)[i]![j]!));
    }
  }
  return patches(R[0]!);
}

function maxRelError(got: Float32Array, want: number[]): number {
  const range = Math.max(...want) - Math.min(...want) || Math.max(...want.map(Math.abs)) || 1;
  return Math.max(...want.map((w, i) => Math.abs(got[i]! - w))) / range;
}

describe('hand-computed cases (G = 2, N = 5, L = 1)', () => {
  const dims = fixtureDims(2, 1, 1, 2);
  // Head 0 and head 1 CLS rows; the other rows are uniform.
  const cls0 = [0.2, 0.4, 0.1, 0.2, 0.1];
  const cls1 = [0.4, 0.0, 0.3, 0.2, 0.1];
  const attentions = new Float32Array(2 * 25).fill(0.2);
  attentions.set(cls0, 0);
  attentions.set(cls1, 25);

  test('attention: mean, max, min of the CLS row over patches', () => {
    const mean = explainOnCpu({ attentions }, dims, opts({ method: 'attention' }));
    expect(Array.from(mean.raw)).toEqual([0.2, 0.2, 0.2, 0.1].map(Math.fround));
    expect(Array.from(mean.values)).toEqual([1, 1, 1, 0]);
    expect(Array.from(explainOnCpu({ attentions }, dims, opts({ method: 'attention', headFusion: 'max' })).raw))
      .toEqual([0.4, 0.3, 0.2, 0.1].map(Math.fround));
    const min = explainOnCpu({ attentions }, dims, opts({ method: 'attention', headFusion: 'min' }));
    expect(Array.from(min.raw)).toEqual([0, 0.1, 0.2, 0.1].map(Math.fround));
    expect([min.min, min.max]).toEqual([0, Math.fround(0.2)]);
  });

  test('rollout of one block: (Ā + I) / rowsum, CLS row', () => {
    // Ā row 0 = [0.3, 0.2, 0.2, 0.2, 0.1]; + e₀ → [1.3, …] / 2.
    const r = explainOnCpu({ attentions }, dims, opts({ method: 'rollout' }));
    expect(r.raw[0]).toBeCloseTo(0.1, 6);
    expect(r.raw[3]).toBeCloseTo(0.05, 6);
  });

  test('relevance of one block: mean_h((∇A ⊙ A)⁺), negatives clipped per head before the mean', () => {
    const grads = new Float32Array(50);
    grads.set([0, 1, -1, 2, 0], 0); // head 0 CLS row
    grads.set([0, 1, 1, -3, 0], 25); // head 1 CLS row
    const r = explainOnCpu({ attentions, attentionGrads: grads }, dims, opts({ method: 'relevance' }));
    // patch 0: (0.4·1 + 0·1)/2 = 0.2; patch 1: (0 + 0.3)/2 = 0.15; patch 2: (0.4 + 0)/2 = 0.2; patch 3: 0.
    expect(Array.from(r.raw).map((v) => +v.toFixed(6))).toEqual([0.2, 0.15, 0.2, 0]);
  });

  test('lrp of one block uses ∇A ⊙ R^A, not A', () => {
    const grads = new Float32Array(50).fill(1);
    const relevance = new Float32Array(50);
    relevance.set([0, 0.5, -0.5, 0, 1], 0);
    const r = explainOnCpu({ attentions: new Float32Array(0), attentionGrads: grads, attentionRelevance: relevance }, dims,
      opts({ method: 'lrp' }));
    expect(Array.from(r.raw)).toEqual([0.25, 0, 0, 0.5]);
  });
});

describe('properties on random fixtures', () => {
  const cases: Array<[string, ExplainDims]> = [
    ['G=3, prefix 1, L=4, H=3', fixtureDims(3, 1, 4, 3)],
    ['G=3, prefix 2, L=3, H=2', fixtureDims(3, 2, 3, 2)],
  ];
  for (const [name, dims] of cases) {
    const t = randomTensors(dims, 7 + dims.prefixTokens);
    const variants: Required<ExplainOptions>[] = [
      opts({ method: 'attention', headFusion: 'max' }),
      opts({ method: 'rollout', headFusion: 'mean', discardRatio: 0 }),
      opts({ method: 'rollout', headFusion: 'min', discardRatio: 0.5, startLayer: 1 }),
      opts({ method: 'rollout', headFusion: 'max', discardRatio: 0.9 }),
      opts({ method: 'relevance' }),
      opts({ method: 'relevance', startLayer: dims.layers - 1 }),
      opts({ method: 'lrp', startLayer: 1 }),
    ];
    for (const o of variants) {
      test(`${name}: ${o.method}/${o.headFusion}/discard ${o.discardRatio}/start ${o.startLayer} equals the N×N matrix products`, () => {
        const got = explainOnCpu(t, dims, o);
        expect(maxRelError(got.raw, naiveMap(t, dims, o))).toBeLessThan(1e-5);
      });
    }

    test(`${name}: rollout keeps row sums at 1`, () => {
      const fused = fuseHeads(t.attentions, t.attentions, dims, 0, 'mean');
      applyDiscard(fused, dims.tokens, discardThreshold(fused, dims.tokens, 0.5));
      const row = new Float32Array(dims.tokens).map((_, i) => (i % 3) / 7);
      const sumIn = row.reduce((a, b) => a + b);
      expect(propagateRowStep(row, fused, dims.tokens, true).reduce((a, b) => a + b)).toBeCloseTo(sumIn, 5);
    });

    test(`${name}: fusion max ≥ mean ≥ min`, () => {
      for (let layer = 0; layer < dims.layers; layer++) {
        const max = fuseHeads(t.attentions, t.attentions, dims, layer, 'max');
        const mean = fuseHeads(t.attentions, t.attentions, dims, layer, 'mean');
        const min = fuseHeads(t.attentions, t.attentions, dims, layer, 'min');
        for (let e = 0; e < mean.length; e++) {
          expect(max[e]!).toBeGreaterThanOrEqual(mean[e]! - 1e-7);
          expect(mean[e]!).toBeGreaterThanOrEqual(min[e]! - 1e-7);
        }
      }
    });

    test(`${name}: zero gradients give the identity (map of zeros); lrp with R = 0 too`, () => {
      const zeros = new Float32Array(t.attentions.length);
      for (const r of [
        explainOnCpu({ attentions: t.attentions, attentionGrads: zeros }, dims, opts({ method: 'relevance' })),
        explainOnCpu({ attentions: t.attentions, attentionGrads: t.attentionGrads, attentionRelevance: zeros }, dims, opts({ method: 'lrp', startLayer: 1 })),
      ]) {
        expect(Array.from(r.raw)).toEqual(new Array(dims.gridSize ** 2).fill(0));
        expect(Array.from(r.values)).toEqual(new Array(dims.gridSize ** 2).fill(0));
        expect([r.min, r.max]).toEqual([0, 0]);
      }
    });

    test(`${name}: discard 0 equals no discard, and a ratio too small to drop one entry too`, () => {
      const noDiscard = explainOnCpu(t, dims, opts({ method: 'rollout' }));
      const tiny = explainOnCpu(t, dims, opts({ method: 'rollout', discardRatio: 0.5 / (dims.tokens - 1) ** 2 }));
      const half = explainOnCpu(t, dims, opts({ method: 'rollout', discardRatio: 0.5 }));
      expect(tiny.raw).toEqual(noDiscard.raw);
      expect(half.raw).not.toEqual(noDiscard.raw);
    });

    test(`${name}: start layer L-1 uses only the last block`, () => {
      const scrambled = randomTensors(dims, 99);
      const last = dims.heads * dims.tokens ** 2 * (dims.layers - 1);
      for (const key of ['attentions', 'attentionGrads', 'attentionRelevance'] as const) scrambled[key].set(t[key].subarray(last), last);
      for (const method of ['rollout', 'relevance', 'lrp'] as const) {
        const o = opts({ method, startLayer: dims.layers - 1 });
        expect(explainOnCpu(scrambled, dims, o).raw).toEqual(explainOnCpu(t, dims, o).raw);
        const all = opts({ method, startLayer: 0 });
        expect(explainOnCpu(scrambled, dims, all).raw).not.toEqual(explainOnCpu(t, dims, all).raw);
      }
    });
  }

  test('prefixTokens 2 skips the DIST token', () => {
    const dims = fixtureDims(2, 2, 1, 1);
    const attentions = new Float32Array(36).fill(0.1);
    attentions.set([0.1, 0.9, 0.2, 0.3, 0.4, 0.5], 0); // CLS row: CLS, DIST, 4 patches
    const r = explainOnCpu({ attentions }, dims, opts({ method: 'attention' }));
    expect(Array.from(r.raw)).toEqual([0.2, 0.3, 0.4, 0.5].map(Math.fround));
  });
});

describe('rollout discard', () => {
  test('zeroes exactly the k lowest distinct candidates and never the CLS row or column', () => {
    const N = 5;
    const fused = new Float32Array(N * N).map((_, e) => (e * 37) % 25 / 100 + 0.001);
    const before = fused.slice();
    applyDiscard(fused, N, discardThreshold(fused, N, 0.5)); // k = floor(0.5 · 16) = 8
    let zeroed = 0;
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < N; j++) {
        const e = i * N + j;
        if (i === 0 || j === 0) expect(fused[e]).toBe(before[e]);
        else if (fused[e] === 0) zeroed++;
      }
    }
    expect(zeroed).toBe(8);
    const kept = [...fused].filter((v, e) => v !== 0 && e >= N && e % N !== 0);
    const dropped = [...before].filter((v, e) => fused[e] === 0 && v !== 0);
    expect(Math.min(...kept)).toBeGreaterThan(Math.max(...dropped));
  });

  test('radix selectRank equals sorting, ties and negatives included', () => {
    const random = seededRandom(11);
    for (const size of [1, 2, 7, 1000]) {
      const keys = new Uint32Array(size).map(() => (random() < 0.3 ? 0x80000000 : Math.floor(random() * 2 ** 32)) >>> 0);
      const sorted = keys.slice().sort();
      for (const k of [0, Math.floor(size / 2), size - 1]) expect(selectRank(keys, k)).toBe(sorted[k]);
    }
  });

  test('ties at the threshold are all kept', () => {
    const fused = new Float32Array(9).fill(0.5); // N = 3: four candidates, all equal
    applyDiscard(fused, 3, discardThreshold(fused, 3, 0.5));
    expect(Array.from(fused)).toEqual(new Array(9).fill(0.5));
  });

  test('orderedKey orders floats like numbers, negatives included', () => {
    const random = seededRandom(3);
    const values = Array.from({ length: 500 }, () => Math.fround((random() - 0.5) * 10 ** (random() * 8 - 4)));
    values.push(0, -1e-30, 1e-30, Math.fround(1e30), -Math.fround(1e30));
    const byKey = [...values].sort((a, b) => orderedKey(a) - orderedKey(b));
    expect(byKey).toEqual([...values].sort((a, b) => a - b));
  });
});

describe('options', () => {
  const dims = fixtureDims(3, 1, 4, 3);
  test('defaults: lrp starts at block 1, others at 0; the explained class fills targetClass', () => {
    expect(withExplainDefaults({ method: 'lrp' }, dims, 2)).toEqual(
      { method: 'lrp', targetClass: 2, startLayer: 1, headFusion: 'mean', discardRatio: 0 });
    expect(withExplainDefaults({ method: 'rollout', targetClass: 1 }, dims, 2).startLayer).toBe(0);
  });
  test.each([
    [{ method: 'rollout', discardRatio: 1 }, /discardRatio/],
    [{ method: 'rollout', discardRatio: -0.1 }, /discardRatio/],
    [{ method: 'relevance', startLayer: 4 }, /startLayer/],
    [{ method: 'relevance', startLayer: 0.5 }, /startLayer/],
    [{ method: 'nope' }, /method/],
    [{ method: 'rollout', headFusion: 'median' }, /headFusion/],
  ])('refuses %o', (o, message) => {
    expect(() => withExplainDefaults(o as ExplainOptions, dims, 0)).toThrow(message);
  });
  test('refuses inconsistent dims and missing tensors', () => {
    expect(() => withExplainDefaults({ method: 'rollout' }, { ...dims, tokens: 11 }, 0)).toThrow(/tokens/);
    const t = randomTensors(dims, 1);
    expect(() => explainOnCpu({ attentions: t.attentions }, dims, opts({ method: 'relevance' }))).toThrow(/attentionGrads/);
    expect(() => explainOnCpu({ attentions: t.attentions.subarray(1) }, dims, opts({ method: 'rollout' }))).toThrow(/values/);
  });
});
