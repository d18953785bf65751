// The committed fixture graphs in onnxruntime-web inside headless Chromium, on the WASM EP and on the WebGPU
// EP (SwiftShader), against PyTorch: every output of the full and forward graphs (fp16 ones on WASM only), and the placement log
// (only shape bookkeeping may sit on the CPU under WebGPU). Fails, never skips, without WebGPU.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startBrowserHarness, type BrowserHarness } from '../browser/harness';
import type { GraphResult } from './fixturePage';

// Relative to each output's largest magnitude. See the printed measurements.
const RELATIVE_TOLERANCE = 1e-4;
// fp16 graphs, loosely (as in onnx-fixture.test.ts, where the measurements are noted).
const FP16_RELATIVE_TOLERANCE = 1e-2;
const FP16_RELEVANCE_RELATIVE_TOLERANCE = 0.25;
const MODELS = ['fixture-deit-micro', 'fixture-deit-micro-distilled'];
// Ops ORT itself keeps on the CPU for shape arithmetic; anything else there would be a real fallback.
const SHAPE_OPS = new Set(['Shape', 'Gather', 'Unsqueeze', 'Concat', 'Reshape', 'Slice', 'Cast', 'Range', 'Squeeze']);

let harness: BrowserHarness;
let pageErrors: string[] = [];
let placementLog: string[] = [];
let run: (model: string, role: string, backend: 'wasm' | 'webgpu') => Promise<GraphResult>;
let placements: (model: string, role: string, backend: 'wasm' | 'webgpu') => Promise<void>;

beforeAll(async () => {
  harness = await startBrowserHarness();
  const { page, errors } = await harness.newPage();
  pageErrors = errors;
  await page.goto(`${harness.baseUrl}/test/model/fixture.html`);
  // A string, not a function: vitest would rewrite a dynamic import() inside a function for node.
  run = (model, role, backend) => page.evaluate(
    `import('/test/model/fixturePage.ts').then((m) => m.runFixtureGraph(${JSON.stringify(model)}, ${JSON.stringify(role)}, ${JSON.stringify(backend)}))`,
  ) as Promise<GraphResult>;
  // A second page for the verbose placement log: ORT fixes its log level when its runtime starts, so the
  // page that runs the graphs must never turn it on (it would dump every shader).
  const verbose = await harness.newPage();
  placementLog = verbose.errors;
  await verbose.page.goto(`${harness.baseUrl}/test/model/fixture.html`);
  placements = (model, role, backend) => verbose.page.evaluate(
    `import('/test/model/fixturePage.ts').then((m) => m.logPlacements(${JSON.stringify(model)}, ${JSON.stringify(role)}, ${JSON.stringify(backend)}))`,
  ) as Promise<void>;
}, 180_000);
afterAll(async () => { await harness?.close(); });

/** Op types ORT's verbose placement log puts on the CPU EP: a "Node(s) placed on [CPUExecutionProvider]"
 * header followed by one "  OpType (node name)" line per node. */
function cpuOps(lines: string[]): string[] {
  const ops = new Set<string>();
  let onCpu = false;
  for (const line of lines) {
    const header = /placed on \[(\w+)\]/.exec(line);
    if (header) { onCpu = header[1] === 'CPUExecutionProvider'; continue; }
    const node = /VerifyEachNodeIsAssignedToAnEp\]\s+(\w+) \(/.exec(line);
    if (node && onCpu) ops.add(node[1]!);
    else if (!node && !/Node placements/.test(line)) onCpu = false;
  }
  return [...ops].sort();
}

const isOrtLog = (line: string): boolean => /\[[VIW]:onnxruntime/.test(line);

describe.each(MODELS)('%s in onnxruntime-web', (model) => {
  for (const backend of ['wasm', 'webgpu'] as const) {
    // fp16 graphs need shader-f16, which SwiftShader lacks: on WebGPU only the fp32 graphs run here.
    for (const role of backend === 'wasm' ? ['full', 'forward', 'lrp', 'full_fp16', 'forward_fp16', 'lrp_fp16'] : ['full', 'forward', 'lrp']) {
      test(`${role} graph on ${backend} matches PyTorch`, async () => {
        await placements(model, role, backend);
        const log = placementLog.splice(0).filter(isOrtLog);
        const result = await run(model, role, backend);
        expect(log.some((line) => /placed on \[/.test(line)), 'ORT printed no node placements').toBe(true);
        const worst = Object.entries(result.errors).flatMap(([c, outs]) =>
          Object.entries(outs).map(([name, e]) => `${c}.${name} ${e.relative.toExponential(1)}`));
        console.info(`${model} ${role} ${backend}: ${worst.join(', ')}; run ${result.runMs.toFixed(0)} ms; `
          + `CPU ops: ${cpuOps(log).join(' ') || 'none'}`);
        expect(result.outputNames.slice(0, 3)).toEqual(['logits', 'features', 'attentions']);
        for (const [c, outs] of Object.entries(result.errors)) {
          for (const [name, e] of Object.entries(outs)) {
            expect(e.magnitude, `${c}.${name} all zeros`).toBeGreaterThan(0);
            const allowed = !role.endsWith('fp16') ? RELATIVE_TOLERANCE
              : name === 'attention_relevance' ? FP16_RELEVANCE_RELATIVE_TOLERANCE : FP16_RELATIVE_TOLERANCE;
            expect(e.relative, `${backend} ${role} ${c}.${name}`).toBeLessThanOrEqual(allowed);
          }
        }
        if (backend === 'webgpu') {
          const fallback = cpuOps(log).filter((op) => !SHAPE_OPS.has(op));
          expect(fallback, 'nodes that fell back to the CPU EP').toEqual([]);
        }
        expect(pageErrors).toEqual([]);
      }, 300_000);
    }
  }
});
