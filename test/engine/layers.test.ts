// src/engine/model/layers.ts (the open-set score over intermediate blocks) against model/layers.py: the shared
// reference test/fixtures/layers/reference.json (python model/layers.py writes it), the shipped head, and the
// contract's rules for `layer_statistics`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { judgeDiagnosis } from '../../src/engine/model/domain';
import { validateHead } from '../../src/engine/model/head';
import { addLayerPhotos, layerScorer, layerStatisticsJson, logNormalSf, parseLayerStatistics } from '../../src/engine/model/layers';

interface Reference {
  layers: number; width: number; layer_statistics: Record<string, unknown>;
  photos: number[][]; scores: number[]; added: number[][]; scores_after_adding: number[];
}
const ROOT = process.cwd();
const reference = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/layers/reference.json'), 'utf8')) as Reference;
const readJson = (path: string) => JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as Record<string, unknown>;

const relativeError = (a: number, b: number) => Math.abs(a - b) / Math.max(1e-12, Math.abs(b));

describe('layer open-set score', () => {
  test('log P(Z > z) matches erfc where it does not underflow, and stays finite beyond', () => {
    // Values of log(0.5·erfc(z/√2)) from Python's math.erfc.
    const cases: [number, number][] = [[-3, -0.0013508099647482027], [0, -0.6931471805599453], [1, -1.8410216450092634], [5, -15.064998393988724], [10, -53.23128515051247]];
    for (const [z, want] of cases) expect(Math.abs(logNormalSf(z) - want), `z = ${z}`).toBeLessThan(2e-7 * Math.max(1, Math.abs(want)));
    expect(Number.isFinite(logNormalSf(60))).toBe(true);
    expect(logNormalSf(60)).toBeLessThan(-1800);
  });

  test('scores equal the Python reference (Fisher over rows, float32 head)', () => {
    const stats = parseLayerStatistics(reference.layer_statistics, reference.layers, reference.width);
    const scorer = layerScorer(stats);
    expect(scorer.threshold).toBe(10);
    reference.photos.forEach((photo, i) => {
      expect(relativeError(scorer.score(photo), reference.scores[i]!), `photo ${i}`).toBeLessThan(1e-9);
    });
    // The reference has in-domain and shifted photos on both sides of its threshold: the check can fail.
    expect(Math.min(...reference.scores)).toBeLessThan(10);
    expect(Math.max(...reference.scores)).toBeGreaterThan(10);
  });

  test('pooling photos in (teaching, corrections) equals statistics computed from all raw rows', () => {
    const stats = parseLayerStatistics(reference.layer_statistics, reference.layers, reference.width);
    const pooled = addLayerPhotos(stats, reference.added);
    expect(pooled.rows.map((r) => r.count)).toEqual(stats.rows.map((r) => r.count + reference.added.length));
    const scorer = layerScorer(pooled);
    reference.photos.forEach((photo, i) => {
      expect(relativeError(scorer.score(photo), reference.scores_after_adding[i]!), `photo ${i}`).toBeLessThan(1e-5);
    });
    // Adding photos changed the scores (the comparison is not vacuous) and left the input untouched.
    expect(Math.abs(scorer.score(reference.photos[0]!) - reference.scores[0]!)).toBeGreaterThan(0.1);
    expect(relativeError(layerScorer(stats).score(reference.photos[0]!), reference.scores[0]!)).toBeLessThan(1e-9);
  });

  test('head.json encoding round-trips (what a taught head saves)', () => {
    const stats = addLayerPhotos(parseLayerStatistics(reference.layer_statistics, reference.layers, reference.width), reference.added);
    const again = parseLayerStatistics(JSON.parse(JSON.stringify(layerStatisticsJson(stats))), reference.layers, reference.width);
    reference.photos.forEach((photo) => {
      expect(relativeError(layerScorer(again).score(photo), layerScorer(stats).score(photo))).toBeLessThan(1e-5);
    });
    expect(again.teachMargin).toBeUndefined();
    // The teach margin travels with the statistics (a correction re-encodes them).
    const withMargin = parseLayerStatistics({ ...reference.layer_statistics, teach_margin: 2.5 }, reference.layers, reference.width);
    expect(layerScorer(withMargin).teachMargin).toBe(2.5);
    expect(layerStatisticsJson(addLayerPhotos(withMargin, reference.added)).teach_margin).toBe(2.5);
  });

  test('broken layer_statistics are refused with the rule they break', () => {
    const field = reference.layer_statistics;
    const rows = field.rows as Record<string, unknown>[];
    const cases: [unknown, RegExp][] = [
      [{ ...field, score: 'mahalanobis' }, /score/],
      [{ ...field, threshold: 'x' }, /threshold/],
      [{ ...field, rows: [] }, /non-empty/],
      [{ ...field, rows: [rows[0], rows[0]] }, /distinct/],
      [{ ...field, rows: [{ ...rows[0], row: 2 * reference.layers }] }, /distinct integer/],
      [{ ...field, rows: [{ ...rows[0], mean: 'AAAAAA==' }] }, /mean has 1 numbers, expected/],
      [{ ...field, rows: [{ ...rows[0], scatter_upper: '%%%' }] }, /base64/],
      [{ ...field, rows: [{ ...rows[0], log_d2_sd: 0 }] }, /log_d2_sd/],
      [{ ...field, rows: [{ ...rows[0], count: 1 }] }, /count/],
      [{ ...field, rows: [{ ...rows[0], shrinkage: 0 }] }, /shrinkage/],
      [{ ...field, teach_margin: 0.5 }, /teach_margin/],
      [{ ...field, teach_margin: '2' }, /teach_margin/],
      [{ ...field, teach_margin: Number.POSITIVE_INFINITY }, /teach_margin/],
      [{ ...field, threshold: -1, teach_margin: 2 }, /teach_margin/],
    ];
    for (const [bad, message] of cases) expect(() => parseLayerStatistics(bad, reference.layers, reference.width)).toThrow(message);
    expect(() => parseLayerStatistics(field, reference.layers + 1, reference.width)).toThrow(/layers/);
  });
});

describe('heads with and without layer statistics', () => {
  const manifest = readJson('public/models/deit-tiny-beans/manifest.json') as unknown as { features: number; backbone_sha256: string; name: string; layers: number; embed_dim: number };
  const shipped = readJson('public/models/deit-tiny-beans/head.json');

  test('the shipped head carries the rule chosen on the dev set, and the engine builds its scorer', () => {
    const head = validateHead(shipped, manifest);
    expect(head.layerStatistics?.rows.map((r) => r.row)).toEqual([17, 18, 9, 10, 11]);
    expect(head.domain.layers?.threshold).toBe((shipped.layer_statistics as { threshold: number }).threshold);
    expect(head.domain.openSet).toBeDefined(); // the CLS rule stays for runs without layer_features
    // Without the manifest (a taught head's check) the width comes from the stored means.
    expect(validateHead(shipped, { features: manifest.features, backbone_sha256: manifest.backbone_sha256 }).layerStatistics?.width).toBe(manifest.embed_dim);
    expect(() => validateHead(shipped, { ...manifest, embed_dim: manifest.embed_dim + 1 }))
      .toThrow(expect.objectContaining({ code: 'head-invalid', detail: expect.stringMatching(/has 18528 numbers, expected 18721/) }));
  });

  test('a head without layer_statistics still judges by the CLS rule; with them, layer_features decide', () => {
    const { layer_statistics: _dropped, ...older } = shipped;
    const plain = validateHead(older, manifest);
    expect(plain.layerStatistics).toBeUndefined();
    expect(plain.domain.layers).toBeUndefined();
    const head = validateHead(shipped, manifest);
    const features = new Float32Array(manifest.features).fill(0.1);
    const logits = [2, 0, 0];
    const cls = judgeDiagnosis(plain.domain, logits, features, 0, new Float32Array(2 * manifest.layers * manifest.embed_dim));
    const clsThreshold = (shipped.open_set as { threshold: number }).threshold;
    expect(cls.domain).toMatchObject({ checked: true, threshold: clsThreshold });
    // A constant layer_features vector is far from every bean leaf: refused by the layer rule.
    const layered = judgeDiagnosis(head.domain, logits, features, 0, new Float32Array(2 * manifest.layers * manifest.embed_dim).fill(1));
    expect(layered.domain).toMatchObject({ checked: true, threshold: head.domain.layers!.threshold, inDomain: false });
    expect(layered.outcome).toBe('not-bean-leaf');
    // Without layer_features (an old graph), the same head falls back to the CLS rule.
    expect(judgeDiagnosis(head.domain, logits, features, 0).domain).toMatchObject({ checked: true, threshold: clsThreshold });
  });

  test('the shipped head lets teaching accept photos up to its teach margins beyond each rule\'s threshold', () => {
    const head = validateHead(shipped, manifest);
    const layerMargin = (shipped.layer_statistics as { teach_margin: number }).teach_margin;
    const clsMargin = (shipped.open_set as { teach_margin: number }).teach_margin;
    expect(layerMargin).toBeGreaterThan(1);
    expect(clsMargin).toBeGreaterThan(1);
    const features = new Float32Array(manifest.features).fill(0.1);
    const layered = judgeDiagnosis(head.domain, [2, 0, 0], features, 0, new Float32Array(2 * manifest.layers * manifest.embed_dim).fill(1));
    expect(layered.domain).toMatchObject({ checked: true, teachThreshold: head.domain.layers!.threshold * layerMargin });
    const cls = judgeDiagnosis(head.domain, [2, 0, 0], features, 0);
    expect(cls.domain).toMatchObject({ checked: true, teachThreshold: (shipped.open_set as { threshold: number }).threshold * clsMargin });
    for (const bad of [0.99, Number.NaN, '2']) {
      expect(() => validateHead({ ...shipped, open_set: { ...(shipped.open_set as object), teach_margin: bad } }, manifest))
        .toThrow(expect.objectContaining({ code: 'head-invalid', detail: expect.stringMatching(/teach_margin/) }));
    }
  });
});
