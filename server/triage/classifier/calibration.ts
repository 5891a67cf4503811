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
  /** The score the out-of-scope threshold is compared with (the model's in-scope score). */
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
  return sweepOperatingPoints(predictions, [threshold], oosLabel)[0]!;
}

/** Standard normal distribution function: 1/2 plus the density's integral from 0, by Simpson's rule. */
export function normalCdf(z: number): number {
  const x = Math.min(Math.abs(z), 12);
  const intervals = 400;
  const step = x / intervals;
  let sum = 0;
  for (let i = 0; i <= intervals; i++) {
    const weight = i === 0 || i === intervals ? 1 : i % 2 === 1 ? 4 : 2;
    const t = i * step;
    sum += weight * Math.exp((-t * t) / 2);
  }
  const half = (sum * step) / 3 / Math.sqrt(2 * Math.PI);
  return z >= 0 ? 0.5 + half : 0.5 - half;
}

const quantiles = new Map<number, number>();

/**
 * The z with normalCdf(z) = p, by bisection (0 < p < 1). Remembered per p: a threshold sweep asks for
 * the same one thousands of times, and each costs about 24,000 exp() calls.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile needs 0 < p < 1 (got ${p})`);
  const known = quantiles.get(p);
  if (known !== undefined) return known;
  const z = bisectQuantile(p);
  if (quantiles.size < 64) quantiles.set(p, z);
  return z;
}

function bisectQuantile(p: number): number {
  let low = -10;
  let high = 10;
  for (let iteration = 0; iteration < 60; iteration++) {
    const middle = (low + high) / 2;
    if (normalCdf(middle) < p) low = middle;
    else high = middle;
  }
  return (low + high) / 2;
}

/**
 * One-sided Wilson score lower bound on a proportion: with probability about `confidence`, the true rate
 * behind `successes` out of `trials` is at least this. `confidence` 0 gives the point estimate.
 */
export function wilsonLowerBound(successes: number, trials: number, confidence: number): number {
  if (trials === 0) return 0;
  const rate = successes / trials;
  if (confidence <= 0) return rate;
  const z = normalQuantile(confidence);
  const z2 = z * z;
  const centre = rate + z2 / (2 * trials);
  const spread = z * Math.sqrt((rate * (1 - rate)) / trials + z2 / (4 * trials * trials));
  return Math.max(0, (centre - spread) / (1 + z2 / trials));
}

export interface OosTarget {
  /** OOS recall the threshold must reach. */
  minRecall: number;
  /**
   * Confidence that the recall on new data reaches `minRecall`: the Wilson lower bound of the measured
   * recall at this level must reach it. 0 asks only the measured (point) recall to reach it.
   */
  confidence: number;
}

export interface OosChoice extends OosOperatingPoint {
  /** Out-of-scope examples the choice was made on. */
  oosExamples: number;
  /** Wilson lower bound of `oosRecall` at the target's confidence. */
  oosRecallLowerBound: number;
  /** Whether the target was met (by the lower bound, or by the point recall when too few examples allow no bound to). */
  meetsTarget: boolean;
}

/**
 * The OOS threshold with the best in-scope accuracy among those whose OOS recall meets the target with
 * the asked confidence (then, at equal accuracy, the one catching more OOS). Candidate thresholds are the
 * midpoints between neighbouring scores, so the choice does not sit on a validation example. When even
 * catching every OOS example could not meet the bound (too few of them, e.g. under 7 for 0.7 at 95%), the
 * measured recall must reach `minRecall`; when no threshold meets the target, the one with the best recall
 * is returned (with `meetsTarget` false).
 */
export function chooseOosThreshold(
  predictions: readonly ScoredPrediction[],
  target: OosTarget | number,
  oosLabel = 'oos',
): OosChoice {
  const { minRecall, confidence } = typeof target === 'number' ? { minRecall: target, confidence: 0 } : target;
  const scores = [
    ...new Set(predictions.filter((prediction) => prediction.predicted !== oosLabel).map((p) => p.confidence)),
  ].sort((a, b) => a - b);
  const candidates = [0];
  for (let i = 0; i + 1 < scores.length; i++) candidates.push((scores[i]! + scores[i + 1]!) / 2);
  if (scores.length > 0 && scores[scores.length - 1]! < 1) candidates.push(1);
  const oosExamples = predictions.filter((prediction) => prediction.label === oosLabel).length;
  const bestRecall = wilsonLowerBound(oosExamples, oosExamples, confidence);
  // Too few OOS examples for even perfect recall to prove the target: fall back to the point recall.
  const bounded = bestRecall >= minRecall;
  const choices = sweepOperatingPoints(predictions, candidates, oosLabel).map((point): OosChoice => {
    const caught = Math.round(point.oosRecall * oosExamples);
    const lowerBound = wilsonLowerBound(caught, oosExamples, confidence);
    return {
      ...point,
      oosExamples,
      oosRecallLowerBound: lowerBound,
      meetsTarget: (bounded ? lowerBound : point.oosRecall) >= minRecall,
    };
  });
  let best: OosChoice | undefined;
  let fallback: OosChoice | undefined;
  for (const choice of choices) {
    if (
      choice.meetsTarget &&
      (best === undefined ||
        choice.inScopeAccuracy > best.inScopeAccuracy ||
        (choice.inScopeAccuracy === best.inScopeAccuracy && choice.oosRecall > best.oosRecall))
    )
      best = choice;
    if (fallback === undefined || choice.oosRecall > fallback.oosRecall) fallback = choice;
  }
  return (best ?? fallback)!;
}

/** oosOperatingPoint at every threshold of an ascending list, in one pass over the sorted predictions. */
function sweepOperatingPoints(
  predictions: readonly ScoredPrediction[],
  thresholds: readonly number[],
  oosLabel: string,
): OosOperatingPoint[] {
  let inScope = 0;
  let oos = 0;
  // Counts at threshold 0: only predicted-oos examples are rejected.
  let inScopeCorrect = 0;
  let oosCaught = 0;
  let flagged = 0;
  const open: ScoredPrediction[] = [];
  for (const prediction of predictions) {
    const isOos = prediction.label === oosLabel;
    if (isOos) oos++;
    else inScope++;
    if (prediction.predicted === oosLabel) {
      flagged++;
      if (isOos) oosCaught++;
    } else {
      open.push(prediction);
      if (!isOos && prediction.predicted === prediction.label) inScopeCorrect++;
    }
  }
  open.sort((a, b) => a.confidence - b.confidence);
  const points: OosOperatingPoint[] = [];
  let next = 0;
  for (const threshold of thresholds) {
    while (next < open.length && open[next]!.confidence < threshold) {
      const prediction = open[next]!;
      flagged++;
      if (prediction.label === oosLabel) oosCaught++;
      else if (prediction.predicted === prediction.label) inScopeCorrect--;
      next++;
    }
    points.push({
      threshold,
      inScopeAccuracy: inScope === 0 ? 0 : inScopeCorrect / inScope,
      oosRecall: oos === 0 ? 0 : oosCaught / oos,
      oosPrecision: flagged === 0 ? 0 : oosCaught / flagged,
    });
  }
  return points;
}
