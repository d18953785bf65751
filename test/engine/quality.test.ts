// Each photo-quality detector on synthetic images: a sharp, well-lit, leaf-filled picture has no issue, and
// each degradation trips its own detector (and not the others where they are independent).
import { describe, expect, test } from 'vitest';
import { assessPhotoQuality, isLeafGreen, measurePhotoQuality, qualityIssues, QUALITY_THRESHOLDS } from '../../src/engine/image/quality';

const S = 224;

/** Deterministic xorshift noise in [0,1). */
function noise(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 2 ** 32;
  };
}

type Rgb = [number, number, number];

/** Planar [3,S,S] image from a per-pixel colour function. */
function image(colour: (row: number, col: number) => Rgb): Float32Array {
  const plane = S * S;
  const out = new Float32Array(3 * plane);
  for (let row = 0; row < S; row++) {
    for (let col = 0; col < S; col++) {
      const [r, g, b] = colour(row, col);
      const i = row * S + col;
      out[i] = Math.min(1, Math.max(0, r));
      out[plane + i] = Math.min(1, Math.max(0, g));
      out[2 * plane + i] = Math.min(1, Math.max(0, b));
    }
  }
  return out;
}

/** A leaf-like picture: mid-green with veins every 12 px and fine texture, filling the frame. */
function leaf(seed = 1): Float32Array {
  const rand = noise(seed);
  return image((row, col) => {
    const vein = row % 12 === 0 || (row + col) % 29 === 0 ? 0.18 : 0;
    const t = (rand() - 0.5) * 0.12;
    return [0.25 + t + vein, 0.55 + t + vein, 0.2 + t / 2 + vein / 2];
  });
}

function map(pixels: Float32Array, f: (v: number) => number): Float32Array {
  return pixels.map(f);
}

/** Three box blurs of radius r per axis (≈ a Gaussian of σ ≈ r). */
function blur(pixels: Float32Array, radius: number): Float32Array {
  let out = pixels.slice();
  const plane = S * S;
  for (let pass = 0; pass < 3; pass++) {
    for (const horizontal of [true, false]) {
      const next = new Float32Array(out.length);
      for (let c = 0; c < 3; c++) {
        for (let row = 0; row < S; row++) {
          for (let col = 0; col < S; col++) {
            let sum = 0;
            let n = 0;
            for (let k = -radius; k <= radius; k++) {
              const rr = horizontal ? row : row + k;
              const cc = horizontal ? col + k : col;
              if (rr < 0 || rr >= S || cc < 0 || cc >= S) continue;
              sum += out[c * plane + rr * S + cc]!;
              n++;
            }
            next[c * plane + row * S + col] = sum / n;
          }
        }
      }
      out = next;
    }
  }
  return out;
}

describe('photo quality', () => {
  test('a sharp, well-lit leaf filling the frame has no issue', () => {
    const q = assessPhotoQuality(leaf(), S);
    expect(q.issues).toEqual([]);
    expect(q.leafShare).toBeGreaterThan(0.9);
    expect(q.sharpness).toBeGreaterThan(QUALITY_THRESHOLDS.minSharpness * 3);
  });

  test('darkened three stops: too dark, and still sharp (sharpness is contrast-free)', () => {
    const bright = measurePhotoQuality(leaf(), S);
    const dark = assessPhotoQuality(map(leaf(), (v) => v * 0.2), S);
    expect(dark.issues).toContain('too-dark');
    expect(dark.issues).not.toContain('blurred');
    expect(dark.sharpness).toBeCloseTo(bright.sharpness, 3);
  });

  test('blown out: most pixels clipped white is overexposed', () => {
    const over = assessPhotoQuality(map(leaf(), (v) => Math.min(1, v * 4)), S);
    expect(over.issues).toContain('overexposed');
    expect(over.issues).not.toContain('too-dark');
    // A few bright pixels (a sunlit dew drop) are not.
    const dots = leaf();
    for (let i = 0; i < 300; i++) for (let c = 0; c < 3; c++) dots[c * S * S + i * 97] = 1;
    expect(assessPhotoQuality(dots, S).issues).not.toContain('overexposed');
  });

  test('blurred: a Gaussian-like blur of σ ≈ 3 px is caught, the same image unblurred is not', () => {
    const sharp = leaf(7);
    expect(assessPhotoQuality(sharp, S).issues).not.toContain('blurred');
    const soft = assessPhotoQuality(blur(sharp, 3), S);
    expect(soft.issues).toContain('blurred');
    expect(soft.issues).not.toContain('too-dark');
    // A featureless grey frame has no detail to judge at all: blurred too.
    expect(assessPhotoQuality(image(() => [0.6, 0.6, 0.6]), S).issues).toContain('blurred');
  });

  test('leaf too small: a leaf covering 6 % of a grey frame, but not one covering half of it', () => {
    const rand = noise(3);
    const framed = (side: number) => image((row, col) => {
      const inside = Math.abs(row - S / 2) < side / 2 && Math.abs(col - S / 2) < side / 2;
      const t = (rand() - 0.5) * 0.2;
      return inside ? [0.25 + t, 0.55 + t, 0.2 + t] : [0.55 + t, 0.53 + t, 0.5 + t];
    });
    const small = assessPhotoQuality(framed(Math.round(S * 0.25)), S);
    expect(small.leafShare).toBeCloseTo(0.0625, 2);
    expect(small.issues).toEqual(['leaf-too-small']);
    expect(assessPhotoQuality(framed(Math.round(S * 0.72)), S).issues).toEqual([]);
  });

  test('leaf green excludes soil brown, sky blue, grey and black; includes yellow-green and dark green', () => {
    expect(isLeafGreen(0.3, 0.55, 0.2)).toBe(true);
    expect(isLeafGreen(0.55, 0.6, 0.2)).toBe(true); // yellowing leaf
    expect(isLeafGreen(0.08, 0.2, 0.06)).toBe(true); // leaf in shade
    expect(isLeafGreen(0.47, 0.37, 0.27)).toBe(false); // soil
    expect(isLeafGreen(0.5, 0.7, 0.95)).toBe(false); // sky
    expect(isLeafGreen(0.5, 0.52, 0.5)).toBe(false); // grey
    expect(isLeafGreen(0.03, 0.08, 0.02)).toBe(false); // near black
  });

  test('issues follow the thresholds given, one test per measure', () => {
    const base = { brightLuma: 0.7, clippedShare: 0.01, sharpness: 0.3, leafShare: 0.6 };
    expect(qualityIssues(base)).toEqual([]);
    expect(qualityIssues({ ...base, brightLuma: 0.2 })).toEqual(['too-dark']);
    expect(qualityIssues({ ...base, clippedShare: 0.5 })).toEqual(['overexposed']);
    expect(qualityIssues({ ...base, sharpness: 0.001 })).toEqual(['blurred']);
    expect(qualityIssues({ ...base, leafShare: 0.01 })).toEqual(['leaf-too-small']);
    expect(qualityIssues(base, { ...QUALITY_THRESHOLDS, minLeafShare: 0.7 })).toEqual(['leaf-too-small']);
  });

  test('refuses a buffer smaller than 3×S×S', () => {
    expect(() => measurePhotoQuality(new Float32Array(10), S)).toThrow(RangeError);
  });
});
