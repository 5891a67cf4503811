/**
 * Classification metrics shared by the intent suites: accuracy, macro-F1, confusion hotspots,
 * reliability tables and OOS precision/recall, plus helpers that turn them into report tables/charts.
 */
import {
  expectedCalibrationError,
  type ReliabilityBin,
  reliabilityTable,
} from '../../server/triage/classifier/calibration.ts';
import type { Chart, Table } from '../types.ts';

export { expectedCalibrationError, type ReliabilityBin, reliabilityTable };

export interface LabelledPrediction {
  label: string;
  predicted: string;
  confidence: number;
}

export function accuracy(predictions: readonly LabelledPrediction[]): number {
  if (predictions.length === 0) return 0;
  return predictions.filter((prediction) => prediction.predicted === prediction.label).length / predictions.length;
}

/** Unweighted mean of per-label F1 over the labels that occur in the gold data. */
export function macroF1(predictions: readonly LabelledPrediction[]): number {
  const labels = new Set(predictions.map((prediction) => prediction.label));
  if (labels.size === 0) return 0;
  let total = 0;
  for (const label of labels) total += f1For(predictions, label);
  return total / labels.size;
}

function f1For(predictions: readonly LabelledPrediction[], label: string): number {
  let truePositive = 0;
  let falsePositive = 0;
  let falseNegative = 0;
  for (const prediction of predictions) {
    if (prediction.predicted === label && prediction.label === label) truePositive++;
    else if (prediction.predicted === label) falsePositive++;
    else if (prediction.label === label) falseNegative++;
  }
  return truePositive === 0 ? 0 : (2 * truePositive) / (2 * truePositive + falsePositive + falseNegative);
}

export interface Confusion {
  label: string;
  predicted: string;
  count: number;
}

/** The most frequent (gold, predicted) mistakes. */
export function confusionHotspots(predictions: readonly LabelledPrediction[], limit = 10): Confusion[] {
  const counts = new Map<string, Confusion>();
  for (const prediction of predictions) {
    if (prediction.predicted === prediction.label) continue;
    const key = `${prediction.label}\u0000${prediction.predicted}`;
    const entry = counts.get(key) ?? { label: prediction.label, predicted: prediction.predicted, count: 0 };
    entry.count++;
    counts.set(key, entry);
  }
  return [...counts.values()]
    .sort((a, b) => b.count - a.count || a.label.localeCompare(b.label) || a.predicted.localeCompare(b.predicted))
    .slice(0, limit);
}

export function reliabilityOf(predictions: readonly LabelledPrediction[], bins = 10): ReliabilityBin[] {
  return reliabilityTable(
    predictions.map((prediction) => prediction.confidence),
    predictions.map((prediction) => prediction.predicted === prediction.label),
    bins,
  );
}

/** Per-group accuracy (group by gold label, by tag, ...), sorted by group name. */
export function accuracyBy<T>(
  items: readonly T[],
  groupsOf: (item: T) => readonly string[],
  isCorrect: (item: T) => boolean,
): Array<{ group: string; count: number; accuracy: number }> {
  const sums = new Map<string, { count: number; correct: number }>();
  for (const item of items) {
    for (const group of groupsOf(item)) {
      const sum = sums.get(group) ?? { count: 0, correct: 0 };
      sum.count++;
      if (isCorrect(item)) sum.correct++;
      sums.set(group, sum);
    }
  }
  return [...sums.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([group, sum]) => ({ group, count: sum.count, accuracy: sum.correct / sum.count }));
}

/** p-th percentile (0..100) by nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function round(value: number, digits = 4): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

// ---------------------------------------------------------------------------------------------
// Report building blocks

export function reliabilityReportTable(title: string, bins: readonly ReliabilityBin[]): Table {
  return {
    title,
    header: ['confidence', 'count', 'mean confidence', 'accuracy'],
    rows: bins.map((bin) => [
      `${bin.from.toFixed(1)}-${bin.to.toFixed(1)}`,
      bin.count,
      round(bin.meanConfidence, 3),
      round(bin.accuracy, 3),
    ]),
  };
}

export function reliabilityChart(title: string, bins: readonly ReliabilityBin[]): Chart {
  const used = bins.filter((bin) => bin.count > 0);
  return {
    title,
    kind: 'line',
    xLabel: 'mean confidence (bin)',
    yLabel: 'accuracy',
    x: used.map((bin) => bin.meanConfidence.toFixed(2)),
    series: [
      { name: 'accuracy', values: used.map((bin) => round(bin.accuracy, 3)) },
      { name: 'perfect calibration', values: used.map((bin) => round(bin.meanConfidence, 3)) },
    ],
  };
}

export function hotspotsTable(title: string, hotspots: readonly Confusion[]): Table {
  return {
    title,
    header: ['gold', 'predicted', 'count'],
    rows: hotspots.map((hotspot) => [hotspot.label, hotspot.predicted, hotspot.count]),
  };
}

export function hotspotsChart(title: string, hotspots: readonly Confusion[]): Chart {
  return {
    title,
    kind: 'bar',
    xLabel: 'gold → predicted',
    yLabel: 'errors',
    x: hotspots.map((hotspot) => `${hotspot.label} → ${hotspot.predicted}`),
    series: [{ name: 'errors', values: hotspots.map((hotspot) => hotspot.count) }],
  };
}

export function metricsTable(title: string, metrics: Partial<Record<string, number | null>>): Table {
  return {
    title,
    header: ['metric', 'value'],
    rows: Object.entries(metrics).map(([name, value]) => [
      name,
      value === null || value === undefined ? 'n/a' : round(value),
    ]),
  };
}
