/**
 * Small, dependency-free SVG renderers for the evaluation report: grouped bar charts and line charts
 * with axes, tick labels, axis titles and a legend. Output is standalone SVG (xmlns set) so a browser
 * or a Markdown viewer can open the file directly.
 */
import type { Chart } from './types.ts';

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"';
const MAX_LABEL_CHARS = 24;
/** Rough width of one character at font-size 11, used for layout without measuring text. */
const CHAR_WIDTH = 6.2;

export interface SvgOptions {
  /** Minimum total width; bar charts with many categories grow wider than this. */
  width?: number;
  height?: number;
}

/** Escapes text for use in SVG element content and double-quoted attributes. */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

export function renderChartSvg(chart: Chart, options: SvgOptions = {}): string {
  return chart.kind === 'bar' ? renderBarChart(chart, options) : renderLineChart(chart, options);
}

interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
  rotateLabels: boolean;
}

interface Scale {
  min: number;
  max: number;
  ticks: number[];
  step: number;
}

function finiteValues(chart: Chart): number[] {
  return chart.series.flatMap((s) => s.values.filter((v) => Number.isFinite(v)));
}

/** A "nice" step (1, 2 or 5 times a power of ten) giving about `targetTicks` intervals. */
export function niceStep(range: number, targetTicks = 5): number {
  if (!(range > 0) || !Number.isFinite(range)) return 1;
  const raw = range / targetTicks;
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  return nice * power;
}

/** Value axis including zero (bars start at zero; rates read best against zero too). */
function valueScale(values: number[]): Scale {
  let low = Math.min(0, ...values);
  let high = Math.max(0, ...values);
  if (low === high) high = low + 1;
  const step = niceStep(high - low);
  low = Math.floor(low / step) * step;
  high = Math.ceil(high / step) * step;
  const ticks: number[] = [];
  // Counting by index avoids accumulating floating-point error in the tick values.
  const count = Math.round((high - low) / step);
  for (let i = 0; i <= count; i += 1) ticks.push(roundTo(low + i * step, step));
  return { min: low, max: high, ticks, step };
}

function roundTo(value: number, step: number): number {
  const decimals = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  return Number(value.toFixed(Math.min(decimals, 12)));
}

function formatTick(value: number, step: number): string {
  if (Number.isInteger(step) && Math.abs(value) >= 1) return String(Math.round(value));
  const decimals = Math.min(6, Math.max(0, -Math.floor(Math.log10(step))));
  return value.toFixed(decimals);
}

function truncateLabel(label: string): string {
  return label.length > MAX_LABEL_CHARS ? `${label.slice(0, MAX_LABEL_CHARS - 1)}…` : label;
}

function frameFor(chart: Chart, plotWidth: number, options: SvgOptions): Frame {
  const longest = Math.max(0, ...chart.x.map((label) => truncateLabel(label).length));
  const rotateLabels = chart.x.length > 12 || longest * CHAR_WIDTH > plotWidth / Math.max(1, chart.x.length);
  // A label rotated by 45° reaches down and to the left by about 0.71 of its length; fonts vary, so
  // estimate generously rather than clip.
  const rotatedReach = Math.ceil(longest * CHAR_WIDTH * 1.15 * 0.71);
  const labelDepth = rotateLabels ? rotatedReach + 16 : 20;
  const legendRows = chart.series.length > 1 ? 1 : 0;
  const left = rotateLabels ? Math.max(64, rotatedReach - 8) : 64;
  const right = 24;
  const top = 36 + legendRows * 22;
  const bottom = labelDepth + (chart.xLabel ? 28 : 10);
  const width = Math.max(options.width ?? 720, left + plotWidth + right);
  const height = Math.max(options.height ?? 400, top + bottom + 240);
  return { width, height, left, right, top, bottom, rotateLabels };
}

function svgOpen(frame: Frame, title: string): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${frame.width}" height="${frame.height}"`,
    ` viewBox="0 0 ${frame.width} ${frame.height}" role="img" aria-label="${escapeXml(title)}">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect x="0" y="0" width="${frame.width}" height="${frame.height}" fill="#ffffff"/>`,
    `<text x="${frame.width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="600" ${FONT}>`,
    `${escapeXml(title)}</text>`,
  ].join('');
}

function legend(chart: Chart, frame: Frame): string {
  if (chart.series.length < 2) return '';
  const parts: string[] = [];
  let x = frame.left;
  const y = 40;
  chart.series.forEach((series, index) => {
    const color = colorAt(index);
    parts.push(`<rect x="${x}" y="${y - 9}" width="12" height="12" fill="${color}"/>`);
    parts.push(`<text x="${x + 16}" y="${y + 1}" font-size="11" ${FONT}>${escapeXml(series.name)}</text>`);
    x += 28 + series.name.length * CHAR_WIDTH;
  });
  return `<g class="legend">${parts.join('')}</g>`;
}

function colorAt(index: number): string {
  return PALETTE[index % PALETTE.length] ?? '#000000';
}

function plotBounds(frame: Frame): { x0: number; x1: number; y0: number; y1: number } {
  return { x0: frame.left, x1: frame.width - frame.right, y0: frame.top, y1: frame.height - frame.bottom };
}

function yAxis(chart: Chart, frame: Frame, scale: Scale, toY: (v: number) => number): string {
  const { x0, x1, y0, y1 } = plotBounds(frame);
  const parts: string[] = [];
  for (const tick of scale.ticks) {
    const y = toY(tick);
    parts.push(`<line x1="${x0}" y1="${y}" x2="${x1}" y2="${y}" stroke="#e5e5e5"/>`);
    parts.push(
      `<text x="${x0 - 6}" y="${y + 4}" text-anchor="end" font-size="11" ${FONT}>${formatTick(tick, scale.step)}</text>`,
    );
  }
  parts.push(`<line x1="${x0}" y1="${y0}" x2="${x0}" y2="${y1}" stroke="#333333"/>`);
  if (chart.yLabel) {
    const cy = (y0 + y1) / 2;
    parts.push(
      `<text x="16" y="${cy}" text-anchor="middle" font-size="12" transform="rotate(-90 16 ${cy})" ${FONT}>`,
      `${escapeXml(chart.yLabel)}</text>`,
    );
  }
  return `<g class="y-axis">${parts.join('')}</g>`;
}

function xAxis(chart: Chart, frame: Frame, positions: number[], zeroY: number): string {
  const { x0, x1, y1 } = plotBounds(frame);
  const parts: string[] = [`<line x1="${x0}" y1="${zeroY}" x2="${x1}" y2="${zeroY}" stroke="#333333"/>`];
  chart.x.forEach((label, index) => {
    const x = positions[index] ?? x0;
    const shown = escapeXml(truncateLabel(label));
    const full = label.length > MAX_LABEL_CHARS ? `<title>${escapeXml(label)}</title>` : '';
    parts.push(`<line x1="${x}" y1="${y1}" x2="${x}" y2="${y1 + 4}" stroke="#333333"/>`);
    if (frame.rotateLabels) {
      const ly = y1 + 10;
      parts.push(
        `<text x="${x}" y="${ly}" text-anchor="end" font-size="11" transform="rotate(-45 ${x} ${ly})" ${FONT}>`,
        `${full}${shown}</text>`,
      );
    } else {
      parts.push(`<text x="${x}" y="${y1 + 16}" text-anchor="middle" font-size="11" ${FONT}>${full}${shown}</text>`);
    }
  });
  if (chart.xLabel) {
    parts.push(
      `<text x="${(x0 + x1) / 2}" y="${frame.height - 8}" text-anchor="middle" font-size="12" ${FONT}>`,
      `${escapeXml(chart.xLabel)}</text>`,
    );
  }
  return `<g class="x-axis">${parts.join('')}</g>`;
}

function emptyNote(frame: Frame): string {
  return `<text x="${frame.width / 2}" y="${frame.height / 2}" text-anchor="middle" font-size="13" fill="#666666" ${FONT}>no data</text>`;
}

function valueLabel(name: string, category: string, value: number): string {
  return escapeXml(`${name} · ${category}: ${Number.isInteger(value) ? value : value.toFixed(3)}`);
}

export function renderBarChart(chart: Chart, options: SvgOptions = {}): string {
  const seriesCount = Math.max(1, chart.series.length);
  const plotWidth = Math.max(560, chart.x.length * (seriesCount * 10 + 8));
  const frame = frameFor(chart, plotWidth, options);
  const values = finiteValues(chart);
  const parts = [svgOpen(frame, chart.title), legend(chart, frame)];
  const { x0, x1, y0, y1 } = plotBounds(frame);
  const scale = valueScale(values);
  const toY = (v: number) => round2(y1 - ((v - scale.min) / (scale.max - scale.min)) * (y1 - y0));
  const band = (x1 - x0) / Math.max(1, chart.x.length);
  const barWidth = (band * 0.8) / seriesCount;
  const positions = chart.x.map((_, i) => round2(x0 + band * (i + 0.5)));
  parts.push(yAxis(chart, frame, scale, toY));
  const bars: string[] = [];
  chart.series.forEach((series, s) => {
    chart.x.forEach((category, i) => {
      const value = series.values[i];
      if (value === undefined || !Number.isFinite(value)) return;
      const x = round2(x0 + band * i + band * 0.1 + barWidth * s);
      const top = Math.min(toY(value), toY(0));
      const height = round2(Math.abs(toY(value) - toY(0)));
      bars.push(
        `<rect x="${x}" y="${top}" width="${round2(barWidth)}" height="${height}" fill="${colorAt(s)}">`,
        `<title>${valueLabel(series.name, category, value)}</title></rect>`,
      );
    });
  });
  parts.push(`<g class="bars">${bars.join('')}</g>`);
  parts.push(xAxis(chart, frame, positions, toY(0)));
  if (values.length === 0) parts.push(emptyNote(frame));
  parts.push('</svg>');
  return parts.join('\n');
}

/** Numeric x when every label parses as a finite number (e.g. thresholds); otherwise evenly spaced. */
function xPositions(labels: string[], x0: number, x1: number): number[] {
  const numeric = labels.map((label) => (label.trim() === '' ? Number.NaN : Number(label)));
  const inset = 12;
  if (labels.length > 0 && numeric.every((n) => Number.isFinite(n))) {
    const low = Math.min(...numeric);
    const high = Math.max(...numeric);
    const span = high - low || 1;
    return numeric.map((n) => round2(x0 + inset + ((n - low) / span) * (x1 - x0 - 2 * inset)));
  }
  const gap = (x1 - x0 - 2 * inset) / Math.max(1, labels.length - 1);
  return labels.map((_, i) => round2(labels.length === 1 ? (x0 + x1) / 2 : x0 + inset + gap * i));
}

export function renderLineChart(chart: Chart, options: SvgOptions = {}): string {
  const plotWidth = Math.max(560, chart.x.length * 14);
  const frame = frameFor(chart, plotWidth, options);
  const values = finiteValues(chart);
  const parts = [svgOpen(frame, chart.title), legend(chart, frame)];
  const { x0, x1, y0, y1 } = plotBounds(frame);
  const scale = valueScale(values);
  const toY = (v: number) => round2(y1 - ((v - scale.min) / (scale.max - scale.min)) * (y1 - y0));
  const positions = xPositions(chart.x, x0, x1);
  parts.push(yAxis(chart, frame, scale, toY));
  const lines: string[] = [];
  chart.series.forEach((series, s) => {
    const color = colorAt(s);
    // A missing or non-finite value breaks the line instead of drawing through zero.
    for (const segment of segments(series.values, chart.x.length)) {
      const points = segment.map((i) => `${positions[i]},${toY(series.values[i] ?? 0)}`).join(' ');
      if (segment.length > 1) {
        lines.push(`<polyline points="${points}" fill="none" stroke="${color}" stroke-width="2"/>`);
      }
      for (const i of segment) {
        const value = series.values[i] ?? 0;
        lines.push(
          `<circle cx="${positions[i]}" cy="${toY(value)}" r="3" fill="${color}">`,
          `<title>${valueLabel(series.name, chart.x[i] ?? '', value)}</title></circle>`,
        );
      }
    }
  });
  parts.push(`<g class="lines">${lines.join('')}</g>`);
  parts.push(xAxis(chart, frame, positions, y1));
  if (values.length === 0) parts.push(emptyNote(frame));
  parts.push('</svg>');
  return parts.join('\n');
}

/** Runs of consecutive indices whose values are finite. */
function segments(values: number[], length: number): number[][] {
  const runs: number[][] = [];
  let current: number[] = [];
  for (let i = 0; i < length; i += 1) {
    const value = values[i];
    if (value !== undefined && Number.isFinite(value)) {
      current.push(i);
    } else if (current.length > 0) {
      runs.push(current);
      current = [];
    }
  }
  if (current.length > 0) runs.push(current);
  return runs;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
