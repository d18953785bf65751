import { expect, test } from 'vitest';
import { barChartSvg, escapeXml, formatTick, lineChartSvg } from '../../bench/lib/svg';

function attr(svg: string, cls: string, name: string): string[] {
  return [...svg.matchAll(new RegExp(`<[a-z]+ class="${cls}"[^>]*? ${name}="([^"]*)"`, 'g'))].map((m) => m[1]!);
}

test('bar chart: one bar per measured value, widths ordered like the values, n/a for missing', () => {
  const svg = barChartSvg({
    title: 'Stages <ms>',
    notes: ['software WebGPU, correctness only'],
    unit: 'ms',
    categories: ['forward', 'kernel'],
    series: [{ name: 'webgpu', values: [100, 0.5] }, { name: 'wasm', values: [50, null] }],
    log: true,
  });
  expect(svg.startsWith('<svg')).toBe(true);
  expect(svg).toContain('Stages &lt;ms&gt;');
  expect(svg).toContain('software WebGPU, correctness only');
  // grouped by category: forward (webgpu, wasm), then kernel (webgpu; wasm missing)
  expect(attr(svg, 'bar', 'data-value')).toEqual(['100', '50', '0.5']);
  const widths = attr(svg, 'bar', 'width').map(Number);
  expect(widths[0]).toBeGreaterThan(widths[1]!);
  expect(widths[1]).toBeGreaterThan(widths[2]!);
  expect(svg).toContain('>n/a<');
  expect(() => barChartSvg({ title: '', unit: 'ms', categories: ['a'], series: [{ name: 's', values: [0] }], log: true })).toThrow();
});

test('line chart: one polyline per series and panel, y flipped (higher value = smaller y)', () => {
  const svg = lineChartSvg({
    title: 'Perturbation',
    xLabel: '% removed',
    yLabel: 'share',
    panels: [
      { title: 'positive', xs: [0.1, 0.5, 0.9], series: [{ name: 'a', ys: [1, 0.5, 0] }, { name: 'b', ys: [1, 1, 1], dashed: true }] },
      { title: 'negative', xs: [0.1, 0.5, 0.9], series: [{ name: 'a', ys: [1, 1, 1] }] },
    ],
  });
  const points = attr(svg, 'curve', 'points');
  expect(points).toHaveLength(3);
  const ys = points[0]!.split(' ').map((p) => Number(p.split(',')[1]));
  expect(ys[0]).toBeLessThan(ys[1]!);
  expect(ys[1]).toBeLessThan(ys[2]!);
  expect(svg).toContain('stroke-dasharray');
  expect(() => lineChartSvg({ title: '', xLabel: '', yLabel: '', panels: [{ title: 'p', xs: [0, 1], series: [{ name: 'a', ys: [1] }] }] })).toThrow();
});

test('escapeXml escapes markup characters', () => {
  expect(escapeXml(`a<b>&"'`)).toBe('a&lt;b&gt;&amp;&quot;&apos;');
});

test('value labels keep 3 significant digits, thousands as k', () => {
  expect(formatTick(3715.865)).toBe('3.72k');
  expect(formatTick(1000)).toBe('1k');
  expect(formatTick(0.012345)).toBe('0.0123');
  expect(formatTick(62.415)).toBe('62.4');
});
