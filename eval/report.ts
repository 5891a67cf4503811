/**
 * Everything the harness prints or writes about a run: terminal tables, the Markdown report with its
 * SVG charts under reports/, and the one-line JSON summary. Pure formatting functions plus one writer.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { renderChartSvg } from './svg.ts';
import type { SuiteResult, Table } from './types.ts';

export type SuiteOutcome =
  | { status: 'ok'; name: string; description?: string; seconds: number; result: SuiteResult }
  | { status: 'skipped'; name: string; description?: string; reason: string }
  | { status: 'failed'; name: string; description?: string; reason: string; seconds?: number };

export interface MachineInfo {
  os: string;
  cpuModel: string;
  cpuCount: number;
  memoryGb: number;
  node: string;
}

export interface RunRecord {
  /** How to reproduce the run, e.g. `npm run eval -- --suite clinc150 --quick`. */
  commandLine: string;
  startedAt: Date;
  machine: MachineInfo;
  sharedDir: string;
  sharedPresent: boolean;
  quick: boolean;
  /** A single suite's name, or "all" when the run covered several. */
  label: string;
  outcomes: SuiteOutcome[];
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown CPU',
    cpuCount: cpus.length,
    memoryGb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
  };
}

export function describeMachine(machine: MachineInfo): string {
  return `${machine.os}, ${machine.cpuCount} × ${machine.cpuModel}, ${machine.memoryGb} GB RAM, Node ${machine.node}`;
}

// ---------------------------------------------------------------------------------------------
// Number and cell formatting

/**
 * Metric names and column headers whose values are rates in [0, 1]: always three decimals, so 1 prints
 * as 1.000 beside 0.950. Whole words only ("generated" is not a rate).
 */
const RATE_METRIC = /(^|[^a-z])(accuracy|f1|recall|precision|rate|mrr|share|coverage|ece)([^a-z]|$)/i;

export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined) return 'n/a';
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (Number.isInteger(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude < 1) return value.toFixed(3);
  if (magnitude < 100) return value.toFixed(2);
  return value.toFixed(1);
}

export function formatMetric(name: string, value: number | null): string {
  if (value !== null && Number.isFinite(value) && RATE_METRIC.test(name) && Math.abs(value) <= 1) {
    return value.toFixed(3);
  }
  return formatNumber(value);
}

/**
 * A column of rates is printed with three decimals throughout: all numbers within [-1, 1], and either
 * some are fractional or the header names a rate (a column of exact 1s under "recall@1").
 */
function isRateColumn(header: string, cells: Array<string | number | undefined>): boolean {
  const numbers = cells.filter((cell): cell is number => typeof cell === 'number' && Number.isFinite(cell));
  if (numbers.length === 0 || !numbers.every((n) => Math.abs(n) <= 1)) return false;
  return RATE_METRIC.test(header) || numbers.some((n) => !Number.isInteger(n));
}

function isNumericColumn(cells: Array<string | number | undefined>): boolean {
  const present = cells.filter((cell) => cell !== undefined && cell !== '');
  return present.length > 0 && present.every((cell) => typeof cell === 'number');
}

interface FormattedTable {
  title: string;
  header: string[];
  rows: string[][];
  numeric: boolean[];
}

function formatTable(table: Table): FormattedTable {
  const width = Math.max(table.header.length, ...table.rows.map((row) => row.length));
  const columns = Array.from({ length: width }, (_, c) => table.rows.map((row) => row[c]));
  const rateColumn = columns.map((cells, c) => isRateColumn(table.header[c] ?? '', cells));
  const numeric = columns.map(isNumericColumn);
  const rows = table.rows.map((row) =>
    Array.from({ length: width }, (_, c) => {
      const cell = row[c];
      if (cell === undefined) return '';
      if (typeof cell === 'string') return cell;
      return rateColumn[c] && Number.isFinite(cell) ? cell.toFixed(3) : formatNumber(cell);
    }),
  );
  const header = Array.from({ length: width }, (_, c) => table.header[c] ?? '');
  return { title: table.title, header, rows, numeric };
}

// ---------------------------------------------------------------------------------------------
// Terminal

/** Aligned plain-text table; numeric columns right-aligned. Long tables are cut after `maxRows`. */
export function renderTextTable(table: Table, maxRows = Number.POSITIVE_INFINITY): string {
  const formatted = formatTable(table);
  const shown = formatted.rows.slice(0, maxRows).map((row) => row.map(oneLine));
  const header = formatted.header.map(oneLine);
  const widths = header.map((cell, c) => Math.max(cell.length, ...shown.map((row) => (row[c] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (formatted.numeric[c] ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0)))
      .join('  ')
      .trimEnd();
  const out = [formatted.title, line(header), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const row of shown) out.push(line(row));
  const hidden = formatted.rows.length - shown.length;
  if (hidden > 0) out.push(`… ${hidden} more row${hidden === 1 ? '' : 's'} in the Markdown report`);
  return out.join('\n');
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

export function metricsTable(result: SuiteResult): Table {
  const rows = Object.entries(result.metrics).map(([name, value]) => [name, formatMetric(name, value)]);
  return { title: `${result.suite}: metrics`, header: ['metric', 'value'], rows };
}

export function statusTable(outcomes: SuiteOutcome[]): Table {
  return {
    title: 'Suites',
    header: ['suite', 'status', 'seconds', 'detail'],
    rows: outcomes.map((outcome) => [
      outcome.name,
      outcome.status,
      outcome.status === 'skipped' || outcome.seconds === undefined ? '' : outcome.seconds.toFixed(1),
      outcome.status === 'ok' ? `${Object.keys(outcome.result.metrics).length} metrics` : outcome.reason,
    ]),
  };
}

// ---------------------------------------------------------------------------------------------
// Markdown

/** Text from suites and data (which may hold HTML-like probes) must not turn into markup. */
export function escapeMarkdownText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function markdownCell(text: string): string {
  return escapeMarkdownText(oneLine(text)).replace(/\|/g, '\\|');
}

export function renderMarkdownTable(table: Table): string {
  const formatted = formatTable(table);
  const row = (cells: string[]) => `| ${cells.map(markdownCell).join(' | ')} |`;
  const rule = `|${formatted.numeric.map((n) => (n ? '---:' : '---')).join('|')}|`;
  return [row(formatted.header), rule, ...formatted.rows.map(row)].join('\n');
}

/** Chart files written for one suite, in the order of `result.charts`. */
export type ChartFiles = Map<string, Array<{ title: string; file: string }>>;

export function renderMarkdownReport(run: RunRecord, chartFiles: ChartFiles = new Map()): string {
  const lines: string[] = [
    `# Evaluation report: ${escapeMarkdownText(run.label)}`,
    '',
    `- Command: \`${run.commandLine.replace(/`/g, "'")}\``,
    `- Date: ${run.startedAt.toISOString()}`,
    `- Machine: ${escapeMarkdownText(describeMachine(run.machine))}`,
    `- Shared data: ${escapeMarkdownText(run.sharedDir)}${run.sharedPresent ? '' : ' (not found)'}`,
    `- Mode: ${run.quick ? 'quick (subsampled; figures are not comparable with a full run)' : 'full'}`,
    '',
    '## Summary',
    '',
    renderMarkdownTable(statusTable(run.outcomes)),
  ];
  for (const outcome of run.outcomes) {
    if (outcome.status !== 'ok') continue;
    lines.push('', ...suiteSection(outcome.result, outcome.description, chartFiles.get(outcome.name) ?? []));
  }
  return `${lines.join('\n')}\n`;
}

function suiteSection(
  result: SuiteResult,
  description: string | undefined,
  charts: Array<{ title: string; file: string }>,
): string[] {
  const lines = [`## ${escapeMarkdownText(result.suite)}`, ''];
  if (description) lines.push(escapeMarkdownText(description), '');
  const metrics = metricsTable(result);
  lines.push('### Metrics', '', renderMarkdownTable({ ...metrics, title: 'Metrics' }));
  for (const table of result.tables) {
    lines.push('', `### ${escapeMarkdownText(table.title)}`, '', renderMarkdownTable(table));
  }
  if (charts.length > 0) {
    lines.push('', '### Charts', '');
    for (const chart of charts) {
      lines.push(`![${markdownCell(chart.title).replace(/[[\]]/g, '')}](${encodeURI(chart.file)})`, '');
    }
  }
  if (result.notes.length > 0) {
    lines.push('', '### Notes', '');
    for (const note of result.notes) lines.push(`- ${escapeMarkdownText(oneLine(note))}`);
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Files

export interface WrittenReport {
  markdownPath: string;
  latestPath: string;
  svgPaths: string[];
}

/** `2025-03-04T05-06-07Z`: sortable and safe in file names on every OS. */
export function fileStamp(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/:/g, '-');
}

export function slug(text: string, maxLength = 60): string {
  const cleaned = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, maxLength)
    .replace(/-+$/, '');
  return cleaned === '' ? 'chart' : cleaned;
}

/** Writes `<stamp>-<label>.md`, one SVG per chart beside it, and `latest.md` (a copy of the report). */
export async function writeReport(run: RunRecord, outDir: string): Promise<WrittenReport> {
  await mkdir(outDir, { recursive: true });
  const base = uniqueBase(outDir, `${fileStamp(run.startedAt)}-${slug(run.label)}`);
  const chartFiles: ChartFiles = new Map();
  const svgPaths: string[] = [];
  for (const outcome of run.outcomes) {
    if (outcome.status !== 'ok') continue;
    const used = new Set<string>();
    const files: Array<{ title: string; file: string }> = [];
    // In a single-suite run the base already names the suite.
    const prefix = outcome.name === run.label ? base : `${base}-${slug(outcome.name, 30)}`;
    for (const chart of outcome.result.charts) {
      let name = `${prefix}-${slug(chart.title)}`;
      for (let n = 2; used.has(name); n += 1) name = `${prefix}-${slug(chart.title)}-${n}`;
      used.add(name);
      const file = `${name}.svg`;
      const target = path.join(outDir, file);
      await writeFile(target, renderChartSvg(chart), 'utf8');
      svgPaths.push(target);
      files.push({ title: chart.title, file });
    }
    chartFiles.set(outcome.name, files);
  }
  const markdown = renderMarkdownReport(run, chartFiles);
  const markdownPath = path.join(outDir, `${base}.md`);
  const latestPath = path.join(outDir, 'latest.md');
  await writeFile(markdownPath, markdown, 'utf8');
  await writeFile(latestPath, markdown, 'utf8');
  return { markdownPath, latestPath, svgPaths };
}

/** Two runs in the same second must not overwrite each other's report. */
function uniqueBase(outDir: string, base: string): string {
  if (!existsSync(path.join(outDir, `${base}.md`))) return base;
  for (let n = 2; ; n += 1) {
    const candidate = `${base}-${n}`;
    if (!existsSync(path.join(outDir, `${candidate}.md`))) return candidate;
  }
}

// ---------------------------------------------------------------------------------------------
// JSON summary (the last line of stdout with --json)

export interface JsonSummary {
  suite: string;
  metrics: Record<string, number | null>;
  suites?: Array<{ suite: string; metrics: Record<string, number | null> }>;
  skipped?: Array<{ suite: string; reason: string }>;
  failed?: Array<{ suite: string; reason: string }>;
}

/**
 * One suite selected: `{suite, metrics}`. Several (a default run, repeated --suite, or both
 * backtests): `{suite: "all", metrics: {"<suite>.<metric>": value}, suites: [{suite, metrics}]}`.
 * `skipped` and `failed` appear only when non-empty.
 */
export function jsonSummary(outcomes: SuiteOutcome[], combined: boolean): JsonSummary {
  const skipped = outcomes.filter((o) => o.status === 'skipped').map((o) => ({ suite: o.name, reason: o.reason }));
  const failed = outcomes.filter((o) => o.status === 'failed').map((o) => ({ suite: o.name, reason: o.reason }));
  const ran = outcomes.flatMap((o) =>
    o.status === 'ok' ? [{ suite: o.result.suite, metrics: o.result.metrics }] : [],
  );
  const extras = {
    ...(skipped.length > 0 ? { skipped } : {}),
    ...(failed.length > 0 ? { failed } : {}),
  };
  if (!combined) {
    const only = ran[0];
    const name = only?.suite ?? outcomes[0]?.name ?? 'none';
    return { suite: name, metrics: only?.metrics ?? {}, ...extras };
  }
  const metrics: Record<string, number | null> = {};
  for (const entry of ran) {
    for (const [metric, value] of Object.entries(entry.metrics)) metrics[`${entry.suite}.${metric}`] = value;
  }
  return { suite: 'all', metrics, suites: ran, ...extras };
}
