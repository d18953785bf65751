// The device kit's onnxruntime step (tools/device/ortResults.ts, ort.ts's graph choice): which precisions and graphs
// it times, and how its results join the kernel report.
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { readModel } from '../../bench/lib/modelFiles';
import type { NodeBenchReport, OrtInNodeReport } from '../../bench/lib/report';
import { ortResultLine, parsePrecisions, withOrtResults } from '../../tools/device/ortResults';
import { timedGraphs } from '../../bench/node/ort';

test('ORT_PRECISION: fp32, fp16 or both (fp32 first), anything else refused', () => {
  expect(parsePrecisions('fp32')).toEqual(['fp32']);
  expect(parsePrecisions(' FP16 ')).toEqual(['fp16']);
  expect(parsePrecisions('both')).toEqual(['fp32', 'fp16']);
  expect(() => parsePrecisions('int8')).toThrow(/fp32, fp16 or both/);
  expect(() => parsePrecisions('')).toThrow();
});

test('each precision times its own forward, full and lrp graphs', () => {
  const { manifest } = readModel('public/models/fixture-deit-micro');
  expect(timedGraphs(manifest)).toEqual([['forward_ms', 'model.forward.onnx'], ['explain_ms', 'model.onnx'], ['lrp_ms', 'model.lrp.onnx']]);
  expect(timedGraphs(manifest, 'fp16')).toEqual([['forward_ms', 'model.forward.fp16.onnx'], ['explain_ms', 'model.fp16.onnx'], ['lrp_ms', 'model.lrp.fp16.onnx']]);
  const fp32Only = { ...manifest, graphs: { full: 'model.onnx', forward: 'model.forward.onnx' } };
  expect(timedGraphs(fp32Only, 'fp16')).toEqual([]);
  expect(timedGraphs(fp32Only, 'fp32').map(([key]) => key)).toEqual(['forward_ms', 'explain_ms']);
});

test('onnxruntime results join the kernel report, replacing only the same runtime and precision', () => {
  const report = JSON.parse(readFileSync('docs/bench/node-dawn.json', 'utf8')) as NodeBenchReport;
  const summary = { n: 20, median: 4.2, min: 4, max: 5, mean: 4.3 };
  const fp32: OrtInNodeReport = { runtime: 'onnxruntime-node (native WebGPU EP)', precision: 'fp32', status: 'ok', detail: 'ran', forward_ms: summary, explain_ms: summary };
  const fp16: OrtInNodeReport = { ...fp32, precision: 'fp16', status: 'failed', detail: 'no shader-f16' };
  const merged = withOrtResults(report, [fp32, fp16]);
  // The old native WebGPU entry has no precision field (fp32): replaced; the other runtimes stay, in order.
  expect(merged.ort.map((o) => `${o.runtime} ${o.precision ?? '-'}`)).toEqual([
    'onnxruntime-web (WebGPU EP on Dawn node) -', 'onnxruntime-node (CPU EP) -',
    'onnxruntime-node (native WebGPU EP) fp32', 'onnxruntime-node (native WebGPU EP) fp16',
  ]);
  expect(merged.kernels).toBe(report.kernels);
  expect(withOrtResults(merged, [fp16]).ort).toHaveLength(4);
  expect(ortResultLine(fp32)).toBe('onnxruntime-node (native WebGPU EP) fp32 ok: forward 4.20 ms, forward+grad 4.20 ms, lrp graph – (median); ran');
  expect(ortResultLine(fp16)).toBe('onnxruntime-node (native WebGPU EP) fp16 failed; no shader-f16');
});
