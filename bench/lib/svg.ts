// Small SVG chart writers for the published plots (docs/bench/*.svg). Pure string output, no DOM, so the
// plot script runs in Node and the tests can parse what it writes.

const PALETTE = ['#1b7837', '#2166ac', '#b2182b', '#e08214', '#762a83', '#35978f', '#8c510a', '#4d4d4d'];
const FONT = 'font-family="system-ui, sans-serif"';

export function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

function fmt(n: number): string {
  return Number(n.toFixed(2)).toString();
}

export function formatTick(v: number): string {
  if (v >= 1000) return `${Number((v / 1000).toPrecision(3))}k`;
  return Number(v.toPrecision(3)).toString();
}

export interface BarSeries {
  name: string;
  /** One value per category; null = not measured (no bar, "n/a" label). */
  values: (number | null)[];
}

export interface BarChart {
  title: string;
  /** Lines printed under the title, e.g. "software WebGPU, correctness only". */
  notes?: string[];
  unit: string;
  categories: string[];
  series: BarSeries[];
  /** Log-scale x axis: stages span several orders of magnitude. */
  log?: boolean;
}

/** Horizontal grouped bars: one group per category, one bar per series, value printed at the bar's end. */
export function barChartSvg(chart: BarChart): string {
  const values = chart.series.flatMap((s) => s.values).filter((v): v is number => v !== null && Number.isFinite(v));
  if (values.length === 0) throw new Error('bar chart with no values');
  for (const s of chart.series) {
    if (s.values.length !== chart.categories.length) throw new Error(`series ${s.name} has ${s.values.length} values for ${chart.categories.length} categories`);
  }
  const log = chart.log ?? false;
  if (log && values.some((v) => v <= 0)) throw new Error('log scale needs positive values');
  const labelWidth = 200;
  const plotWidth = 520;
  const barHeight = 12;
  const groupGap = 10;
  const notes = chart.notes ?? [];
  const top = 40 + notes.length * 16; // the legend sits under the plot
  const groupHeight = chart.series.length * barHeight + groupGap;
  const plotHeight = chart.categories.length * groupHeight;
  const legendTop = top + plotHeight + 36;
  const height = legendTop + chart.series.length * 18 + 10;
  const width = labelWidth + plotWidth + 90;

  const maxV = Math.max(...values);
  const minV = Math.min(...values);
  let lo: number;
  let hi: number;
  let ticks: number[];
  if (log) {
    lo = 10 ** Math.floor(Math.log10(minV));
    hi = 10 ** Math.ceil(Math.log10(maxV));
    if (hi === lo) hi = lo * 10;
    ticks = [];
    for (let t = lo; t <= hi * 1.0001; t *= 10) ticks.push(t);
  } else {
    lo = 0;
    const step = 10 ** Math.floor(Math.log10(maxV));
    hi = Math.ceil(maxV / step) * step;
    ticks = [];
    for (let t = 0; t <= hi * 1.0001; t += step) ticks.push(t);
  }
  const x = (v: number): number =>
    labelWidth + (log ? (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) : (v - lo) / (hi - lo)) * plotWidth;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  out.push(`<text x="10" y="22" font-size="15" font-weight="bold">${escapeXml(chart.title)}</text>`);
  notes.forEach((note, i) => out.push(`<text x="10" y="${40 + i * 16}" fill="#b2182b">${escapeXml(note)}</text>`));
  for (const t of ticks) {
    const tx = fmt(x(t));
    out.push(`<line x1="${tx}" y1="${top - 4}" x2="${tx}" y2="${top + plotHeight}" stroke="#dddddd"/>`);
    out.push(`<text x="${tx}" y="${top + plotHeight + 14}" text-anchor="middle" fill="#444444">${formatTick(t)}</text>`);
  }
  out.push(`<text x="${labelWidth + plotWidth / 2}" y="${top + plotHeight + 28}" text-anchor="middle">${escapeXml(chart.unit)}${log ? ' (log scale)' : ''}</text>`);
  chart.categories.forEach((category, ci) => {
    const gy = top + ci * groupHeight;
    out.push(`<text x="${labelWidth - 8}" y="${fmt(gy + (chart.series.length * barHeight) / 2 + 4)}" text-anchor="end">${escapeXml(category)}</text>`);
    chart.series.forEach((s, si) => {
      const v = s.values[ci];
      const y = gy + si * barHeight;
      if (v === null || v === undefined || !Number.isFinite(v)) {
        out.push(`<text x="${labelWidth + 4}" y="${y + barHeight - 2}" fill="#888888" font-size="10">n/a</text>`);
        return;
      }
      const w = Math.max(1, x(v) - labelWidth);
      out.push(`<rect class="bar" data-series="${escapeXml(s.name)}" data-category="${escapeXml(category)}" data-value="${v}" x="${labelWidth}" y="${y}" width="${fmt(w)}" height="${barHeight - 2}" fill="${PALETTE[si % PALETTE.length]}"/>`);
      out.push(`<text x="${fmt(labelWidth + w + 4)}" y="${y + barHeight - 2}" font-size="10">${formatTick(v)}</text>`);
    });
  });
  chart.series.forEach((s, si) => {
    const ly = legendTop + si * 18;
    out.push(`<rect x="${labelWidth}" y="${ly - 10}" width="12" height="12" fill="${PALETTE[si % PALETTE.length]}"/>`);
    out.push(`<text x="${labelWidth + 18}" y="${ly}">${escapeXml(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

export interface LineSeries {
  name: string;
  ys: number[];
  dashed?: boolean;
}

export interface LinePanel {
  title: string;
  xs: number[];
  series: LineSeries[];
}

export interface LineChart {
  title: string;
  notes?: string[];
  xLabel: string;
  yLabel: string;
  /** y axis range, default [0, 1]. */
  yRange?: [number, number];
  panels: LinePanel[];
}

/** Side-by-side line panels sharing a legend (the perturbation curves). */
export function lineChartSvg(chart: LineChart): string {
  const [y0, y1] = chart.yRange ?? [0, 1];
  const panelWidth = 330;
  const panelHeight = 240;
  const left = 60;
  const gap = 50;
  const notes = chart.notes ?? [];
  const top = 50 + notes.length * 16;
  const names = [...new Set(chart.panels.flatMap((p) => p.series.map((s) => s.name)))];
  const legendTop = top + panelHeight + 50;
  const width = left + chart.panels.length * (panelWidth + gap);
  const height = legendTop + names.length * 18 + 10;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  out.push(`<text x="10" y="22" font-size="15" font-weight="bold">${escapeXml(chart.title)}</text>`);
  notes.forEach((note, i) => out.push(`<text x="10" y="${40 + i * 16}" fill="#b2182b">${escapeXml(note)}</text>`));
  chart.panels.forEach((panel, pi) => {
    if (panel.xs.length < 2) throw new Error(`panel ${panel.title} needs ≥ 2 x values`);
    const px = left + pi * (panelWidth + gap);
    const xMin = Math.min(...panel.xs);
    const xMax = Math.max(...panel.xs);
    const sx = (v: number): number => px + ((v - xMin) / (xMax - xMin)) * panelWidth;
    const sy = (v: number): number => top + panelHeight - ((v - y0) / (y1 - y0)) * panelHeight;
    out.push(`<text x="${px + panelWidth / 2}" y="${top - 8}" text-anchor="middle" font-weight="bold">${escapeXml(panel.title)}</text>`);
    out.push(`<rect x="${px}" y="${top}" width="${panelWidth}" height="${panelHeight}" fill="none" stroke="#999999"/>`);
    for (let k = 0; k <= 4; k++) {
      const v = y0 + ((y1 - y0) * k) / 4;
      out.push(`<line x1="${px}" y1="${fmt(sy(v))}" x2="${px + panelWidth}" y2="${fmt(sy(v))}" stroke="#eeeeee"/>`);
      out.push(`<text x="${px - 6}" y="${fmt(sy(v) + 4)}" text-anchor="end" fill="#444444">${formatTick(v)}</text>`);
    }
    for (const v of panel.xs) {
      out.push(`<text x="${fmt(sx(v))}" y="${top + panelHeight + 14}" text-anchor="middle" fill="#444444">${Math.round(v * 100)}</text>`);
    }
    out.push(`<text x="${px + panelWidth / 2}" y="${top + panelHeight + 30}" text-anchor="middle">${escapeXml(chart.xLabel)}</text>`);
    if (pi === 0) {
      out.push(`<text transform="translate(16 ${top + panelHeight / 2}) rotate(-90)" text-anchor="middle">${escapeXml(chart.yLabel)}</text>`);
    }
    for (const s of panel.series) {
      if (s.ys.length !== panel.xs.length) throw new Error(`series ${s.name} has ${s.ys.length} points for ${panel.xs.length} x values`);
      const color = PALETTE[names.indexOf(s.name) % PALETTE.length];
      const points = panel.xs.map((v, i) => `${fmt(sx(v))},${fmt(sy(s.ys[i]!))}`).join(' ');
      out.push(`<polyline class="curve" data-series="${escapeXml(s.name)}" data-panel="${escapeXml(panel.title)}" points="${points}" fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    }
  });
  names.forEach((name, i) => {
    const ly = legendTop + i * 18;
    out.push(`<line x1="${left}" y1="${ly - 4}" x2="${left + 20}" y2="${ly - 4}" stroke="${PALETTE[i % PALETTE.length]}" stroke-width="3"/>`);
    out.push(`<text x="${left + 26}" y="${ly}">${escapeXml(name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
