/** The benchmark's figures, targets and output (terminal table and the final JSON line). */
import { round } from './lib/stats.ts';

export interface Target {
  key: string;
  label: string;
  unit: string;
  /** 'min': the figure must be at least the bound; 'max': at most. */
  kind: 'min' | 'max';
  bound: number;
}

export const TARGETS: Target[] = [
  { key: 'ingest_ratio', label: 'Ingest max throughput vs bare Express 204', unit: 'x', kind: 'min', bound: 0.5 },
  { key: 'ingest_p99_ms', label: 'Ingest p99 at 500 req/s (evenly spaced)', unit: 'ms', kind: 'max', bound: 25 },
  { key: 'overhead_p99_ms', label: 'Pipeline overhead p99 (2,000 articles)', unit: 'ms', kind: 'max', bound: 15 },
  { key: 'e2e_tickets_per_s', label: 'End to end, LLM 0.6 s / 4 s', unit: 'tickets/s', kind: 'min', bound: 50 },
  { key: 'rss_idle_mb', label: 'RSS idle', unit: 'MB', kind: 'max', bound: 150 },
  { key: 'cost_ratio', label: 'LLM cost per ticket vs seed design', unit: 'x', kind: 'max', bound: 0.4 },
];

export type Verdict = 'pass' | 'miss' | 'n/a';

export function verdict(target: Target, value: number | null): Verdict {
  if (value === null || !Number.isFinite(value)) return 'n/a';
  return (target.kind === 'min' ? value >= target.bound : value <= target.bound) ? 'pass' : 'miss';
}

export interface Row {
  label: string;
  value: string;
  target: string;
  result: string;
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

export function renderTable(rows: Row[]): string {
  const widths = [
    Math.max(6, ...rows.map((row) => row.label.length)),
    Math.max(8, ...rows.map((row) => row.value.length)),
    Math.max(6, ...rows.map((row) => row.target.length)),
    6,
  ];
  const line = (cells: string[]) => cells.map((cell, index) => pad(cell, widths[index] as number)).join(' | ');
  return [
    line(['figure', 'measured', 'target', 'result']),
    widths.map((width) => '-'.repeat(width)).join('-|-'),
    ...rows.map((row) => line([row.label, row.value, row.target, row.result])),
  ].join('\n');
}

export function formatValue(value: number | null, unit: string, digits = 2): string {
  const rounded = round(value, digits);
  return rounded === null ? 'not measured' : `${rounded} ${unit}`;
}
