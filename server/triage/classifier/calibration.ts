/**
 * Making confidence mean what it says: temperature scaling fitted on validation logits, reliability
 * tables, expected calibration error, and the out-of-scope threshold choice. All pure functions.
 */

export interface ReliabilityBin {
  /** Lower and upper confidence bounds of the bin. */
  from: number;
  to: number;
  count: number;
  meanConfidence: number;
  accuracy: number;
}

/** Softmax of logits / temperature, written into `out`. */
export function softmaxInto(logits: ArrayLike<number>, temperature: number, out: Float64Array): void {
  let max = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < out.length; k++) max = Math.max(max, logits[k]! / temperature);
  let sum = 0;
  for (let k = 0; k < out.length; k++) {
    const value = Math.exp(logits[k]! / temperature - max);
    out[k] = value;
    sum += value;
  }
  for (let k = 0; k < out.length; k++) out[k] = out[k]! / sum;
}

/** Mean negative log-likelihood of the true classes at a temperature. */
export function negativeLogLikelihood(
  logits: readonly Float32Array[],
  targets: readonly number[],
  temperature: number,
): number {
  if (logits.length === 0) return 0;
  let total = 0;
  for (let i = 0; i < logits.length; i++) {
    const row = logits[i]!;
    let max = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < row.length; k++) max = Math.max(max, row[k]! / temperature);
    let sum = 0;
    for (let k = 0; k < row.length; k++) sum += Math.exp(row[k]! / temperature - max);
    total += Math.log(sum) + max - row[targets[i]!]! / temperature;
  }
  return total / logits.length;
}

/**
 * The temperature minimising validation NLL, by golden-section search over log(T).
 * NLL is unimodal in T for a fixed set of logits, so a 1-D search is enough.
 */
export function fitTemperature(logits: readonly Float32Array[], targets: readonly number[]): number {
  if (logits.length === 0) return 1;
  let low = Math.log(0.02);
  let high = Math.log(50);
  const ratio = (Math.sqrt(5) - 1) / 2;
  const loss = (logT: number): number => negativeLogLikelihood(logits, targets, Math.exp(logT));
  let a = high - ratio * (high - low);
  let b = low + ratio * (high - low);
  let lossA = loss(a);
  let lossB = loss(b);
  for (let iteration = 0; iteration < 40; iteration++) {
    if (lossA < lossB) {
      high = b;
      b = a;
      lossB = lossA;
      a = high - ratio * (high - low);
      lossA = loss(a);
    } else {
      low = a;
      a = b;
      lossA = lossB;
      b = low + ratio * (high - low);
      lossB = loss(b);
    }
  }
  return Math.exp((low + high) / 2);
}

/** Equal-width confidence bins; empty bins are kept so tables line up across models. */
export function reliabilityTable(
  confidences: readonly number[],
  correct: readonly boolean[],
  bins = 10,
): ReliabilityBin[] {
  const table: ReliabilityBin[] = [];
  const sums = Array.from({ length: bins }, () => ({ count: 0, confidence: 0, correct: 0 }));
  for (let i = 0; i < confidences.length; i++) {
    const confidence = confidences[i]!;
    const bin = Math.min(bins - 1, Math.floor(confidence * bins));
    const sum = sums[bin]!;
    sum.count++;
    sum.confidence += confidence;
    if (correct[i]) sum.correct++;
  }
  sums.forEach((sum, index) => {
    table.push({
      from: index / bins,
      to: (index + 1) / bins,
      count: sum.count,
      meanConfidence: sum.count === 0 ? 0 : sum.confidence / sum.count,
      accuracy: sum.count === 0 ? 0 : sum.correct / sum.count,
    });
  });
  return table;
}

/** Expected calibration error: the count-weighted gap between confidence and accuracy. */
export function expectedCalibrationError(table: readonly ReliabilityBin[]): number {
  const total = table.reduce((sum, bin) => sum + bin.count, 0);
  if (total === 0) return 0;
  return table.reduce((sum, bin) => sum + (bin.count / total) * Math.abs(bin.meanConfidence - bin.accuracy), 0);
}

export interface ScoredPrediction {
  /** The true label ('oos' for out-of-scope). */
  label: string;
  predicted: string;
  confidence: number;
}

export interface OosOperatingPoint {
  threshold: number;
  inScopeAccuracy: number;
  oosRecall: number;
  oosPrecision: number;
}

/** In-scope accuracy and OOS recall/precision when everything under `threshold` (or predicted oos) is out-of-scope. */
export function oosOperatingPoint(
  predictions: readonly ScoredPrediction[],
  threshold: number,
  oosLabel = 'oos',
): OosOperatingPoint {
  let inScope = 0;
  let inScopeCorrect = 0;
  let oos = 0;
  let oosCaught = 0;
  let flagged = 0;
  for (const prediction of predictions) {
    const rejected = prediction.predicted === oosLabel || prediction.confidence < threshold;
    if (rejected) flagged++;
    if (prediction.label === oosLabel) {
      oos++;
      if (rejected) oosCaught++;
    } else {
      inScope++;
      if (!rejected && prediction.predicted === prediction.label) inScopeCorrect++;
    }
  }
  return {
    threshold,
    inScopeAccuracy: inScope === 0 ? 0 : inScopeCorrect / inScope,
    oosRecall: oos === 0 ? 0 : oosCaught / oos,
    oosPrecision: flagged === 0 ? 0 : oosCaught / flagged,
  };
}

/**
 * The OOS threshold with the best in-scope accuracy among those that catch at least `minOosRecall`
 * of the out-of-scope examples. Falls back to the threshold with the best recall when none reaches it.
 */
export function chooseOosThreshold(
  predictions: readonly ScoredPrediction[],
  minOosRecall: number,
  oosLabel = 'oos',
): OosOperatingPoint {
  let best: OosOperatingPoint | undefined;
  let bestRecall: OosOperatingPoint | undefined;
  for (let step = 0; step <= 100; step++) {
    const point = oosOperatingPoint(predictions, step / 100, oosLabel);
    if (point.oosRecall >= minOosRecall && (best === undefined || point.inScopeAccuracy > best.inScopeAccuracy))
      best = point;
    if (bestRecall === undefined || point.oosRecall > bestRecall.oosRecall) bestRecall = point;
  }
  return (best ?? bestRecall)!;
}
