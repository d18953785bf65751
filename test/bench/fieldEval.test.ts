// The field evaluations' pure parts: degradations do what their names say, quality summaries count the right
// things, group draws are seeded, of one class, and combine with the engine's maths.
import { describe, expect, test } from 'vitest';
import { background, blurred, degrade, DEGRADATIONS, exposed, shrunkInto, type Rgba } from '../../bench/lib/degrade';
import { evaluateGroups, groupTableMarkdown, qualityTableMarkdown, replaceBetweenMarkers, summariseQuality, type LeafRecord } from '../../bench/lib/fieldEval';

function solid(width: number, height: number, rgb: [number, number, number]): Rgba {
  const data = new Uint8ClampedArray(4 * width * height);
  for (let i = 0; i < width * height; i++) data.set([...rgb, 255], 4 * i);
  return { data, width, height };
}

describe('degradations', () => {
  test('exposure in linear light: −1 stop halves linear intensity, +stops clip at white, alpha kept', () => {
    const grey = solid(4, 4, [188, 188, 188]); // ≈ 0.5 linear
    const darker = exposed(grey, -1).data;
    expect(darker[0]).toBeGreaterThan(130);
    expect(darker[0]).toBeLessThan(140); // 0.25 linear ≈ 137 sRGB
    expect(exposed(grey, 3).data[0]).toBe(255);
    expect(exposed(grey, 3).data[3]).toBe(255);
  });

  test('blur keeps the mean and softens an edge', () => {
    const edge = solid(32, 8, [0, 0, 0]);
    for (let y = 0; y < 8; y++) for (let x = 16; x < 32; x++) edge.data.set([255, 255, 255], 4 * (y * 32 + x));
    const soft = blurred(edge, 2).data;
    const at = (x: number) => soft[4 * (4 * 32 + x)]!;
    expect(at(15)).toBeGreaterThan(60);
    expect(at(16)).toBeLessThan(200);
    expect(at(0)).toBe(0);
    expect(at(31)).toBe(255);
  });

  test('the leaf shrunk into a background keeps the frame size and covers level² of it', () => {
    const green = solid(100, 100, [40, 160, 40]);
    const out = shrunkInto(green, 0.3, 'concrete');
    expect([out.width, out.height]).toEqual([100, 100]);
    let greenPixels = 0;
    for (let i = 0; i < 100 * 100; i++) if (out.data[4 * i + 1] === 160 && out.data[4 * i] === 40) greenPixels++;
    expect(greenPixels).toBe(900);
  });

  test('backgrounds are deterministic and differ by kind', () => {
    expect(background('soil', 8, 8, 3).data).toEqual(background('soil', 8, 8, 3).data);
    expect(background('soil', 8, 8, 3).data).not.toEqual(background('sky', 8, 8, 3).data);
    for (const d of DEGRADATIONS) expect(degrade(solid(16, 16, [60, 140, 50]), d).width).toBe(16);
  });
});

describe('summaries', () => {
  test('quality: false alarms per issue, detection of the expected issue per degradation', () => {
    const base = { brightLuma: 0.7, clippedShare: 0, sharpness: 0.3, leafShare: 0.6 };
    const d = DEGRADATIONS.filter((x) => x.name === 'darkened 3 stops' || x.name === 'blurred σ = 1 % of side');
    const summary = summariseQuality([
      { path: 'a', clean: { ...base, issues: [] }, degraded: { 'darkened 3 stops': ['too-dark'], 'blurred σ = 1 % of side': ['too-dark'] } },
      { path: 'b', clean: { ...base, issues: ['blurred'] }, degraded: { 'darkened 3 stops': ['too-dark', 'blurred'], 'blurred σ = 1 % of side': ['blurred'] } },
    ], d);
    expect(summary.falseAlarms).toBe(1);
    expect(summary.falseAlarmsByIssue.blurred).toBe(1);
    expect(summary.degradations.map((x) => [x.detected, x.anyIssue])).toEqual([[2, 2], [1, 2]]);
    expect(qualityTableMarkdown(summary)).toContain('| darkened 3 stops | too-dark | 2/2 (100.0 %) | 2/2 |');
  });

  test('quality with the model: right answers and sure-but-wrong ones per copy, the clean photos as reference', () => {
    const base = { brightLuma: 0.7, clippedShare: 0, sharpness: 0.3, leafShare: 0.6, issues: [] };
    const d = DEGRADATIONS.filter((x) => x.name === 'darkened 3 stops');
    const summary = summariseQuality([
      { path: 'a', clean: base, degraded: { 'darkened 3 stops': ['too-dark'] }, label: 1,
        answers: { clean: { top: 1, outcome: 'sure' }, 'darkened 3 stops': { top: 0, outcome: 'unsure' } } },
      { path: 'b', clean: base, degraded: { 'darkened 3 stops': [] }, label: 2,
        answers: { clean: { top: 2, outcome: 'sure' }, 'darkened 3 stops': { top: 1, outcome: 'sure' } } },
      { path: 'c', clean: base, degraded: { 'darkened 3 stops': [] }, label: 0,
        answers: { clean: { top: 1, outcome: 'unsure' }, 'darkened 3 stops': { top: 0, outcome: 'not-bean-leaf' } } },
    ], d);
    expect(summary.cleanAnswers).toEqual({ answered: 3, right: 2, sureWrong: 0 });
    expect(summary.degradations[0]!.answers).toEqual({ answered: 3, right: 1, sureWrong: 1 });
    const table = qualityTableMarkdown(summary);
    expect(table).toContain('| (the clean photos) | – | – | 0/3 | 2/3 (66.7 %) | 0 |');
    expect(table).toContain('| darkened 3 stops | too-dark | 1/3 (33.3 %) | 1/3 | 1/3 (33.3 %) | 1 |');
    // Without answers the table keeps its four columns.
    expect(qualityTableMarkdown(summariseQuality([{ path: 'a', clean: base, degraded: { 'darkened 3 stops': [] } }], d))).not.toContain('sure and wrong');
  });

  test('groups: seeded, one class per group, combined by the engine; sure leaves that agree stay right', () => {
    const records: LeafRecord[] = [];
    for (let label = 0; label < 3; label++) {
      for (let k = 0; k < 5; k++) {
        const p = [0.1, 0.1, 0.1];
        p[label] = k === 0 ? 0.05 : 0.8; // one wrong photo per class
        if (k === 0) p[(label + 1) % 3] = 0.85;
        records.push({ path: `${label}/${k}`, label, probabilities: p, outcome: k === 0 ? 'unsure' : 'sure' });
      }
    }
    const options = { draws: 500, groupSize: 3, seed: 7, rule: { minProbability: 0.6, minLeaves: 2 } };
    const a = evaluateGroups(records, options);
    expect(evaluateGroups(records, options)).toEqual(a);
    expect(a.singleAllPhotos.accuracy).toBeCloseTo(12 / 15, 6);
    // A group of three has at most one wrong leaf, outvoted by two confident right ones.
    expect(a.group.accuracy).toBe(1);
    expect(a.group.answers).toBe(500);
    expect(groupTableMarkdown(a)).toMatch(/\| group of 3 leaves \(the app: mean of log-probabilities\) \| 500 \| 100\.0 % \|/);
    expect(a.groupSumPooling.answers).toBe(500);
    expect(() => evaluateGroups(records.slice(0, 2), options)).toThrow(/no class has 3 photos/);
  });

  test('markers: the text between them is replaced, the rest kept; missing markers throw', () => {
    const doc = 'a\n<!-- eval:x -->\nold\n<!-- /eval:x -->\nb';
    const out = replaceBetweenMarkers(doc, 'eval:x', 'new table');
    expect(out).toMatch(/^a\n<!-- eval:x -->\n.*\nnew table\n<!-- \/eval:x -->\nb$/s);
    expect(out).not.toContain('old');
    expect(() => replaceBetweenMarkers('nothing', 'eval:x', 't')).toThrow();
  });
});
