// The device kit's onnxruntime step (built by `npm run device:kit -- --ort`, run by its run.sh after the kernel bench,
// in its own process under `timeout`): onnxruntime-node's native WebGPU EP (`benchOrtNode('webgpu', …)`, the same
// timing as `npm run bench:node`) on the model's forward, full (forward + gradients) and lrp graphs, per precision.
// `onnxruntime-node` is loaded from the kit's trimmed copy beside the bundle.
// Usage: node bench-ort.mjs --model DIR [--precision fp32|fp16|both] [--runs 20] [--warmup 5] [--json FILE] [--into NODE_REPORT]
//   --json: the results as an OrtInNodeReport[] (rewritten after each precision, so a timeout keeps what finished)
//   --into: a NodeBenchReport (the kernel bench's JSON) whose `ort` list gets the results, if that file exists
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { NodeBenchReport, OrtInNodeReport } from '../../bench/lib/report';
import { parsePrecisions, ortResultLine, withOrtResults } from './ortResults';
import { readModel } from '../../bench/lib/modelFiles';
import { benchOrtNode, timedGraphs } from '../../bench/node/ort';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string' },
    precision: { type: 'string', default: 'fp32' },
    runs: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '5' },
    json: { type: 'string' },
    into: { type: 'string' },
  },
});
const log = (line: string): void => console.log(`[bench:ort kit] ${line}`);

function writeJson(path: string, value: unknown): void {
  writeFileSync(`${path}.part`, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(`${path}.part`, path);
}

async function main(): Promise<void> {
  if (!args.model || !existsSync(resolve(args.model, 'manifest.json'))) throw new Error(`no manifest.json in --model ${args.model ?? '(none given)'}`);
  const modelDir = resolve(args.model);
  const options = { runs: Number(args.runs), warmup: Number(args.warmup), log };
  const results: OrtInNodeReport[] = [];
  for (const precision of parsePrecisions(args.precision)) {
    log(`onnxruntime-node WebGPU EP, ${precision}, ${modelDir}`);
    const t0 = performance.now();
    const result: OrtInNodeReport = timedGraphs(readModel(modelDir).manifest, precision).length === 0
      ? { runtime: 'onnxruntime-node (native WebGPU EP)', precision, status: 'skipped', detail: `the model has no ${precision} graphs` }
      : await benchOrtNode('webgpu', modelDir, { ...options, precision });
    log(`${ortResultLine(result)} [${((performance.now() - t0) / 1000).toFixed(1)} s]`);
    results.push(result);
    if (args.json) writeJson(args.json, results);
  }
  if (args.into && existsSync(args.into)) {
    writeJson(args.into, withOrtResults(JSON.parse(readFileSync(args.into, 'utf8')) as NodeBenchReport, results));
    log(`added to ${args.into}'s ort list`);
  }
  if (results.some((result) => result.status === 'failed')) process.exitCode = 1;
}

main().then(
  // onnxruntime's WebGPU EP may keep native threads alive; exit explicitly once the report is written.
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => { console.error(err); process.exit(1); },
);
