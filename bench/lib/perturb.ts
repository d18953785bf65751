// The perturbation test of Chefer et al. (CVPR 2021), the pure parts: which patches to remove, filling them
// with the photo's mean colour, and the area under the "still the original class" curve.

/** Fractions of the patches removed, 10 % … 90 %. */
export const PERTURBATION_FRACTIONS: readonly number[] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

export type PerturbationOrder = 'positive' | 'negative';

/** Patch indices in removal order: most relevant first ('positive') or least relevant first ('negative').
 * Ties are broken by the lower index so that the order is deterministic. */
export function removalOrder(map: ArrayLike<number>, order: PerturbationOrder): number[] {
  const indices = Array.from({ length: map.length }, (_, i) => i);
  for (let i = 0; i < map.length; i++) if (Number.isNaN(map[i]!)) throw new Error(`map value ${i} is NaN`);
  const sign = order === 'positive' ? -1 : 1;
  return indices.sort((a, b) => sign * (map[a]! - map[b]!) || a - b);
}

/** A seeded random permutation of 0…n-1 (mulberry32 + Fisher–Yates): the random-order baseline. */
export function randomOrder(n: number, seed: number): number[] {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/** How many of `patchCount` patches a fraction removes. */
export function removedCount(fraction: number, patchCount: number): number {
  return Math.min(patchCount, Math.max(0, Math.round(fraction * patchCount)));
}

/** Per-channel mean of a [3,S,S] (NCHW, batch 1) pixel tensor. */
export function meanColour(pixels: Float32Array, size: number): [number, number, number] {
  const plane = size * size;
  if (pixels.length !== 3 * plane) throw new Error(`expected ${3 * plane} values, got ${pixels.length}`);
  const mean: [number, number, number] = [0, 0, 0];
  for (let c = 0; c < 3; c++) {
    let sum = 0;
    for (let i = c * plane; i < (c + 1) * plane; i++) sum += pixels[i]!;
    mean[c] = sum / plane;
  }
  return mean;
}

/** A copy of `pixels` ([3,S,S]) with the given patches (row-major on the G×G grid) filled with `fill`. */
export function fillPatches(
  pixels: Float32Array,
  size: number,
  patchSize: number,
  patches: readonly number[],
  fill: readonly [number, number, number],
): Float32Array {
  const grid = size / patchSize;
  if (!Number.isInteger(grid)) throw new Error(`image size ${size} is not a multiple of patch size ${patchSize}`);
  const out = pixels.slice();
  const plane = size * size;
  for (const patch of patches) {
    if (patch < 0 || patch >= grid * grid) throw new Error(`patch ${patch} outside the ${grid}×${grid} grid`);
    const y0 = Math.floor(patch / grid) * patchSize;
    const x0 = (patch % grid) * patchSize;
    for (let c = 0; c < 3; c++) {
      for (let y = y0; y < y0 + patchSize; y++) {
        out.fill(fill[c]!, c * plane + y * size + x0, c * plane + y * size + x0 + patchSize);
      }
    }
  }
  return out;
}

/** Trapezoidal area under y(x), divided by the x range: the mean height, in the units of y. */
export function normalizedAuc(xs: readonly number[], ys: readonly number[]): number {
  if (xs.length !== ys.length || xs.length < 2) throw new Error('AUC needs ≥ 2 points with matching x and y');
  let area = 0;
  for (let i = 1; i < xs.length; i++) {
    const dx = xs[i]! - xs[i - 1]!;
    if (!(dx > 0)) throw new Error('AUC x values must increase');
    area += (dx * (ys[i]! + ys[i - 1]!)) / 2;
  }
  return area / (xs[xs.length - 1]! - xs[0]!);
}

export { argmax } from '../../src/engine/model/logits';
