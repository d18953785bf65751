import { describe, expect, test } from 'vitest';
import {
  LIGHTHOUSE_BEGIN, LIGHTHOUSE_END, lighthouseTableMarkdown, medianRun, profileOf, replaceMarkedSection, shortUrl, summarizeLhr,
  type LhrLike, type LighthouseReport, type LighthouseRun,
} from '../../bench/lib/lighthouse';

function lhr(performance: number, tbt: number, tasks: { url: string; startTime: number; duration: number }[]): LhrLike {
  return {
    lighthouseVersion: '13.0.0',
    fetchTime: '2026-11-30T00:00:00Z',
    configSettings: { formFactor: 'mobile', throttlingMethod: 'simulate', throttling: { cpuSlowdownMultiplier: 4, rttMs: 150, throughputKbps: 1638.4 } },
    categories: { performance: { score: performance }, accessibility: { score: 1 }, 'best-practices': { score: null } },
    audits: {
      'first-contentful-paint': { numericValue: 1500 },
      'largest-contentful-paint': { numericValue: 2500 },
      'total-blocking-time': { numericValue: tbt },
      interactive: { numericValue: 11_500 },
      'speed-index': { numericValue: 3000 },
      'cumulative-layout-shift': { numericValue: 0.0012 },
      'long-tasks': { details: { items: tasks } },
    },
  };
}

const run = (p: number, tbt = 100): LighthouseRun => summarizeLhr(lhr(p, tbt, []));

describe('summarizeLhr', () => {
  test('scores in percent, metrics in ms, missing ones as null, long tasks longest first', () => {
    const s = summarizeLhr(lhr(0.66, 7400, [
      { url: 'http://h/assets/index-1.js', startTime: 100, duration: 120 },
      { url: 'http://h/assets/ort-wasm.mjs', startTime: 900, duration: 6400 },
    ]));
    expect(s.scores).toEqual({ performance: 66, accessibility: 100, best_practices: null });
    expect(s.metrics.tbt_ms).toBe(7400);
    expect(s.metrics.cls).toBe(0.0012);
    expect(s.long_tasks.map((t) => t.duration_ms)).toEqual([6400, 120]);
  });
  test('a Lighthouse runtime error is an error, not a row of zeros', () => {
    expect(() => summarizeLhr({ ...lhr(0, 0, []), runtimeError: { code: 'NO_FCP', message: 'no paint' } })).toThrow(/NO_FCP/);
  });
  test('profile names the throttling', () => {
    expect(profileOf(lhr(1, 0, []))).toBe('mobile, simulate throttling: CPU 4× slower, 150 ms RTT, 1638 kbit/s');
  });
});

test('median run by total blocking time', () => {
  expect(medianRun([run(0.9, 200), run(0.5, 3000), run(0.7, 900)]).metrics.tbt_ms).toBe(900);
  expect(medianRun([run(0.9, 200), run(0.5, 3000)]).metrics.tbt_ms).toBe(200);
  expect(() => medianRun([])).toThrow();
});

test('table row per report, in the given order, with the longest task and every run score', () => {
  const withTask = summarizeLhr(lhr(0.66, 7400, [{ url: 'http://h/assets/ort-wasm.mjs', startTime: 1, duration: 6400 }]));
  const report = (label: string, runs: LighthouseRun[]): LighthouseReport => ({
    kind: 'lighthouse', label, created: '', lighthouse: '13', browser: 'Chromium', target: 't', profile: 'p', median: medianRun(runs), runs,
  });
  const lines = lighthouseTableMarkdown([report('before', [withTask]), report('after', [run(0.95, 120), run(0.93, 260)])]).split('\n');
  expect(lines).toHaveLength(4);
  expect(lines[2]).toBe('| before | 66 | 100 | – | 1.5 s | 2.5 s | 7400 ms | 11.5 s | 3.0 s | 0.001 | 6400 ms (ort-wasm.mjs) | 66 / 7400 ms |');
  expect(lines[3]).toContain('| after | 95 |');
  expect(lines[3]).toContain('| none | 95 / 120 ms, 93 / 260 ms |');
});

describe('replaceMarkedSection', () => {
  test('replaces only the text between the markers', () => {
    const doc = `intro\n${LIGHTHOUSE_BEGIN}\nold\n${LIGHTHOUSE_END}\noutro\n`;
    expect(replaceMarkedSection(doc, 'new')).toBe(`intro\n${LIGHTHOUSE_BEGIN}\nnew\n${LIGHTHOUSE_END}\noutro\n`);
  });
  test('appends a marked section when there is none, and refuses a lone marker', () => {
    const out = replaceMarkedSection('doc\n', 'table');
    expect(out).toBe(`doc\n\n## Lighthouse (mobile profile)\n\n${LIGHTHOUSE_BEGIN}\ntable\n${LIGHTHOUSE_END}\n`);
    expect(replaceMarkedSection(out, 'again')).toContain('\nagain\n');
    expect(() => replaceMarkedSection(`x ${LIGHTHOUSE_END}`, 'y')).toThrow(/markers/);
  });
});

test('shortUrl keeps the file name', () => {
  expect(shortUrl('http://127.0.0.1:4000/assets/index-Ab.js')).toBe('index-Ab.js');
  expect(shortUrl('Unattributable')).toBe('Unattributable');
  expect(shortUrl('')).toBe('no script');
});
