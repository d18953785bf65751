// Pure helpers of the device kit's onnxruntime step (tools/device/ortEntry.ts; tested by
// test/device/ortResults.test.ts): which precisions to time, and how the results join the kernel report.
import type { NodeBenchReport, OrtInNodeReport } from '../../bench/lib/report';
import type { OrtPrecision } from '../../bench/node/ort';

/** ORT_PRECISION / --precision: fp32, fp16 or both (fp32 first: it is what every adapter runs). */
export function parsePrecisions(value: string): OrtPrecision[] {
  const choice = value.trim().toLowerCase();
  if (choice === 'both') return ['fp32', 'fp16'];
  if (choice === 'fp32' || choice === 'fp16') return [choice];
  throw new Error(`precision must be fp32, fp16 or both, not "${value}"`);
}

const sameEntry = (a: OrtInNodeReport, b: OrtInNodeReport): boolean =>
  a.runtime === b.runtime && (a.precision ?? 'fp32') === (b.precision ?? 'fp32');

/** The kernel report with these onnxruntime results in its `ort` list: an entry of the same runtime and precision is
 * replaced, the others kept, so `npm run plot -- --node FILE` shows kernels and onnxruntime from one device call. */
export function withOrtResults(report: NodeBenchReport, results: OrtInNodeReport[]): NodeBenchReport {
  const kept = report.ort.filter((old) => !results.some((result) => sameEntry(old, result)));
  return { ...report, ort: [...kept, ...results] };
}

/** One line per result for the log. */
export function ortResultLine(result: OrtInNodeReport): string {
  const ms = (key: 'forward_ms' | 'explain_ms' | 'lrp_ms'): string => (result[key] ? `${result[key].median.toFixed(2)} ms` : '–');
  const timings = result.status === 'ok' ? `: forward ${ms('forward_ms')}, forward+grad ${ms('explain_ms')}, lrp graph ${ms('lrp_ms')} (median)` : '';
  return `${result.runtime} ${result.precision ?? 'fp32'} ${result.status}${timings}; ${result.detail}`;
}
