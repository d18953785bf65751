// The graph inputs of the contract (pixels, head_weight, head_bias, target), built in one place for the engine and
// the benchmarks. Plain arrays with shapes, so any onnxruntime (web or node) can wrap them in its own Tensor class.
import type { Head } from './head';

export interface FeedArray {
  data: Float32Array;
  dims: number[];
}

export type GraphFeedName = 'pixels' | 'head_weight' | 'head_bias' | 'target';

/** `pixels` is the preprocessed [1,3,S,S] photo; `target` the class to explain (undefined: zeros = the top class). */
export function graphFeeds(
  imageSize: number,
  head: Pick<Head, 'labels' | 'features' | 'weight' | 'bias'>,
  pixels: Float32Array,
  target?: number,
): Record<GraphFeedName, FeedArray> {
  const classes = head.labels.length;
  const targetWeights = new Float32Array(classes);
  if (target !== undefined) targetWeights[target] = 1; // all zeros = the top class, per contract
  return {
    pixels: { data: pixels, dims: [1, 3, imageSize, imageSize] },
    head_weight: { data: head.weight, dims: [classes, head.features] },
    head_bias: { data: head.bias, dims: [classes] },
    target: { data: targetWeights, dims: [1, classes] },
  };
}

/** The feeds as tensors of one onnxruntime module (`new ort.Tensor('float32', data, dims)`). */
export function toOrtFeeds<T>(feeds: Record<string, FeedArray>, tensor: (data: Float32Array, dims: number[]) => T): Record<string, T> {
  return Object.fromEntries(Object.entries(feeds).map(([name, f]) => [name, tensor(f.data, f.dims)]));
}
