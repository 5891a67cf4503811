/**
 * The contract between evaluation suites and the harness that runs them (eval/cli.ts).
 * A suite measures; the harness prints, writes the Markdown/SVG report and the --json line.
 */

/** Metric names used in the --json output, where they apply. Suites may add others. */
export type MetricName =
  | 'intent_accuracy'
  | 'macro_f1'
  | 'oos_recall'
  | 'oos_precision'
  | 'routing_accuracy'
  | 'recall_at_1'
  | 'recall_at_3'
  | 'recall_at_5'
  | 'mrr'
  | 'unanswerable_decline_rate'
  | 'answerable_false_decline_rate'
  | 'tier0_count'
  | 'train_seconds'
  | 'classify_p99_ms'
  | (string & {});

export interface Table {
  title: string;
  header: string[];
  rows: Array<Array<string | number>>;
}

/** A chart the report renders as SVG. */
export interface Chart {
  title: string;
  kind: 'bar' | 'line';
  xLabel?: string;
  yLabel?: string;
  /** Category labels (bar) or x values as strings (line). */
  x: string[];
  series: Array<{ name: string; values: number[] }>;
}

export interface SuiteResult {
  suite: string;
  metrics: Record<MetricName, number | null>;
  tables: Table[];
  charts: Chart[];
  /** Free-text lines: data source, split, threshold chosen and on what, caveats. */
  notes: string[];
}

export interface SuiteOptions {
  /** Root of the shared folder (datasets/ inside it). */
  sharedDir: string;
  /** Smaller, faster run for CI smoke tests: subsample, fewer epochs. Figures are then not comparable. */
  quick: boolean;
  /** Progress lines go here (stderr in the CLI), never to stdout. */
  progress: (line: string) => void;
}

export interface Suite {
  name: string;
  description: string;
  /** True when the data it needs is present. */
  available(options: SuiteOptions): boolean;
  run(options: SuiteOptions): Promise<SuiteResult>;
}
