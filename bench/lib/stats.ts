/** Percentiles and rounding for the report. */

/** Nearest-rank percentile (p in 0..100) of unsorted samples; NaN when there are none. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarize(samples: readonly number[]): LatencySummary {
  const count = samples.length;
  const mean = count === 0 ? Number.NaN : samples.reduce((sum, value) => sum + value, 0) / count;
  return {
    count,
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    max: count === 0 ? Number.NaN : Math.max(...samples),
    mean,
  };
}

/** Rounds to `digits` decimals; non-finite numbers become null (JSON has no NaN). */
export function round(value: number | null | undefined, digits = 2): number | null {
  if (value === null || value === undefined || !Number.isFinite(value)) return null;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Times a synchronous or asynchronous call in milliseconds. */
export async function timeMs<T>(work: () => T | Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}
