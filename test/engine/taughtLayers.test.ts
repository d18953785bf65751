// Corrections keep a head's layer open-set statistics in step (src/engine/model/taught.ts + layers.ts): the photo's
// layer_features are pooled in; a taught head drops them and judges by the CLS rule (docs/model-contract.md).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { statisticsJson } from '../../src/engine/model/domain';
import { validateHead } from '../../src/engine/model/head';
import { ldaHead, seededNormal } from '../../src/engine/model/teach';
import { addExample, teachClass, type BackboneId, type HeadJson } from '../../src/engine/model/taught';

interface Reference { layers: number; width: number; layer_statistics: Record<string, unknown>; photos: number[][]; added: number[][] }
const reference = JSON.parse(readFileSync(join(process.cwd(), 'test/fixtures/layers/reference.json'), 'utf8')) as Reference;

const F = 8;
const BACKBONE: BackboneId = { name: 'test-backbone', sha256: 'b'.repeat(64), features: F };
const normal = seededNormal(5);
const photos = (direction: number, count: number) =>
  Array.from({ length: count }, () => Float64Array.from({ length: F }, (_, f) => 20 * ((f === direction ? 1 : 0) + 0.15 * normal())));

/** Three classes of CLS statistics, plus the reference's layer_statistics (3 blocks, width 8). */
function baseHead(): HeadJson {
  const classes = [photos(0, 30), photos(1, 30), photos(2, 30)].map((xs) => xs.map((x) => { const n = Math.hypot(...x); return x.map((v) => v / n); }));
  const classMeans = classes.map((xs) => Float64Array.from({ length: F }, (_, f) => xs.reduce((s, x) => s + x[f]!, 0) / xs.length));
  const scatter = new Float64Array(F * F);
  classes.forEach((xs, c) => xs.forEach((x) => { for (let i = 0; i < F; i++) for (let j = 0; j < F; j++) scatter[i * F + j]! += (x[i]! - classMeans[c]![i]!) * (x[j]! - classMeans[c]![j]!); }));
  const stats = { classMeans, classCounts: [30, 30, 30], scatter, shrinkage: 0.1 };
  const lda = ldaHead(stats, { inputScale: 20 });
  return {
    format: 'leaf-lens-head', contract_version: 1, labels: ['angular_leaf_spot', 'bean_rust', 'healthy'], features: F,
    weight: [0, 1, 2].map((c) => Array.from(lda.weight.subarray(c * F, (c + 1) * F))), bias: Array.from(lda.bias),
    backbone_sha256: BACKBONE.sha256, trained: true, created: '2026-12-01T00:00:00Z', calibration: { temperature: 1 },
    statistics: statisticsJson(stats), open_set: { score: 'mahalanobis', threshold: 1e6 }, layer_statistics: reference.layer_statistics,
  };
}
const manifest = { name: BACKBONE.name, features: F, backbone_sha256: BACKBONE.sha256, layers: reference.layers, embed_dim: reference.width };
const layerScore = (head: HeadJson, x: number[]) => validateHead(head, manifest).domain.layers!.score(x);

describe('layer statistics of taught and corrected heads', () => {
  test('a correction pools its one photo into every row: it scores lower than before, counts grow by 1', () => {
    const base = baseHead();
    const corrected = addExample(base, BACKBONE, 1, photos(1, 1)[0]!, reference.added[0]);
    const before = validateHead(base, manifest).layerStatistics!;
    const after = validateHead(corrected, manifest).layerStatistics!;
    expect(after.rows.map((r) => r.count)).toEqual(before.rows.map((r) => r.count + 1));
    expect(after.threshold).toBe(before.threshold);
    expect(layerScore(corrected, reference.added[0]!)).toBeLessThan(layerScore(base, reference.added[0]!));
    // Two corrections in a row pool both photos.
    const twice = addExample(corrected, BACKBONE, 2, photos(2, 1)[0]!, reference.added[1]);
    expect(validateHead(twice, manifest).layerStatistics!.rows[0]!.count).toBe(before.rows[0]!.count + 2);
  });

  test('teaching a new class: the taught head judges by the CLS rule (layer Gaussians barely move with k photos)', () => {
    const taught = teachClass(baseHead(), BACKBONE, { label: 'Antracnosis', features: photos(5, 3) });
    expect('layer_statistics' in taught).toBe(false);
    const parsed = validateHead(taught, manifest);
    expect(parsed.domain.layers).toBeUndefined();
    expect(parsed.domain.openSet).toBeDefined();
    // And a correction of that taught head stays without them.
    expect('layer_statistics' in addExample(taught, BACKBONE, 3, photos(5, 1)[0]!, reference.added[0])).toBe(false);
  });

  test('a correction without layer_features (an older graph) drops layer_statistics: the CLS rule judges', () => {
    const head = addExample(baseHead(), BACKBONE, 0, photos(0, 1)[0]!);
    expect('layer_statistics' in head).toBe(false);
    const parsed = validateHead(head, manifest);
    expect(parsed.domain.layers).toBeUndefined();
    expect(parsed.domain.openSet).toBeDefined();
  });
});
