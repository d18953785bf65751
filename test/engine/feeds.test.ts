// The one builder of the contract's graph inputs (engine and benchmarks).
import { expect, test } from 'vitest';
import { graphFeeds, toOrtFeeds } from '../../src/engine/model/feeds';

const head = { labels: ['a', 'b', 'c'], features: 2, weight: Float32Array.from([1, 2, 3, 4, 5, 6]), bias: Float32Array.from([0.1, 0.2, 0.3]) };
const pixels = new Float32Array(3 * 4 * 4).fill(0.5);

test('shapes per contract; no target = all zeros (the top class)', () => {
  const feeds = graphFeeds(4, head, pixels);
  expect(Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, v.dims]))).toEqual({
    pixels: [1, 3, 4, 4], head_weight: [3, 2], head_bias: [3], target: [1, 3],
  });
  expect([...feeds.target.data]).toEqual([0, 0, 0]);
  expect(feeds.head_weight.data).toBe(head.weight);
});

test('a target class is one-hot; toOrtFeeds wraps every feed', () => {
  expect([...graphFeeds(4, head, pixels, 2).target.data]).toEqual([0, 0, 1]);
  const wrapped = toOrtFeeds(graphFeeds(4, head, pixels, 1), (data, dims) => ({ n: data.length, dims }));
  expect(wrapped.target).toEqual({ n: 3, dims: [1, 3] });
  expect(Object.keys(wrapped).sort()).toEqual(['head_bias', 'head_weight', 'pixels', 'target']);
});
