/**
 * A small dependency-free SVG line chart for benchmarks that reproduce the paper's figures:
 * several series over one x axis (linear or log2), automatic "nice" y ticks, a legend. The output
 * is a standalone .svg file any browser renders.
 */
export interface PlotSeries {
  name: string;
  points: readonly { x: number; y: number }[];
}

export interface PlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Log base-2 x axis (connections, sizes). Default false. */
  xLog2?: boolean;
  /** Format x tick values (default: plain numbers). */
  formatX?: (x: number) => string;
  width?: number;
  height?: number;
  /** Log base-10 y axis (latencies); y values <= 0 are skipped. Default false. */
  yLog10?: boolean;
  /** Horizontal reference lines (an SLA), drawn dashed with their label. */
  hLines?: readonly { y: number; label: string }[];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

function niceStep(range: number, ticks: number): number {
  const raw = range / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function formatNumber(v: number): string {
  if (v >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  return `${+v.toPrecision(3)}`;
}

/** Renders the chart as SVG text. Points with non-finite values are skipped. */
export function lineChart(series: readonly PlotSeries[], options: PlotOptions): string {
  const width = options.width ?? 720;
  const height = options.height ?? 420;
  const m = { left: 72, right: 180, top: 40, bottom: 56 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const all = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!options.yLog10 || p.y > 0));
  if (options.yLog10) return logYChart(series, options, all, width, height);
  const fx = options.xLog2 ? (x: number) => Math.log2(x) : (x: number) => x;
  const xs = all.map((p) => fx(p.x));
  const xMin = xs.length ? Math.min(...xs) : 0;
  const xMax = xs.length ? Math.max(...xs) : 1;
  const yMaxRaw = all.length ? Math.max(...all.map((p) => p.y)) : 1;
  const yStep = niceStep(yMaxRaw || 1, 5);
  const yMax = Math.ceil((yMaxRaw || 1) / yStep) * yStep;
  const px = (x: number) => m.left + (xMax === xMin ? pw / 2 : ((fx(x) - xMin) / (xMax - xMin)) * pw);
  const py = (y: number) => m.top + ph - (y / yMax) * ph;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  out.push(`<text x="${width / 2 - m.right / 2}" y="22" text-anchor="middle" font-size="15">${esc(options.title)}</text>`);
  for (let y = 0; y <= yMax + 1e-9; y += yStep) {
    out.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${py(y)}" y2="${py(y)}" stroke="#ddd"/>`);
    out.push(`<text x="${m.left - 6}" y="${py(y) + 4}" text-anchor="end">${formatNumber(y)}</text>`);
  }
  const xTicks = [...new Set(all.map((p) => p.x))].sort((a, b) => a - b);
  const fmtX = options.formatX ?? formatNumber;
  for (const x of xTicks) {
    out.push(`<line x1="${px(x)}" x2="${px(x)}" y1="${m.top + ph}" y2="${m.top + ph + 4}" stroke="#333"/>`);
    out.push(`<text x="${px(x)}" y="${m.top + ph + 18}" text-anchor="middle">${esc(fmtX(x))}</text>`);
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${m.left + pw / 2}" y="${height - 14}" text-anchor="middle">${esc(options.xLabel)}</text>`);
  out.push(`<text transform="translate(18 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(options.yLabel)}</text>`);
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const pts = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
    if (pts.length > 0) {
      out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' ')}"/>`);
      for (const p of pts) out.push(`<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="3" fill="${color}"/>`);
    }
    const ly = m.top + 10 + i * 20;
    out.push(`<line x1="${m.left + pw + 14}" x2="${m.left + pw + 34}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"/>`);
    out.push(`<text x="${m.left + pw + 40}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

export interface StackedBar {
  label: string;
  parts: readonly { name: string; value: number }[];
}

/** Horizontal stacked bars (e.g. a per-request latency breakdown: driver / stack / application). */
export function stackedBarChart(bars: readonly StackedBar[], options: { title: string; unit: string; width?: number }): string {
  const width = options.width ?? 720;
  const barH = 28;
  const m = { left: 160, right: 40, top: 44, bottom: 70 };
  const height = m.top + bars.length * (barH + 14) + m.bottom;
  const pw = width - m.left - m.right;
  const names = [...new Set(bars.flatMap((b) => b.parts.map((p) => p.name)))];
  const total = Math.max(1e-12, ...bars.map((b) => b.parts.reduce((a, p) => a + p.value, 0)));
  const step = niceStep(total, 5);
  const xMax = Math.ceil(total / step) * step;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  out.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${esc(options.title)}</text>`);
  for (let x = 0; x <= xMax + 1e-9; x += step) {
    const X = m.left + (x / xMax) * pw;
    out.push(`<line x1="${X}" x2="${X}" y1="${m.top - 4}" y2="${height - m.bottom}" stroke="#ddd"/>`);
    out.push(`<text x="${X}" y="${height - m.bottom + 16}" text-anchor="middle">${formatNumber(x)}</text>`);
  }
  out.push(`<text x="${m.left + pw / 2}" y="${height - m.bottom + 34}" text-anchor="middle">${esc(options.unit)}</text>`);
  bars.forEach((b, i) => {
    const y = m.top + i * (barH + 14);
    out.push(`<text x="${m.left - 8}" y="${y + barH / 2 + 4}" text-anchor="end">${esc(b.label)}</text>`);
    let x = m.left;
    for (const p of b.parts) {
      const w = (p.value / xMax) * pw;
      out.push(`<rect x="${x.toFixed(1)}" y="${y}" width="${Math.max(0, w).toFixed(1)}" height="${barH}" fill="${COLORS[names.indexOf(p.name) % COLORS.length]}"><title>${esc(`${p.name}: ${formatNumber(p.value)} ${options.unit}`)}</title></rect>`);
      x += w;
    }
  });
  names.forEach((n, i) => {
    const x = m.left + i * 150;
    const y = height - 18;
    out.push(`<rect x="${x}" y="${y - 10}" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/>`);
    out.push(`<text x="${x + 18}" y="${y}">${esc(n)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** lineChart with a log10 y axis (decades as ticks) and optional reference lines. */
function logYChart(series: readonly PlotSeries[], options: PlotOptions, all: readonly { x: number; y: number }[], width: number, height: number): string {
  const m = { left: 72, right: 180, top: 40, bottom: 56 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const fx = options.xLog2 ? (x: number) => Math.log2(x) : (x: number) => x;
  const xs = all.map((p) => fx(p.x));
  const xMin = xs.length ? Math.min(...xs) : 0;
  const xMax = xs.length ? Math.max(...xs) : 1;
  const ys = [...all.map((p) => p.y), ...(options.hLines ?? []).map((h) => h.y)].filter((y) => y > 0);
  const lo = Math.floor(Math.log10(ys.length ? Math.min(...ys) : 1));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(ys.length ? Math.max(...ys) : 10)));
  const px = (x: number) => m.left + (xMax === xMin ? pw / 2 : ((fx(x) - xMin) / (xMax - xMin)) * pw);
  const py = (y: number) => m.top + ph - ((Math.log10(y) - lo) / (hi - lo)) * ph;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  out.push(`<text x="${width / 2 - m.right / 2}" y="22" text-anchor="middle" font-size="15">${esc(options.title)}</text>`);
  for (let e = lo; e <= hi; e++) {
    const y = 10 ** e;
    out.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${py(y)}" y2="${py(y)}" stroke="#ddd"/>`);
    out.push(`<text x="${m.left - 6}" y="${py(y) + 4}" text-anchor="end">${formatNumber(y)}</text>`);
  }
  const fmtX = options.formatX ?? formatNumber;
  const xStep = niceStep((xMax - xMin) || 1, 6);
  if (!options.xLog2) {
    for (let x = Math.ceil(xMin / xStep) * xStep; x <= xMax + 1e-9; x += xStep) {
      out.push(`<line x1="${px(x)}" x2="${px(x)}" y1="${m.top + ph}" y2="${m.top + ph + 4}" stroke="#333"/>`);
      out.push(`<text x="${px(x)}" y="${m.top + ph + 18}" text-anchor="middle">${esc(fmtX(x))}</text>`);
    }
  }
  for (const h of options.hLines ?? []) {
    out.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${py(h.y)}" y2="${py(h.y)}" stroke="#000" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${m.left + 4}" y="${py(h.y) - 4}">${esc(h.label)}</text>`);
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${m.left + pw / 2}" y="${height - 14}" text-anchor="middle">${esc(options.xLabel)}</text>`);
  out.push(`<text transform="translate(18 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(options.yLabel)}</text>`);
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const pts = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && p.y > 0).slice().sort((a, b) => a.x - b.x);
    if (pts.length > 0) {
      out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' ')}"/>`);
      for (const p of pts) out.push(`<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="3" fill="${color}"/>`);
    }
    const ly = m.top + 10 + i * 20;
    out.push(`<line x1="${m.left + pw + 14}" x2="${m.left + pw + 34}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"/>`);
    out.push(`<text x="${m.left + pw + 40}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
