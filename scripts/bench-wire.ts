// npm run bench:wire [-- --app DIR --label after|before --json FILE --doc docs/benchmarks.md --photo FILE
//                       --devices wasm,webgpu --no-throttled --no-static]
// Bytes on the wire and cold-start times of the production build behind nginx (bench/node/coldStart.ts), per
// device class, first and second visit, counted at the server; a throttled first visit; a plain static host.
// `--app /path/to/other/checkout --label before` measures another checkout (e.g. main before a change) the same way.
// Writes docs/bench/wire.json (or wire-before.json) and the table between <!-- bench:wire --> markers from both.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { machineReport } from '../bench/lib/machine';
import { writeMarkedSection } from '../bench/lib/markedSection';
import { pickModelDir } from '../bench/lib/modelFiles';
import type { ColdStartReport, ColdStartRun, MachineReport } from '../bench/lib/report';
import { measureColdStart, THROTTLED_PROFILE } from '../bench/node/coldStart';

const { values: args } = parseArgs({
  options: {
    app: { type: 'string', default: '.' },
    label: { type: 'string', default: 'after' },
    json: { type: 'string' },
    doc: { type: 'string', default: 'docs/benchmarks.md' },
    photo: { type: 'string' },
    devices: { type: 'string', default: 'wasm,webgpu' },
    'no-throttled': { type: 'boolean', default: false },
    'no-static': { type: 'boolean', default: false },
    /** Rewrite the table from docs/bench/wire*.json without measuring. */
    'table-only': { type: 'boolean', default: false },
  },
});
const log = (line: string): void => console.log(`[bench:wire] ${line}`);

interface WireReport {
  kind: 'wire-bench';
  label: string;
  created: string;
  app: { root: string; commit: string };
  machine: MachineReport;
  throttled_profile: typeof THROTTLED_PROFILE;
  cold_start: ColdStartReport;
}

const TARGETS = { wasm_first_mb: 10, webgpu_first_mb: 13, throttled_first_diagnosis_s: 60 };

function defaultPhoto(): string {
  const dir = resolve('../shared/data/beans/val/bean_rust');
  const first = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.jpg')).sort()[0] : undefined;
  if (!first) throw new Error('no default photo: pass --photo FILE');
  return join(dir, first);
}

const jsonPath = (label: string) => (label === 'after' ? 'docs/bench/wire.json' : `docs/bench/wire-${label}.json`);

function visitName(r: ColdStartRun): string {
  const visit = r.cache === 'empty' ? 'first' : 'second';
  return `${visit}${r.throttled ? ', throttled' : ''}${r.host === 'static' ? ', static host' : ''}`;
}

function wireTable(reports: WireReport[]): string {
  const mb = (n: number | undefined) => (n === undefined ? '–' : (n / 1e6).toFixed(2));
  const s = (ms: number | null | undefined) => (ms === null || ms === undefined ? '–' : (ms / 1000).toFixed(1));
  const lines = [
    `Counted at the server (nginx \`$bytes_sent\`: headers + compressed body of every response, the service worker's included), ` +
      `Chromium headless at 390×844. WASM device: Chromium without WebGPU. WebGPU device: with it (here a software adapter, ` +
      `so the app is told \`?backend=webgpu\`; its diagnosis takes minutes there and is not a timing). Throttled: DevTools ` +
      `"Fast 3G" (${(THROTTLED_PROFILE.downloadThroughput * 8 / 1e6).toFixed(2)} Mbit/s down, ${THROTTLED_PROFILE.latency} ms) on the page + ${THROTTLED_PROFILE.cpuSlowdown}× CPU. ` +
      `Static host: the same files, none of the headers. \`npm run bench:wire\` (docs/bench/wire*.json).`,
    '',
    '| build | device | visit | on the wire MB | runtime MB | model MB | app MB | requests | runtime + model body bytes | first diagnosis s | backend | isolated |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |',
  ];
  for (const r of reports) {
    for (const run of r.cold_start.runs) {
      const w = run.wire;
      lines.push(`| ${r.label} (${r.app.commit.slice(0, 7)}) | ${run.device ?? '–'} | ${visitName(run)} | ${mb(w?.bytes)} | ${mb(w?.runtime_bytes)} | ${mb(w?.model_bytes)} | ${mb(w?.app_bytes)} | ${w?.requests ?? '–'} | ` +
        `${w ? w.runtime_body_bytes + w.model_body_bytes : '–'} | ${run.device === 'webgpu' ? '–' : s(run.first_diagnosis_ms)} | ${run.backend ?? '–'} | ${run.cross_origin_isolated ?? '–'} |`);
    }
  }
  const after = reports.find((r) => r.label === 'after');
  if (after) {
    const find = (device: string, cache: string, throttled = false) => after.cold_start.runs.find((r) => r.device === device && r.cache === cache && Boolean(r.throttled) === throttled && r.host !== 'static');
    const check = (ok: boolean | null) => (ok === null ? 'not measured' : ok ? 'met' : 'MISSED');
    const wasm = find('wasm', 'empty');
    const webgpu = find('webgpu', 'empty');
    const seconds = [find('wasm', 'warm-sw'), find('webgpu', 'warm-sw')].filter((r): r is ColdStartRun => Boolean(r?.wire));
    const throttled = find('wasm', 'empty', true);
    lines.push('', 'Targets (issue 13), after:', '',
      `- WASM first visit ≤ ${TARGETS.wasm_first_mb} MB: ${mb(wasm?.wire?.bytes)} MB — ${check(wasm?.wire ? wasm.wire.bytes <= TARGETS.wasm_first_mb * 1e6 : null)}`,
      `- WebGPU first visit ≤ ${TARGETS.webgpu_first_mb} MB: ${mb(webgpu?.wire?.bytes)} MB — ${check(webgpu?.wire ? webgpu.wire.bytes <= TARGETS.webgpu_first_mb * 1e6 : null)}`,
      `- second visit downloads no runtime or model bytes: ${seconds.map((r) => `${r.device} ${r.wire!.runtime_body_bytes + r.wire!.model_body_bytes} B`).join(', ') || '–'} — ${check(seconds.length ? seconds.every((r) => r.wire!.runtime_body_bytes + r.wire!.model_body_bytes === 0) : null)}`,
      `- throttled first visit reaches its first diagnosis in ≤ ${TARGETS.throttled_first_diagnosis_s} s: ${s(throttled?.first_diagnosis_ms)} s — ${check(throttled?.first_diagnosis_ms != null ? throttled.first_diagnosis_ms <= TARGETS.throttled_first_diagnosis_s * 1000 : null)}`);
  }
  return lines.join('\n');
}

function writeTable(): void {
  const reports = ['before', 'after'].map(jsonPath).filter(existsSync).map((p) => JSON.parse(readFileSync(p, 'utf8')) as WireReport);
  const table = wireTable(reports);
  console.log(`\n${table}\n`);
  if (args.doc && existsSync(args.doc)) writeMarkedSection(args.doc, 'bench:wire', table, '## Bytes on the wire');
}

async function main(): Promise<void> {
  if (args['table-only']) { writeTable(); return; }
  const appRoot = resolve(args.app);
  // An exported tree (git archive) carries its commit in .commit; a checkout answers git.
  const commit = existsSync(join(appRoot, '.commit')) ? readFileSync(join(appRoot, '.commit'), 'utf8').trim() : (() => { try { return execFileSync('git', ['-C', appRoot, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim(); } catch { return 'unknown'; } })();
  log(`measuring ${appRoot} at ${commit.slice(0, 10)} as "${args.label}"`);
  const photo = resolve(args.photo ?? defaultPhoto());
  const cold = await measureColdStart({
    log,
    photo,
    modelDir: pickModelDir(undefined),
    appRoot,
    workName: args.label,
    devices: args.devices.split(',').map((d) => d.trim()) as ('wasm' | 'webgpu')[],
    throttled: !args['no-throttled'],
    staticHost: !args['no-static'],
  });
  const report: WireReport = { kind: 'wire-bench', label: args.label, created: new Date().toISOString(), app: { root: appRoot, commit }, machine: machineReport(), throttled_profile: THROTTLED_PROFILE, cold_start: cold };
  const out = args.json ?? jsonPath(args.label);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  writeTable();
  log(`wrote ${out}${args.doc ? ` and the table in ${args.doc}` : ''}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
