// Lighthouse results of the production build, reduced to the figures issue 13 tracks, and their table in
// docs/benchmarks.md (between the bench:lighthouse markers). Pure functions: scripts/bench-lighthouse.ts runs
// Lighthouse, the tests feed these a small LHR-shaped object.

/** The part of Lighthouse's result (LHR) read here. */
export interface LhrLike {
  lighthouseVersion: string;
  fetchTime: string;
  finalDisplayedUrl?: string;
  runtimeError?: { code: string; message: string };
  runWarnings?: string[];
  configSettings: { formFactor: string; throttlingMethod: string; throttling: { cpuSlowdownMultiplier: number; rttMs: number; throughputKbps: number } };
  categories: Record<string, { score: number | null } | undefined>;
  audits: Record<string, { numericValue?: number; score?: number | null; details?: { items?: unknown[] } } | undefined>;
}

export interface LongTask { url: string; start_ms: number; duration_ms: number }

export interface LighthouseRun {
  scores: { performance: number | null; accessibility: number | null; best_practices: number | null };
  metrics: { fcp_ms: number | null; lcp_ms: number | null; tbt_ms: number | null; tti_ms: number | null; si_ms: number | null; cls: number | null };
  /** Main-thread tasks over 50 ms (Lighthouse's long-tasks audit, simulated under the CPU slowdown), longest first. */
  long_tasks: LongTask[];
  warnings: string[];
}

export interface LighthouseReport {
  kind: 'lighthouse';
  label: string;
  created: string;
  lighthouse: string;
  browser: string;
  target: string;
  profile: string;
  /** The run whose total blocking time is the median of `runs`. */
  median: LighthouseRun;
  runs: LighthouseRun[];
}

const score = (lhr: LhrLike, id: string): number | null => {
  const s = lhr.categories[id]?.score;
  return typeof s === 'number' ? Math.round(s * 100) : null;
};

const metric = (lhr: LhrLike, id: string): number | null => {
  const v = lhr.audits[id]?.numericValue;
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
};

function longTasks(lhr: LhrLike): LongTask[] {
  const items = lhr.audits['long-tasks']?.details?.items ?? [];
  const tasks: LongTask[] = [];
  for (const item of items) {
    const { url, startTime, duration } = item as { url?: unknown; startTime?: unknown; duration?: unknown };
    if (typeof duration !== 'number') continue;
    tasks.push({ url: typeof url === 'string' ? url : '', start_ms: typeof startTime === 'number' ? startTime : 0, duration_ms: duration });
  }
  return tasks.sort((a, b) => b.duration_ms - a.duration_ms);
}

/** Reduces one LHR; throws when Lighthouse itself failed (a runtime error has no meaningful figures). */
export function summarizeLhr(lhr: LhrLike): LighthouseRun {
  if (lhr.runtimeError) throw new Error(`Lighthouse failed: ${lhr.runtimeError.code}: ${lhr.runtimeError.message}`);
  return {
    scores: { performance: score(lhr, 'performance'), accessibility: score(lhr, 'accessibility'), best_practices: score(lhr, 'best-practices') },
    metrics: {
      fcp_ms: metric(lhr, 'first-contentful-paint'),
      lcp_ms: metric(lhr, 'largest-contentful-paint'),
      tbt_ms: metric(lhr, 'total-blocking-time'),
      tti_ms: metric(lhr, 'interactive'),
      si_ms: metric(lhr, 'speed-index'),
      cls: metric(lhr, 'cumulative-layout-shift'),
    },
    long_tasks: longTasks(lhr),
    warnings: lhr.runWarnings ?? [],
  };
}

export function profileOf(lhr: LhrLike): string {
  const s = lhr.configSettings;
  return `${s.formFactor}, ${s.throttlingMethod} throttling: CPU ${s.throttling.cpuSlowdownMultiplier}× slower, ` +
    `${s.throttling.rttMs} ms RTT, ${Math.round(s.throttling.throughputKbps)} kbit/s`;
}

/** The run with the median total blocking time (the lower middle one for an even count): TBT is the figure the
 * issue tracks, and it varies more between runs than the coarse performance score. */
export function medianRun(runs: readonly LighthouseRun[]): LighthouseRun {
  if (runs.length === 0) throw new Error('no Lighthouse runs');
  const sorted = [...runs].sort((a, b) => (a.metrics.tbt_ms ?? Infinity) - (b.metrics.tbt_ms ?? Infinity));
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

const seconds = (ms: number | null): string => (ms === null ? '–' : `${(ms / 1000).toFixed(1)} s`);
const millis = (ms: number | null): string => (ms === null ? '–' : `${Math.round(ms)} ms`);
const plain = (v: number | null): string => (v === null ? '–' : String(v));

/** One row per report (in the order given), median run. */
export function lighthouseTableMarkdown(reports: readonly LighthouseReport[]): string {
  const lines = [
    '| build (run with the median TBT) | performance | accessibility | best practices | FCP | LCP | TBT | TTI | speed index | CLS | longest task | every run: performance / TBT |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of reports) {
    const m = r.median;
    const longest = m.long_tasks[0];
    const each = r.runs.map((run) => `${plain(run.scores.performance)} / ${millis(run.metrics.tbt_ms)}`).join(', ');
    lines.push(`| ${r.label} | ${plain(m.scores.performance)} | ${plain(m.scores.accessibility)} | ${plain(m.scores.best_practices)} | ` +
      `${seconds(m.metrics.fcp_ms)} | ${seconds(m.metrics.lcp_ms)} | ${millis(m.metrics.tbt_ms)} | ${seconds(m.metrics.tti_ms)} | ` +
      `${seconds(m.metrics.si_ms)} | ${m.metrics.cls === null ? '–' : m.metrics.cls.toFixed(3)} | ` +
      `${longest ? `${millis(longest.duration_ms)} (${shortUrl(longest.url)})` : 'none'} | ${each} |`);
  }
  return lines.join('\n');
}

/** The file name of a script URL ("index-Ab12.js"), or what the URL is when it is no file. */
export function shortUrl(url: string): string {
  if (!url) return 'no script';
  try {
    const path = new URL(url).pathname;
    return path.split('/').filter(Boolean).pop() ?? path;
  } catch {
    return url;
  }
}

export const LIGHTHOUSE_BEGIN = '<!-- bench:lighthouse:begin (written by npm run bench:lighthouse) -->';
export const LIGHTHOUSE_END = '<!-- bench:lighthouse:end -->';

/** The section between the markers: what was measured, then the table. */
export function lighthouseSection(reports: readonly LighthouseReport[]): string {
  const first = reports[0];
  const notes = first ? [`- ${first.target}; Lighthouse ${first.lighthouse}, ${first.browser}`, `- profile: ${first.profile}`] : [];
  return [...notes, '', lighthouseTableMarkdown(reports)].join('\n');
}

/** Replaces the text between the markers, or appends the marked section when the document has none. */
export function replaceMarkedSection(doc: string, body: string, heading = '## Lighthouse (mobile profile)'): string {
  const block = `${LIGHTHOUSE_BEGIN}\n${body}\n${LIGHTHOUSE_END}`;
  const start = doc.indexOf(LIGHTHOUSE_BEGIN);
  const end = doc.indexOf(LIGHTHOUSE_END);
  if (start >= 0 && end > start) return doc.slice(0, start) + block + doc.slice(end + LIGHTHOUSE_END.length);
  if (start >= 0 || end >= 0) throw new Error('docs: only one of the bench:lighthouse markers is present');
  return `${doc.replace(/\n*$/, '')}\n\n${heading}\n\n${block}\n`;
}
