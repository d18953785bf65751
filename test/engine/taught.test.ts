// Heads taught on the phone (src/engine/model/taught.ts, labels.ts): teaching a class, corrections, the shared
// file and its validation, and the contract's rule for taught labels.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { statisticsJson, type FeatureStatistics } from '../../src/engine/model/domain';
import { validateHead } from '../../src/engine/model/head';
import { classNameProblem, cleanClassName } from '../../src/engine/model/labels';
import { applyHead, ldaHead, openSetThresholdScale, seededNormal, taughtClassScale, taughtClassSpread, TEACH_RULE, withClass, withExample, withTaughtClass } from '../../src/engine/model/teach';
import {
  addExample, headFileText, localExampleCount, readHeadFile, renamedHead, taughtClassesOf, teachClass, type BackboneId, type HeadJson,
} from '../../src/engine/model/taught';

const F = 8;
const BACKBONE: BackboneId = { name: 'test-backbone', sha256: 'a'.repeat(64), features: F };
const normal = seededNormal(11);

/** Raw features around a direction (norm ≈ 20, like LayerNorm outputs). */
function photos(direction: number, count: number): Float64Array[] {
  return Array.from({ length: count }, () => Float64Array.from({ length: F }, (_, f) => 20 * ((f === direction ? 1 : 0) + 0.15 * normal())));
}

function statsOf(classes: Float64Array[][]): FeatureStatistics {
  const unit = classes.map((xs) => xs.map((x) => { const n = Math.hypot(...x); return x.map((v) => v / n); }));
  const classMeans = unit.map((xs) => Float64Array.from({ length: F }, (_, f) => xs.reduce((s, x) => s + x[f]!, 0) / xs.length));
  const scatter = new Float64Array(F * F);
  unit.forEach((xs, c) => xs.forEach((x) => {
    for (let i = 0; i < F; i++) for (let j = 0; j < F; j++) scatter[i * F + j]! += (x[i]! - classMeans[c]![i]!) * (x[j]! - classMeans[c]![j]!);
  }));
  return { classMeans, classCounts: unit.map((xs) => xs.length), scatter, shrinkage: 0.1 };
}

/** A shipped-like head with statistics: three classes along features 0, 1, 2. */
function shippedHead(labels = ['angular_leaf_spot', 'bean_rust', 'healthy']): HeadJson {
  const stats = statsOf(labels.map((_, c) => photos(c % F, 30)));
  const lda = ldaHead(stats, { inputScale: 20 });
  return {
    format: 'leaf-lens-head', contract_version: 1, labels, features: F,
    weight: labels.map((_, c) => Array.from(lda.weight.subarray(c * F, (c + 1) * F))), bias: Array.from(lda.bias),
    backbone_sha256: BACKBONE.sha256, trained: true, created: '2026-11-30T00:00:00Z',
    metrics: { val_accuracy: 0.9 }, calibration: { temperature: 1.5 },
    statistics: statisticsJson(stats), open_set: { score: 'mahalanobis', threshold: 1e6 }, confidence: { min_probability: 0.8 },
  };
}

const manifest = { name: BACKBONE.name, features: F, backbone_sha256: BACKBONE.sha256 };
const top = (head: HeadJson, x: ArrayLike<number>) => {
  const h = validateHead(head, manifest);
  const logits = applyHead({ weight: h.weight, bias: h.bias }, x);
  return h.labels[logits.indexOf(Math.max(...logits))];
};

describe('teaching a class', () => {
  test('the taught class gets the typed name and its photos are recognised; the shipped classes still are', () => {
    const base = shippedHead();
    const frozen = JSON.stringify(base);
    const taught = teachClass(base, BACKBONE, { label: '  Antracnosis   del frijol ', note: 'Quite las hojas.', features: photos(5, 6) });
    expect(JSON.stringify(base)).toBe(frozen); // never changed in place
    expect(taught.labels).toEqual(['angular_leaf_spot', 'bean_rust', 'healthy', 'Antracnosis del frijol']);
    expect(taught.name).toBe('test-backbone + Antracnosis del frijol');
    expect(taught.backbone_name).toBe(BACKBONE.name);
    expect(taughtClassesOf(taught)).toEqual([expect.objectContaining({ label: 'Antracnosis del frijol', note: 'Quite las hojas.', photos: 6 })]);
    const stats = taught.statistics as { class_counts: number[] };
    expect(stats.class_counts).toEqual([30, 30, 30, 6]);
    // The accuracy was measured for the trained rows, not for the rebuilt ones: dropped. The temperature is the
    // teaching rule's (fitted on cross-validated taught heads of the training features), not the shipped rows' 1.5.
    expect(taught.metrics).toBeUndefined();
    expect(taught.calibration).toEqual({ temperature: TEACH_RULE.temperature });
    const fresh = photos(5, 20);
    expect(fresh.filter((x) => top(taught, x) === 'Antracnosis del frijol').length).toBeGreaterThanOrEqual(19);
    expect(photos(1, 20).filter((x) => top(taught, x) === 'bean_rust').length).toBeGreaterThanOrEqual(19);
  });

  test('the stored statistics are the rule\'s: taught mean and count exact, its own scatter weighted by ω', () => {
    const base = shippedHead();
    const features = photos(5, 6);
    const taught = teachClass(base, BACKBONE, { label: 'Mosaico', features });
    const baseStats = validateHead(base, manifest).statistics!;
    const expected = withTaughtClass(baseStats, features, TEACH_RULE);
    const stored = validateHead(taught, manifest).statistics!;
    expect(stored.classCounts).toEqual([30, 30, 30, 6]);
    let worst = 0;
    for (let i = 0; i < expected.scatter.length; i++) worst = Math.max(worst, Math.abs(stored.scatter[i]! - expected.scatter[i]!));
    expect(worst).toBeLessThan(1e-6);
    // ω = (30/6)^γ: with γ > 0 the stored scatter differs from the exactly counted one.
    const exact = withClass(baseStats, features);
    const gap = Math.max(...Array.from(exact.scatter, (v, i) => Math.abs(v - stored.scatter[i]!)));
    if (TEACH_RULE.scatterWeight > 0) expect(gap).toBeGreaterThan(1e-4);
    else expect(gap).toBeLessThan(1e-6);
  });

  test('the open-set threshold follows the statistics: scaled by tr(Σ_after⁻¹Σ_before)/F at each teaching and correction', () => {
    const base = shippedHead();
    const baseStats = validateHead(base, manifest).statistics!;
    const features = photos(5, 6);
    const once = teachClass(base, BACKBONE, { label: 'Mosaico', features });
    const onceStats = validateHead(once, manifest).statistics!;
    const threshold = (h: HeadJson) => (h.open_set as { threshold: number }).threshold;
    const r1 = openSetThresholdScale(baseStats, withTaughtClass(baseStats, features, TEACH_RULE));
    expect(threshold(once) / 1e6).toBeCloseTo(r1, 6);
    expect((once.open_set as { score: string }).score).toBe('mahalanobis');
    if (TEACH_RULE.scatterWeight > 0) expect(r1).toBeLessThan(1); // the weighted scatter widens Σ: a tighter threshold
    // A second class and a correction each scale the head's own threshold again (from its own statistics).
    const more = photos(6, 5);
    const twice = teachClass(once, BACKBONE, { label: 'Kutu', features: more });
    expect(threshold(twice) / threshold(once)).toBeCloseTo(openSetThresholdScale(onceStats, withTaughtClass(onceStats, more, TEACH_RULE)), 5);
    const x = photos(1, 1)[0]!;
    const corrected = addExample(once, BACKBONE, 1, x);
    expect(threshold(corrected) / threshold(once)).toBeCloseTo(openSetThresholdScale(onceStats, withExample(onceStats, 1, x)), 5);
    // The teach margin is a multiple of the threshold: it stays as it is through teaching and corrections.
    const margined = { ...base, open_set: { ...(base.open_set as object), teach_margin: 2.2 } };
    const taughtOnce = teachClass(margined, BACKBONE, { label: 'Mosaico', features });
    expect((taughtOnce.open_set as { teach_margin: number }).teach_margin).toBe(2.2);
    expect((addExample(taughtOnce, BACKBONE, 1, x).open_set as { teach_margin: number }).teach_margin).toBe(2.2);
    // A head without an open-set rule gets none.
    const { open_set: _o, ...unchecked } = base;
    expect(teachClass(unchecked, BACKBONE, { label: 'Mosaico', features }).open_set).toBeUndefined();
  });

  test('the shared fixture pair (checked by the Python side too) carries the contract\'s threshold', () => {
    // test/fixtures/teach/threshold-pair.json: made by this engine's teachClass (make-threshold-pair.ts);
    // model/tests/test_domain.py checks the same pair with numpy.
    const pair = JSON.parse(readFileSync('test/fixtures/teach/threshold-pair.json', 'utf8')) as { base: HeadJson; taught: HeadJson };
    const m = { name: 'test-fixture-backbone', features: 8, backbone_sha256: 'b'.repeat(64) };
    const before = validateHead(pair.base, m).statistics!;
    const after = validateHead(pair.taught, m).statistics!;
    const threshold = (h: HeadJson) => (h.open_set as { threshold: number }).threshold;
    expect(threshold(pair.taught) / threshold(pair.base)).toBeCloseTo(openSetThresholdScale(before, after), 6);
  });

  test('the taught class\'s distance is divided by (1 + 1/k)·max(1, its spread); corrections keep the spread and follow the count', () => {
    const pair = JSON.parse(readFileSync('test/fixtures/teach/threshold-pair.json', 'utf8')) as { base: HeadJson; taught: HeadJson; taught_photos: number[][]; probes: number[][]; taught_scores: number[] };
    const m = { name: 'test-fixture-backbone', features: 8, backbone_sha256: 'b'.repeat(64) };
    const backbone = { name: m.name, sha256: m.backbone_sha256, features: 8 };
    const counts = (pair.taught.statistics as { class_counts: number[] }).class_counts;
    const before = validateHead(pair.base, m).statistics!;
    const after = validateHead(pair.taught, m).statistics!;
    const r = openSetThresholdScale(before, after);
    const openSet = (h: HeadJson) => h.open_set as { class_scale: number[]; reference_d2: number };
    // The reference d² moves with the threshold; the spread is measured on the taught photos under the taught head.
    expect(openSet(pair.taught).reference_d2).toBeCloseTo(openSet(pair.base).reference_d2 * r, 5);
    const spread = taughtClassSpread(after, pair.taught_photos, openSet(pair.taught).reference_d2);
    expect(spread).toBeGreaterThan(1.2); // the fixture's taught class varies more than the known ones
    const scale = (1 + 1 / counts[3]!) * spread;
    expect(openSet(pair.taught).class_scale.slice(0, 3)).toEqual([1, 1, 1]);
    expect(openSet(pair.taught).class_scale[3]).toBeCloseTo(scale, 5);
    const scaled = validateHead(pair.taught, m).domain.openSet!;
    const { class_scale: _s, ...plainRule } = pair.taught.open_set as Record<string, unknown>;
    const plain = validateHead({ ...pair.taught, open_set: plainRule }, m).domain.openSet!;
    // Photos of the taught class (probes 0, 1): their nearest class is the taught one, so the score is d² / scale.
    for (const x of pair.probes.slice(0, 2)) expect(scaled.score(x)).toBeCloseTo(plain.score(x) / scale, 4);
    // A photo of a known class: its own class is nearest either way; nothing changes.
    expect(scaled.score(pair.probes[2]!)).toBeCloseTo(plain.score(pair.probes[2]!), 9);
    pair.probes.forEach((x, i) => expect(scaled.score(x)).toBeCloseTo(pair.taught_scores[i]!, 5));
    // A correction of the taught class: the spread stays, the count grows; one of a known class keeps theirs at 1.
    const corrected = addExample(pair.taught, backbone, 3, pair.probes[0]!);
    expect(openSet(corrected).class_scale[3]).toBeCloseTo((1 + 1 / (counts[3]! + 1)) * spread, 5);
    const known = addExample(pair.taught, backbone, 0, pair.probes[2]!);
    expect(openSet(known).class_scale.slice(0, 3)).toEqual([1, 1, 1]);
    expect(openSet(known).class_scale[3]).toBeCloseTo(scale, 5);
    // Without a reference (an older head) or from one photo, the spread is not measured: 1 + 1/k as before.
    const { reference_d2: _ref, ...noReference } = pair.base.open_set as Record<string, unknown>;
    const old = teachClass({ ...pair.base, open_set: noReference }, backbone, { label: 'Mosaico', features: pair.taught_photos });
    expect(openSet(old).class_scale[3]).toBeCloseTo(1 + 1 / counts[3]!, 6);
    expect(openSet(old).reference_d2).toBeUndefined();
    const single = teachClass(pair.base, backbone, { label: 'Mosaico', features: pair.taught_photos.slice(0, 1) });
    expect(openSet(single).class_scale[3]).toBeCloseTo(2, 6);
  });

  test('a class that varies less than the known ones is not made stricter; reference_d2 must be a positive number', () => {
    const pair = JSON.parse(readFileSync('test/fixtures/teach/threshold-pair.json', 'utf8')) as { base: HeadJson; taught_photos: number[][] };
    const m = { name: 'test-fixture-backbone', features: 8, backbone_sha256: 'b'.repeat(64) };
    const backbone = { name: m.name, sha256: m.backbone_sha256, features: 8 };
    // The same photos pulled halfway to their mean vary a quarter as much: spread < 1, scale stays 1 + 1/k.
    const mean = pair.taught_photos[0]!.map((_, f) => pair.taught_photos.reduce((s, x) => s + x[f]!, 0) / pair.taught_photos.length);
    const tight = pair.taught_photos.map((x) => x.map((v, f) => 0.5 * v + 0.5 * mean[f]!));
    const head = teachClass(pair.base, backbone, { label: 'Mosaico', features: tight });
    const stats = validateHead(head, m).statistics!;
    expect(taughtClassSpread(stats, tight, (head.open_set as { reference_d2: number }).reference_d2)).toBeLessThan(1);
    expect((head.open_set as { class_scale: number[] }).class_scale[3]).toBeCloseTo(1 + 1 / tight.length, 6);
    expect(() => taughtClassScale(5, -1)).toThrow(/spread/);
    expect(() => taughtClassScale(5, Number.NaN)).toThrow(/spread/);
    // Five copies of one photo: no spread at all; the class is still taught, with the room of 1 + 1/k.
    const copies = Array.from({ length: 5 }, () => pair.taught_photos[0]!);
    const fromCopies = teachClass(pair.base, backbone, { label: 'Mosaico', features: copies });
    expect((fromCopies.open_set as { class_scale: number[] }).class_scale[3]).toBeCloseTo(1.2, 6);
    expect(() => taughtClassSpread(stats, tight.slice(0, 1), 1)).toThrow(/2 photos/);
    for (const bad of [0, -1, Number.NaN, '3']) {
      expect(() => validateHead({ ...pair.base, open_set: { ...(pair.base.open_set as object), reference_d2: bad } }, m)).toThrow(expect.objectContaining({ code: 'head-invalid', detail: expect.stringMatching(/reference_d2/) }));
    }
  });

  test('open_set.class_scale must be one finite positive number per class', () => {
    const pair = JSON.parse(readFileSync('test/fixtures/teach/threshold-pair.json', 'utf8')) as { taught: HeadJson };
    const m = { name: 'test-fixture-backbone', features: 8, backbone_sha256: 'b'.repeat(64) };
    for (const bad of [[1, 1, 1], [1, 1, 1, 0], [1, 1, 1, -2], [1, 1, 1, 'x'], 1.1]) {
      expect(() => validateHead({ ...pair.taught, open_set: { ...(pair.taught.open_set as object), class_scale: bad } }, m)).toThrow(expect.objectContaining({ code: 'head-invalid', detail: expect.stringMatching(/class_scale/) }));
    }
  });

  test('a second class is taught onto a taught head', () => {
    const once = teachClass(shippedHead(), BACKBONE, { label: 'Mosaico', features: photos(4, 5) });
    const twice = teachClass(once, BACKBONE, { label: 'Kutu', features: photos(6, 5), name: 'Shamba langu' });
    expect(twice.labels.slice(3)).toEqual(['Mosaico', 'Kutu']);
    expect(twice.name).toBe('Shamba langu');
    expect(taughtClassesOf(twice).map((c) => c.label)).toEqual(['Mosaico', 'Kutu']);
    expect(photos(6, 10).every((x) => top(twice, x) === 'Kutu')).toBe(true);
  });

  test('bad names, no photos, no statistics and too many classes are refused with their own codes', () => {
    const base = shippedHead();
    expect(() => teachClass(base, BACKBONE, { label: '   ', features: photos(5, 5) })).toThrow(expect.objectContaining({ detail: expect.stringMatching(/empty/) }));
    expect(() => teachClass(base, BACKBONE, { label: 'Bean Rust', features: photos(5, 5) })).toThrow(expect.objectContaining({ detail: expect.stringMatching(/duplicate/) }));
    expect(() => teachClass(base, BACKBONE, { label: 'Roya', features: photos(5, 5), reservedNames: ['Roya'] })).toThrow(expect.objectContaining({ detail: expect.stringMatching(/duplicate/) }));
    expect(() => teachClass(base, BACKBONE, { label: 'x', features: [] })).toThrow(expect.objectContaining({ detail: expect.stringMatching(/no photos/) }));
    const { statistics: _s, open_set: _o, ...plain } = base;
    expect(() => teachClass(plain, BACKBONE, { label: 'x', features: photos(5, 5) })).toThrow(expect.objectContaining({ code: 'head-no-statistics' }));
    const full = shippedHead(Array.from({ length: 20 }, (_, i) => `class_${i}`));
    expect(() => teachClass(full, BACKBONE, { label: 'one more', features: photos(5, 5) })).toThrow(expect.objectContaining({ code: 'head-too-many-classes' }));
  });
});

describe('class names', () => {
  test('cleaned: NFC, one space, trimmed', () => {
    expect(cleanClassName('  Ma\u0301ncha\t\tangular ')).toBe('Máncha angular');
  });

  test.each([
    ['', 'empty'],
    ['x'.repeat(41), 'too-long'],
    ['tab\u0007bell', 'control-characters'],
    ['zero\u200bwidth', 'control-characters'],
    ['HEALTHY', 'duplicate'],
    ['bean rust', 'duplicate'],
    ['Roya del frijol', 'duplicate'],
    ['roya del fríjol', 'duplicate'],
  ])('%j → %s', (name, problem) => {
    expect(classNameProblem(name, ['healthy', 'bean_rust', 'Roya del frijol'])).toBe(problem);
  });

  test('any language, up to 40 code points', () => {
    expect(classNameProblem('Ugonjwa wa madoa', ['healthy'])).toBeNull();
    expect(classNameProblem('豆炭疽病', ['healthy'])).toBeNull();
    expect(classNameProblem('😀'.repeat(40), ['healthy'])).toBeNull();
  });
});

describe('corrections', () => {
  test('a corrected photo is added to its class of a copy, counted as a local example', () => {
    const base = shippedHead();
    const frozen = JSON.stringify(base);
    const x = photos(2, 1)[0]!;
    const corrected = addExample(base, BACKBONE, 2, x);
    expect(JSON.stringify(base)).toBe(frozen);
    expect((corrected.statistics as { class_counts: number[] }).class_counts).toEqual([30, 30, 31]);
    expect(localExampleCount(corrected)).toBe(1);
    const again = addExample(corrected, BACKBONE, 0, photos(0, 1)[0]!);
    expect(localExampleCount(again)).toBe(2);
    expect((again.taught as { local_examples: Record<string, number> }).local_examples).toEqual({ healthy: 1, angular_leaf_spot: 1 });
    expect(() => addExample(base, BACKBONE, 3, x)).toThrow(expect.objectContaining({ detail: expect.stringMatching(/outside/) }));
  });
});

describe('the shared file', () => {
  const taught = teachClass(shippedHead(), BACKBONE, { label: 'Antracnosis', note: 'Consejo del técnico', features: photos(5, 5) });

  test('round trip keeps every field, names the backbone', () => {
    const text = headFileText(renamedHead(taught, ' Finca  Norte '), BACKBONE);
    const back = readHeadFile(text, BACKBONE);
    expect(back.name).toBe('Finca Norte');
    expect(back.backbone_name).toBe(BACKBONE.name);
    expect(back.backbone_sha256).toBe(BACKBONE.sha256);
    expect(back.features).toBe(F);
    expect(back.weight).toEqual(taught.weight);
    expect(taughtClassesOf(back)[0]!.note).toBe('Consejo del técnico');
  });

  const text = headFileText(taught, BACKBONE);
  const edited = (edit: (json: Record<string, unknown>) => void) => {
    const json = JSON.parse(text) as Record<string, unknown>;
    edit(json);
    return JSON.stringify(json);
  };
  test.each([
    ['corrupt JSON', text.slice(0, text.length / 2), 'head-corrupt'],
    ['another backbone (sha256)', edited((j) => { j.backbone_sha256 = 'b'.repeat(64); }), 'head-mismatch'],
    ['another backbone (name)', edited((j) => { j.backbone_name = 'deit-small-maize'; }), 'head-mismatch'],
    ['another feature size', edited((j) => { j.features = 16; j.weight = (j.weight as number[][]).map((r) => [...r, ...r]); }), 'head-mismatch'],
    ['a NaN written as null', edited((j) => { (j.weight as (number | null)[][])[1]![3] = null; }), 'head-not-finite'],
    ['a NaN written as a string', edited((j) => { (j.bias as unknown[])[0] = 'NaN'; }), 'head-not-finite'],
    ['a row too short', edited((j) => { (j.weight as number[][])[0]!.pop(); }), 'head-invalid'],
    ['statistics of the wrong size', edited((j) => { (j.statistics as { class_means: number[][] }).class_means.pop(); }), 'head-invalid'],
    ['a free-text label not listed as taught', edited((j) => { (j.labels as string[])[0] = 'Mancha angular'; }), 'head-invalid'],
    ['50 classes', edited((j) => { j.labels = Array.from({ length: 50 }, (_, i) => `c${i}`); }), 'head-too-many-classes'],
  ])('%s → %s', (_, file, code) => {
    expect(() => readHeadFile(file, BACKBONE)).toThrow(expect.objectContaining({ code }));
  });
});
