/**
 * The answerability gate: decide from retrieval evidence alone whether the knowledge base supports
 * an answer. When it does not, the engine escalates or says it does not know instead of answering
 * from general knowledge. The threshold (and the mix of evidence) is calibrated on labelled
 * questions with an explicit criterion, never guessed.
 */
import { AppError } from '../../errors.ts';

/** Evidence about one query's retrieval, each in [0, 1]. */
export interface GateFeatures {
  /** IDF-weighted share of the query's terms that occur in the best passage. */
  coverage: number;
  /** Best BM25 score relative to the query's total IDF, squashed to [0, 1). */
  strength: number;
  /** (top1 - top2) / top1 over distinct articles: how clearly one article wins. */
  margin: number;
}

export const GATE_FEATURES = ['coverage', 'strength', 'margin'] as const satisfies ReadonlyArray<keyof GateFeatures>;

export type GateWeights = Record<keyof GateFeatures, number>;

export interface GateConfig {
  /** Non-negative, summing to 1: the gate score is their weighted mean of the features. */
  weights: GateWeights;
  /** Declined when the gate score is below this. */
  threshold: number;
  /** How the threshold was chosen, for the record. */
  calibration: string;
}

export interface GateDecision {
  answerable: boolean;
  score: number;
  threshold: number;
  features: GateFeatures;
}

export function gateScore(features: GateFeatures, weights: GateWeights): number {
  let score = 0;
  for (const name of GATE_FEATURES) score += weights[name] * features[name];
  return score;
}

export function decideAnswerable(features: GateFeatures, config: GateConfig): GateDecision {
  const score = gateScore(features, config.weights);
  return { answerable: score >= config.threshold, score, threshold: config.threshold, features };
}

export interface LabelledGateExample {
  features: GateFeatures;
  answerable: boolean;
}

export interface GateCalibrationOptions {
  /** The constraint: at most this share of answerable questions may be declined. */
  maxFalseDecline: number;
  /** Candidate weightings; the best one under the criterion wins (ties: earlier in the list). */
  weightCandidates: GateWeights[];
}

/** Mixes on a 0.25 grid: small enough not to overfit a few dozen labelled questions. */
export function defaultWeightCandidates(): GateWeights[] {
  const candidates: GateWeights[] = [];
  const steps = [0, 0.25, 0.5, 0.75, 1];
  for (const coverage of steps) {
    for (const strength of steps) {
      const margin = 1 - coverage - strength;
      if (margin < -1e-9) continue;
      candidates.push({ coverage, strength, margin: Math.max(0, Math.round(margin * 100) / 100) });
    }
  }
  return candidates;
}

export interface GateOperatingPoint {
  threshold: number;
  declineRate: number;
  falseDeclineRate: number;
}

export interface GateCalibration {
  config: GateConfig;
  /** On the calibration examples. */
  declineRate: number;
  falseDeclineRate: number;
  answerableCount: number;
  unanswerableCount: number;
}

/** Share of unanswerable declined and of answerable (falsely) declined at a threshold. */
export function evaluateGate(
  examples: LabelledGateExample[],
  weights: GateWeights,
  threshold: number,
): Omit<GateOperatingPoint, 'threshold'> {
  let declinedUnanswerable = 0;
  let unanswerable = 0;
  let declinedAnswerable = 0;
  let answerable = 0;
  for (const example of examples) {
    const declined = gateScore(example.features, weights) < threshold;
    if (example.answerable) {
      answerable++;
      if (declined) declinedAnswerable++;
    } else {
      unanswerable++;
      if (declined) declinedUnanswerable++;
    }
  }
  return {
    declineRate: unanswerable === 0 ? 0 : declinedUnanswerable / unanswerable,
    falseDeclineRate: answerable === 0 ? 0 : declinedAnswerable / answerable,
  };
}

/**
 * The highest threshold whose false-decline rate stays within the limit. Declining is monotone in
 * the threshold, so this also maximises the decline rate on unanswerable questions.
 */
function edgeThreshold(answerableScores: number[], maxFalseDecline: number): number {
  const sorted = [...answerableScores].sort((a, b) => a - b);
  const allowed = Math.floor(maxFalseDecline * sorted.length + 1e-9);
  return sorted[allowed] ?? Number.POSITIVE_INFINITY;
}

/**
 * Among thresholds that decline the same unanswerable questions as `edge`, the one that declines
 * the fewest answerable ones, placed halfway between the highest declined unanswerable score and
 * the next answerable score, so a new question in that gap is not decided by an accident of the
 * sample.
 */
function settleThreshold(answerableScores: number[], unanswerableScores: number[], edge: number): number {
  const declined = unanswerableScores.filter((score) => score < edge);
  if (declined.length === 0) return Math.min(edge, Math.min(...answerableScores));
  const highestDeclined = Math.max(...declined);
  const above = answerableScores.filter((score) => score > highestDeclined);
  const nextAnswerable = above.length > 0 ? Math.min(...above) : edge;
  return Math.min(edge, (highestDeclined + Math.min(nextAnswerable, edge)) / 2);
}

/**
 * Criterion: maximise the decline rate on unanswerable questions subject to a false-decline rate on
 * answerable ones of at most `maxFalseDecline`; at that decline rate, the lowest false-decline rate
 * (threshold settled in the gap, see settleThreshold); ties between weightings go to the earlier
 * candidate.
 */
export function calibrateGate(
  examples: LabelledGateExample[],
  options: Partial<GateCalibrationOptions> = {},
): GateCalibration {
  const maxFalseDecline = options.maxFalseDecline ?? 0.2;
  const candidates = options.weightCandidates ?? defaultWeightCandidates();
  const answerable = examples.filter((example) => example.answerable);
  const unanswerable = examples.filter((example) => !example.answerable);
  if (answerable.length === 0 || unanswerable.length === 0) {
    throw new AppError('BAD_REQUEST', 'gate calibration needs both answerable and unanswerable examples', {
      details: { answerable: answerable.length, unanswerable: unanswerable.length },
    });
  }
  if (!(maxFalseDecline >= 0 && maxFalseDecline < 1)) {
    throw new AppError('BAD_REQUEST', 'maxFalseDecline must be in [0, 1)', { details: { maxFalseDecline } });
  }
  let best: (GateOperatingPoint & { weights: GateWeights }) | undefined;
  for (const weights of candidates) {
    const answerableScores = answerable.map((example) => gateScore(example.features, weights));
    const unanswerableScores = unanswerable.map((example) => gateScore(example.features, weights));
    const threshold = settleThreshold(
      answerableScores,
      unanswerableScores,
      edgeThreshold(answerableScores, maxFalseDecline),
    );
    const point = { threshold, weights, ...evaluateGate(examples, weights, threshold) };
    if (
      best === undefined ||
      point.declineRate > best.declineRate + 1e-12 ||
      (Math.abs(point.declineRate - best.declineRate) <= 1e-12 &&
        point.falseDeclineRate < best.falseDeclineRate - 1e-12)
    ) {
      best = point;
    }
  }
  if (best === undefined) throw new AppError('BAD_REQUEST', 'no gate weight candidates given');
  return {
    config: {
      weights: best.weights,
      threshold: best.threshold,
      calibration:
        `max decline on unanswerable s.t. false decline <= ${maxFalseDecline} on answerable, then fewest false declines; ` +
        `${answerable.length} answerable + ${unanswerable.length} unanswerable examples`,
    },
    declineRate: best.declineRate,
    falseDeclineRate: best.falseDeclineRate,
    answerableCount: answerable.length,
    unanswerableCount: unanswerable.length,
  };
}

/** The trade-off curve of one weighting: decline vs false decline as the threshold moves. */
export function gateTradeOff(examples: LabelledGateExample[], weights: GateWeights, steps = 20): GateOperatingPoint[] {
  const points: GateOperatingPoint[] = [];
  for (let step = 0; step <= steps; step++) {
    const threshold = step / steps;
    points.push({ threshold, ...evaluateGate(examples, weights, threshold) });
  }
  return points;
}
