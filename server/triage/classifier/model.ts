/**
 * The local intent model: TF-IDF word and character n-grams, multinomial logistic regression trained
 * in-process by SGD with an L2 penalty, confidence calibrated by temperature scaling on a validation split, and an
 * out-of-scope rule (which score, which threshold) chosen on that split. Serialises to JSON so each tenant's
 * model can live in a key-value store.
 */
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import { type LabelledExample, OUT_OF_SCOPE } from '../types.ts';
import {
  chooseOosThreshold,
  expectedCalibrationError,
  fitTemperature,
  type OosChoice,
  type OosOperatingPoint,
  type OosTarget,
  type ReliabilityBin,
  reliabilityTable,
  softmaxInto,
} from './calibration.ts';
import {
  DEFAULT_FEATURE_OPTIONS,
  type FeatureOptions,
  fitVectorizer,
  type SparseVector,
  type Vectorizer,
  vectorize,
  vectorizerFromTerms,
} from './features.ts';
import { hashFraction, seededRandom, shuffleInPlace } from './random.ts';

export const MODEL_FORMAT = 'tandem-intent-model';
/**
 * Bump when features or the serialised shape change: older JSON is then rejected, not misread
 * (version 2, which differs only by lacking the OOS score rule, is read as the 'confidence' rule).
 */
export const MODEL_VERSION = 3;
/** Used when validation has no out-of-scope examples to choose from. */
export const DEFAULT_OOS_THRESHOLD = 0.3;
/** The product's floor on out-of-scope recall. */
export const DEFAULT_MIN_OOS_RECALL = 0.7;
/**
 * How sure the threshold choice must be that the recall floor holds on new data: the one-sided Wilson
 * lower bound of the validation recall at this level must reach the floor. With 100 validation OOS
 * examples a measured recall is only good to about +-0.045 (one standard error), so aiming the measured
 * recall at the floor (or one standard error above it) misses it on new data about half (a sixth) of the time.
 */
export const DEFAULT_OOS_RECALL_CONFIDENCE = 0.95;

export type OosMode = 'auto' | 'class' | 'threshold';

/**
 * What the out-of-scope threshold is compared with.
 * - `confidence`: the calibrated probability of the top label (maximum softmax probability).
 * - `versus-oos`: the best intent's probability against the 'oos' class alone, p(best) / (p(best) + p(oos)),
 *   i.e. the sigmoid of their logit margin. Unlike the top probability it does not drop when an
 *   in-scope message is split between two similar intents, only when 'oos' gains on the best intent.
 *   Needs an 'oos' class.
 */
export type OosScore = 'confidence' | 'versus-oos';
export const OOS_SCORES: readonly OosScore[] = ['confidence', 'versus-oos'];

export interface TrainOptions {
  features?: Partial<FeatureOptions>;
  /** Passes over the training data (raised for small data sets, see MIN_TRAINING_STEPS). */
  epochs?: number;
  /** Initial SGD step; it decays linearly to zero over training. */
  learningRate?: number;
  /** L2 penalty on the weights (coefficient on the mean loss). */
  l2?: number;
  /** Units of the hidden-layer network averaged with the linear model (0: linear model only). */
  hiddenUnits?: number;
  /** Passes of the hidden-layer network over the data (raised for small data sets like `epochs`). */
  hiddenEpochs?: number;
  seed?: number;
  /** Validation examples for calibration and thresholds; carved from the training set when absent. */
  validation?: readonly LabelledExample[];
  /** Share of training examples carved out for validation when none is given. */
  validationFraction?: number;
  /** How to use 'oos' training examples: as a class, only through the threshold, or whichever validates better. */
  oosMode?: OosMode;
  /** Which score the OOS threshold applies to, or whichever validates better ('auto', the default). */
  oosScore?: OosScore | 'auto';
  /** OOS recall floor the threshold must keep (DEFAULT_MIN_OOS_RECALL). */
  minOosRecall?: number;
  /** Confidence for the recall floor's lower bound (DEFAULT_OOS_RECALL_CONFIDENCE); 0 uses the measured recall. */
  oosRecallConfidence?: number;
  /** Train the second OOS variant on a worker thread when the data is large enough (default true). */
  parallel?: boolean;
  progress?: (line: string) => void;
}

export interface TrainingMetadata {
  trainedAt: string;
  trainExamples: number;
  validationExamples: number;
  validationCarved: boolean;
  examplesPerLabel: Record<string, number>;
  features: number;
  epochs: number;
  hiddenUnits: number;
  trainSeconds: number;
  oosMode: 'class' | 'threshold' | 'none';
  /** Validation figures: closed-set accuracy and calibration before/after temperature scaling. */
  validationAccuracy: number;
  eceBefore: number;
  eceAfter: number;
  oosOperatingPoint: OosOperatingPoint | null;
  /** The recall target and the evidence for the chosen threshold (null: no OOS validation, or a version 2 model). */
  oosEvidence: OosEvidence | null;
}

export interface OosEvidence extends OosTarget {
  /** Validation OOS examples the threshold was chosen on. */
  oosExamples: number;
  /** Wilson lower bound of the validation OOS recall at `confidence`. */
  oosRecallLowerBound: number;
  /** Whether the bound (or, with too few examples for any bound to, the measured recall) reaches `minRecall`. */
  meetsTarget: boolean;
}

/** A one-hidden-layer ReLU network on the same sparse features, averaged with the linear model's logits. */
export interface HiddenLayer {
  size: number;
  /** Row-major by feature: inputWeights[feature * size + unit]. */
  inputWeights: Float32Array;
  inputBias: Float32Array;
  /** Row-major by unit: outputWeights[unit * labels + label]. */
  outputWeights: Float32Array;
  outputBias: Float32Array;
}

export interface IntentModel {
  version: number;
  labels: string[];
  vectorizer: Vectorizer;
  /** Row-major by feature: weights[feature * labels.length + label]. */
  weights: Float32Array;
  bias: Float32Array;
  /** Absent when trained with hiddenUnits 0: then the logits are the linear model's alone. */
  hidden?: HiddenLayer;
  temperature: number;
  /** The score `oosThreshold` applies to (see OosScore). */
  oosScore: OosScore;
  /** Recommended out-of-scope threshold on the in-scope score. */
  oosThreshold: number;
  reliability: ReliabilityBin[];
  metadata: TrainingMetadata;
}

export interface RankedLabel {
  label: string;
  confidence: number;
}

export interface Prediction {
  label: string;
  /** Calibrated probability of `label`. */
  confidence: number;
  /** All labels, best first. */
  ranked: RankedLabel[];
  /** The score the out-of-scope threshold applies to (the model's `oosScore` rule); higher is more in scope. */
  inScopeScore: number;
}

/** The model's out-of-scope decision: the top label is 'oos', or the in-scope score is under the threshold. */
export function isOutOfScope(prediction: Prediction, threshold: number): boolean {
  return prediction.label === OUT_OF_SCOPE || prediction.inScopeScore < threshold;
}

/** The in-scope score of a probability vector under a rule; `oosIndex` is the 'oos' label's index or -1. */
export function inScopeScoreOf(probabilities: ArrayLike<number>, oosIndex: number, rule: OosScore): number {
  let best = 0;
  let bestInScope = -1;
  for (let k = 0; k < probabilities.length; k++) {
    const probability = probabilities[k]!;
    if (probability > best) best = probability;
    if (k !== oosIndex && (bestInScope < 0 || probability > probabilities[bestInScope]!)) bestInScope = k;
  }
  if (rule === 'confidence' || oosIndex < 0 || bestInScope < 0) return best;
  const inScope = probabilities[bestInScope]!;
  const total = inScope + probabilities[oosIndex]!;
  return total === 0 ? 0 : inScope / total;
}

const DEFAULTS = {
  epochs: 5,
  learningRate: 2,
  l2: 3e-6,
  hiddenUnits: 128,
  hiddenEpochs: 6,
  hiddenLearningRate: 0.2,
  /** Half-width of the uniform initialisation of the input layer (small: the features are L2-normalised). */
  hiddenInit: 0.05,
  seed: 7,
  validationFraction: 0.1,
};
/**
 * Small data sets get more epochs so that the optimiser takes at least this many steps in all
 * (a 500-example tenant otherwise stops far from the optimum).
 */
const MIN_TRAINING_STEPS = 40_000;
/**
 * Work allowed for training, in multiply-adds, so that long texts cost fewer epochs instead of minutes.
 * A linear epoch costs the training examples' non-zero features times the labels; a hidden-layer epoch
 * costs (non-zero features plus examples times labels) times the units. CLINC150 (15,100 short queries,
 * 151 labels) needs 1.38G linear at 5 epochs and 3.16G hidden at 6, within both budgets; 15,000 tickets
 * of 75 to 100 words get the minimum of 2 epochs of each.
 */
const LINEAR_WORK_BUDGET = 1.5e9;
const HIDDEN_WORK_BUDGET = 3.3e9;
const MIN_LINEAR_EPOCHS = 2;
const MIN_HIDDEN_EPOCHS = 2;

function featureSteps(vectors: readonly SparseVector[]): number {
  return vectors.reduce((sum, vector) => sum + vector.indices.length, 0);
}

/** Epochs that keep `workPerEpoch` times epochs within `budget`: never more than asked, never under `minimum`. */
export function affordableEpochs(workPerEpoch: number, budget: number, requested: number, minimum: number): number {
  const affordable = Math.max(minimum, Math.floor(budget / Math.max(1, workPerEpoch)));
  return Math.min(requested, affordable);
}

function withinLinearBudget(
  vectors: readonly SparseVector[],
  labelCount: number,
  settings: Settings,
  progress: (line: string) => void,
): Settings {
  if (settings.epochsGiven) return settings;
  const work = featureSteps(vectors) * labelCount;
  const affordable = affordableEpochs(work, LINEAR_WORK_BUDGET, settings.epochs, MIN_LINEAR_EPOCHS);
  if (affordable >= settings.epochs) return settings;
  progress(
    `linear model: ${affordable} epochs instead of ${settings.epochs} (${(work / 1e9).toFixed(2)}G multiply-adds per epoch)`,
  );
  return { ...settings, epochs: affordable };
}

interface Settings {
  epochs: number;
  /** Whether the caller set `epochs` (then the work budget does not lower it). */
  epochsGiven: boolean;
  learningRate: number;
  l2: number;
  hiddenUnits: number;
  hiddenEpochs: number;
  seed: number;
  validationFraction: number;
}

// ---------------------------------------------------------------------------------------------
// Inference

type LogitModel = Pick<IntentModel, 'labels' | 'weights' | 'bias' | 'hidden'>;

/** Raw (uncalibrated) scores for every label: the linear model's, averaged with the hidden-layer network's. */
export function logitsFor(model: LogitModel, vector: SparseVector): Float32Array {
  const labelCount = model.labels.length;
  const logits = new Float32Array(model.bias);
  const { indices, values } = vector;
  for (let position = 0; position < indices.length; position++) {
    const base = indices[position]! * labelCount;
    const value = values[position]!;
    for (let k = 0; k < labelCount; k++) logits[k] = logits[k]! + value * model.weights[base + k]!;
  }
  if (model.hidden) {
    const activations = new Float64Array(model.hidden.size);
    const network = new Float64Array(labelCount);
    hiddenForward(model.hidden, vector, activations, network);
    for (let k = 0; k < labelCount; k++) logits[k] = 0.5 * (logits[k]! + network[k]!);
  }
  return logits;
}

/** ReLU hidden layer then output logits, written into `activations` and `out`. */
function hiddenForward(layer: HiddenLayer, vector: SparseVector, activations: Float64Array, out: Float64Array): void {
  const size = layer.size;
  const labelCount = out.length;
  activations.set(layer.inputBias);
  for (let position = 0; position < vector.indices.length; position++) {
    const base = vector.indices[position]! * size;
    const value = vector.values[position]!;
    for (let unit = 0; unit < size; unit++)
      activations[unit] = activations[unit]! + value * layer.inputWeights[base + unit]!;
  }
  out.set(layer.outputBias);
  for (let unit = 0; unit < size; unit++) {
    const activation = activations[unit]!;
    if (activation <= 0) {
      activations[unit] = 0;
      continue;
    }
    const base = unit * labelCount;
    for (let k = 0; k < labelCount; k++) out[k] = out[k]! + activation * layer.outputWeights[base + k]!;
  }
}

export function predict(model: IntentModel, text: string): Prediction {
  const logits = logitsFor(model, vectorize(model.vectorizer, text));
  const probabilities = new Float64Array(model.labels.length);
  softmaxInto(logits, model.temperature, probabilities);
  const ranked = model.labels
    .map((label, index) => ({ label, confidence: probabilities[index]! }))
    .sort((a, b) => b.confidence - a.confidence || a.label.localeCompare(b.label));
  const top = ranked[0]!;
  const inScopeScore = inScopeScoreOf(probabilities, model.labels.indexOf(OUT_OF_SCOPE), model.oosScore);
  return { label: top.label, confidence: top.confidence, ranked, inScopeScore };
}

// ---------------------------------------------------------------------------------------------
// Training

const exampleSchema = z.object({ text: z.string(), label: z.string().min(1) });

function validateExamples(examples: readonly LabelledExample[], what: string): void {
  examples.forEach((example, index) => {
    const parsed = exampleSchema.safeParse(example);
    if (!parsed.success) {
      throw new AppError(
        'VALIDATION_FAILED',
        `${what} example ${index + 1} is not {text, label}: ${parsed.error.issues[0]?.message}`,
      );
    }
  });
}

/** Deterministic validation carve-out by hash of the text, keeping at least one training example per label. */
export function carveValidation(
  examples: readonly LabelledExample[],
  fraction: number,
): { train: LabelledExample[]; validation: LabelledExample[] } {
  const train: LabelledExample[] = [];
  const validation: LabelledExample[] = [];
  for (const example of examples) {
    (hashFraction(`${example.label}\u0000${example.text}`) < fraction ? validation : train).push(example);
  }
  const trainLabels = new Set(train.map((example) => example.label));
  const kept = validation.filter((example) => {
    if (trainLabels.has(example.label)) return true;
    trainLabels.add(example.label);
    train.push(example);
    return false;
  });
  return { train, validation: kept };
}

interface FittedWeights {
  weights: Float32Array;
  bias: Float32Array;
}

/**
 * Multinomial logistic regression with an L2 penalty, by plain per-example SGD and a learning rate
 * decaying linearly to zero. On sparse TF-IDF input this gets closer to the penalised optimum in a few
 * epochs than (lazy) Adam did, at a quarter of the work per step: the penalty is a global scale factor
 * (w = scale * v), so each step touches only the rows of the example's features.
 */
function fitSoftmax(
  vectors: readonly SparseVector[],
  targets: Int32Array,
  featureCount: number,
  labelCount: number,
  settings: Settings,
  progress: (line: string) => void,
): FittedWeights {
  const scaled = new Float32Array(featureCount * labelCount);
  const bias = new Float32Array(labelCount);
  const logits = new Float64Array(labelCount);
  const probabilities = new Float64Array(labelCount);
  const random = seededRandom(settings.seed);
  const order = Array.from({ length: vectors.length }, (_, index) => index);
  const totalSteps = settings.epochs * vectors.length;
  let scale = 1;
  let step = 0;
  for (let epoch = 0; epoch < settings.epochs; epoch++) {
    shuffleInPlace(order, random);
    let loss = 0;
    for (const example of order) {
      const learningRate = settings.learningRate * (1 - step / totalSteps);
      step++;
      const vector = vectors[example]!;
      logits.set(bias);
      for (let position = 0; position < vector.indices.length; position++) {
        const base = vector.indices[position]! * labelCount;
        const value = vector.values[position]! * scale;
        for (let k = 0; k < labelCount; k++) logits[k] = logits[k]! + value * scaled[base + k]!;
      }
      softmaxInto(logits, 1, probabilities);
      const target = targets[example]!;
      loss -= Math.log(Math.max(probabilities[target]!, 1e-12));
      probabilities[target] = probabilities[target]! - 1;
      // Shrinking every weight by (1 - lr * l2) is one multiplication of the scale.
      scale *= 1 - learningRate * settings.l2;
      const factor = learningRate / scale;
      for (let position = 0; position < vector.indices.length; position++) {
        const base = vector.indices[position]! * labelCount;
        const value = vector.values[position]! * factor;
        for (let k = 0; k < labelCount; k++) scaled[base + k] = scaled[base + k]! - value * probabilities[k]!;
      }
      for (let k = 0; k < labelCount; k++) bias[k] = bias[k]! - learningRate * probabilities[k]!;
      // Fold the scale back in before it gets small enough to cost float precision.
      if (scale < 1e-3) {
        foldScale(scaled, scale);
        scale = 1;
      }
    }
    progress(`epoch ${epoch + 1}/${settings.epochs}: mean loss ${(loss / Math.max(1, vectors.length)).toFixed(4)}`);
  }
  foldScale(scaled, scale);
  return { weights: scaled, bias };
}

/**
 * The hidden-layer network by per-example SGD with a linearly decaying step. It sees the same features
 * as the linear model; its different errors are what make the average better than either alone.
 */
function fitHidden(
  vectors: readonly SparseVector[],
  targets: Int32Array,
  featureCount: number,
  labelCount: number,
  settings: Settings,
  progress: (line: string) => void,
): HiddenLayer {
  const size = settings.hiddenUnits;
  const random = seededRandom(settings.seed + 1);
  const layer: HiddenLayer = {
    size,
    inputWeights: new Float32Array(featureCount * size),
    inputBias: new Float32Array(size),
    outputWeights: new Float32Array(size * labelCount),
    outputBias: new Float32Array(labelCount),
  };
  const outputInit = Math.sqrt(6 / (size + labelCount));
  for (let index = 0; index < layer.inputWeights.length; index++)
    layer.inputWeights[index] = (random() * 2 - 1) * DEFAULTS.hiddenInit;
  for (let index = 0; index < layer.outputWeights.length; index++)
    layer.outputWeights[index] = (random() * 2 - 1) * outputInit;
  const activations = new Float64Array(size);
  const unitGradient = new Float64Array(size);
  const logits = new Float64Array(labelCount);
  const probabilities = new Float64Array(labelCount);
  const order = Array.from({ length: vectors.length }, (_, index) => index);
  const totalSteps = settings.hiddenEpochs * vectors.length;
  let step = 0;
  for (let epoch = 0; epoch < settings.hiddenEpochs; epoch++) {
    shuffleInPlace(order, random);
    let loss = 0;
    for (const example of order) {
      const learningRate = DEFAULTS.hiddenLearningRate * (1 - step / totalSteps);
      step++;
      const vector = vectors[example]!;
      hiddenForward(layer, vector, activations, logits);
      softmaxInto(logits, 1, probabilities);
      const target = targets[example]!;
      loss -= Math.log(Math.max(probabilities[target]!, 1e-12));
      probabilities[target] = probabilities[target]! - 1;
      for (let unit = 0; unit < size; unit++) {
        const activation = activations[unit]!;
        unitGradient[unit] = 0;
        if (activation === 0) continue;
        const base = unit * labelCount;
        let sum = 0;
        for (let k = 0; k < labelCount; k++) {
          sum += probabilities[k]! * layer.outputWeights[base + k]!;
          layer.outputWeights[base + k] =
            layer.outputWeights[base + k]! - learningRate * activation * probabilities[k]!;
        }
        unitGradient[unit] = sum;
      }
      for (let k = 0; k < labelCount; k++)
        layer.outputBias[k] = layer.outputBias[k]! - learningRate * probabilities[k]!;
      for (let position = 0; position < vector.indices.length; position++) {
        const base = vector.indices[position]! * size;
        const value = vector.values[position]! * learningRate;
        for (let unit = 0; unit < size; unit++)
          layer.inputWeights[base + unit] = layer.inputWeights[base + unit]! - value * unitGradient[unit]!;
      }
      for (let unit = 0; unit < size; unit++)
        layer.inputBias[unit] = layer.inputBias[unit]! - learningRate * unitGradient[unit]!;
    }
    progress(
      `hidden epoch ${epoch + 1}/${settings.hiddenEpochs}: mean loss ${(loss / Math.max(1, vectors.length)).toFixed(4)}`,
    );
  }
  return layer;
}

function foldScale(values: Float32Array, scale: number): void {
  if (scale === 1) return;
  for (let index = 0; index < values.length; index++) values[index] = values[index]! * scale;
}

/** How calibrate chooses the OOS rule: the recall target and which scores may be used. */
interface OosPolicy {
  target: OosTarget;
  scores: 'auto' | OosScore;
}

interface Candidate {
  model: IntentModel;
  /** What variant selection compares: in-scope accuracy at the chosen OOS threshold, or closed-set accuracy. */
  score: number;
  meetsRecall: boolean;
  /** Kept so the chosen variant can get its hidden layer without vectorising again. */
  vectors: SparseVector[];
  targets: Int32Array;
}

function countLabels(examples: readonly LabelledExample[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const example of examples) counts[example.label] = (counts[example.label] ?? 0) + 1;
  return counts;
}

/** The linear model for one way of handling 'oos', calibrated and thresholded on validation. */
function trainVariant(
  train: readonly LabelledExample[],
  validation: readonly LabelledExample[],
  oosMode: 'class' | 'threshold' | 'none',
  validationCarved: boolean,
  features: FeatureOptions,
  settings: Settings,
  policy: OosPolicy,
  progress: (line: string) => void,
): Candidate {
  const trainSet = oosMode === 'threshold' ? train.filter((example) => example.label !== OUT_OF_SCOPE) : [...train];
  const labels = [...new Set(trainSet.map((example) => example.label))].sort();
  const labelIndex = new Map(labels.map((label, index) => [label, index]));
  const vectorizer = fitVectorizer(
    trainSet.map((example) => example.text),
    features,
  );
  const vectors = trainSet.map((example) => vectorize(vectorizer, example.text));
  const targets = Int32Array.from(trainSet, (example) => labelIndex.get(example.label)!);
  progress(
    `training ${labels.length} labels on ${trainSet.length} examples, ${vectorizer.terms.length} features (oos: ${oosMode})`,
  );
  const linearSettings = withinLinearBudget(vectors, labels.length, settings, progress);
  const { weights, bias } = fitSoftmax(
    vectors,
    targets,
    vectorizer.terms.length,
    labels.length,
    linearSettings,
    progress,
  );

  const model: IntentModel = {
    version: MODEL_VERSION,
    labels,
    vectorizer,
    weights,
    bias,
    temperature: 1,
    oosScore: 'confidence',
    oosThreshold: DEFAULT_OOS_THRESHOLD,
    reliability: [],
    metadata: {
      trainedAt: new Date().toISOString(),
      trainExamples: trainSet.length,
      validationExamples: validation.length,
      validationCarved,
      examplesPerLabel: countLabels(trainSet),
      features: vectorizer.terms.length,
      epochs: linearSettings.epochs,
      hiddenUnits: 0,
      trainSeconds: 0,
      oosMode,
      validationAccuracy: 0,
      eceBefore: 0,
      eceAfter: 0,
      oosOperatingPoint: null,
      oosEvidence: null,
    },
  };
  const { score, meetsRecall } = calibrate(model, validation, policy, progress);
  return { model, score, meetsRecall, vectors, targets };
}

/**
 * Temperature, reliability table and the OOS rule (score and threshold), all from validation; returns the
 * selection score. Each allowed score gets the threshold with the best validation in-scope accuracy whose
 * recall meets the target (see chooseOosThreshold); the score is then the one meeting the target with the
 * better in-scope accuracy (the top-label confidence on ties).
 */
function calibrate(
  model: IntentModel,
  validation: readonly LabelledExample[],
  policy: OosPolicy,
  progress: (line: string) => void,
): { score: number; meetsRecall: boolean } {
  const labelIndex = new Map(model.labels.map((label, index) => [label, index]));
  // Calibrate on the validation examples whose label the model knows.
  const known = validation.filter((example) => labelIndex.has(example.label));
  const logits = known.map((example) => logitsFor(model, vectorize(model.vectorizer, example.text)));
  const knownTargets = known.map((example) => labelIndex.get(example.label)!);
  const before = calibrationSummary(logits, knownTargets, 1);
  model.temperature = fitTemperature(logits, knownTargets);
  const after = calibrationSummary(logits, knownTargets, model.temperature);
  model.reliability = after.table;
  model.metadata.validationAccuracy = after.accuracy;
  model.metadata.eceBefore = before.ece;
  model.metadata.eceAfter = after.ece;

  const oosIndex = labelIndex.get(OUT_OF_SCOPE) ?? -1;
  const allowed = OOS_SCORES.filter(
    (rule) => (policy.scores === 'auto' || policy.scores === rule) && (rule !== 'versus-oos' || oosIndex >= 0),
  );
  const rules: OosScore[] = allowed.length > 0 ? allowed : ['confidence'];
  let score = after.accuracy;
  let meetsRecall = true;
  // Without OOS validation the default threshold applies, and it is one on the top-label confidence.
  model.oosScore = 'confidence';
  const hasOosValidation = validation.some((example) => example.label === OUT_OF_SCOPE);
  const compared: string[] = [];
  if (hasOosValidation) {
    const scored = validation.map((example) => {
      const probabilities = new Float64Array(model.labels.length);
      softmaxInto(logitsFor(model, vectorize(model.vectorizer, example.text)), model.temperature, probabilities);
      let top = 0;
      for (let k = 1; k < probabilities.length; k++) if (probabilities[k]! > probabilities[top]!) top = k;
      return { label: example.label, predicted: model.labels[top]!, probabilities };
    });
    let chosen: { rule: OosScore; choice: OosChoice } | undefined;
    for (const rule of rules) {
      const choice = chooseOosThreshold(
        scored.map((row) => ({
          label: row.label,
          predicted: row.predicted,
          confidence: inScopeScoreOf(row.probabilities, oosIndex, rule),
        })),
        policy.target,
      );
      compared.push(
        `${rule}: threshold ${choice.threshold.toFixed(4)}, in-scope ${choice.inScopeAccuracy.toFixed(4)}, oos recall ${choice.oosRecall.toFixed(3)} (bound ${choice.oosRecallLowerBound.toFixed(3)})`,
      );
      if (
        chosen === undefined ||
        (choice.meetsTarget && !chosen.choice.meetsTarget) ||
        (choice.meetsTarget === chosen.choice.meetsTarget &&
          (choice.meetsTarget ? choice.inScopeAccuracy : choice.oosRecall) >
            (chosen.choice.meetsTarget ? chosen.choice.inScopeAccuracy : chosen.choice.oosRecall))
      ) {
        chosen = { rule, choice };
      }
    }
    const { rule, choice } = chosen!;
    model.oosScore = rule;
    model.oosThreshold = choice.threshold;
    model.metadata.oosOperatingPoint = {
      threshold: choice.threshold,
      inScopeAccuracy: choice.inScopeAccuracy,
      oosRecall: choice.oosRecall,
      oosPrecision: choice.oosPrecision,
    };
    model.metadata.oosEvidence = {
      ...policy.target,
      oosExamples: choice.oosExamples,
      oosRecallLowerBound: choice.oosRecallLowerBound,
      meetsTarget: choice.meetsTarget,
    };
    score = choice.inScopeAccuracy;
    meetsRecall = choice.meetsTarget;
  }
  progress(
    `validation${model.hidden ? ' (with hidden layer)' : ''}: accuracy ${after.accuracy.toFixed(4)}, T=${model.temperature.toFixed(3)}, ECE ${before.ece.toFixed(4)} -> ${after.ece.toFixed(4)}` +
      (model.metadata.oosOperatingPoint ? `; oos score ${model.oosScore} chosen from ${compared.join('; ')}` : ''),
  );
  return { score, meetsRecall };
}

function calibrationSummary(
  logits: readonly Float32Array[],
  targets: readonly number[],
  temperature: number,
): { accuracy: number; ece: number; table: ReliabilityBin[] } {
  const confidences: number[] = [];
  const correct: boolean[] = [];
  for (let i = 0; i < logits.length; i++) {
    const row = logits[i]!;
    const probabilities = new Float64Array(row.length);
    softmaxInto(row, temperature, probabilities);
    let best = 0;
    for (let k = 1; k < row.length; k++) if (probabilities[k]! > probabilities[best]!) best = k;
    confidences.push(probabilities[best]!);
    correct.push(best === targets[i]);
  }
  const table = reliabilityTable(confidences, correct);
  const accuracy = correct.length === 0 ? 0 : correct.filter(Boolean).length / correct.length;
  return { accuracy, ece: expectedCalibrationError(table), table };
}

/**
 * Train an intent model from labelled examples. Retraining from corrections is this same call on
 * base examples plus corrections. Deterministic for the same data and seed.
 */
export function trainIntentModel(examples: readonly LabelledExample[], options: TrainOptions = {}): IntentModel {
  const started = performance.now();
  validateExamples(examples, 'training');
  if (options.validation) validateExamples(options.validation, 'validation');
  const settings: Settings = {
    epochs: options.epochs ?? Math.max(DEFAULTS.epochs, Math.ceil(MIN_TRAINING_STEPS / Math.max(1, examples.length))),
    epochsGiven: options.epochs !== undefined,
    learningRate: options.learningRate ?? DEFAULTS.learningRate,
    l2: options.l2 ?? DEFAULTS.l2,
    hiddenUnits: options.hiddenUnits ?? DEFAULTS.hiddenUnits,
    hiddenEpochs:
      options.hiddenEpochs ??
      Math.max(DEFAULTS.hiddenEpochs, Math.ceil(MIN_TRAINING_STEPS / Math.max(1, examples.length))),
    seed: options.seed ?? DEFAULTS.seed,
    validationFraction: options.validationFraction ?? DEFAULTS.validationFraction,
  };
  if (!(Number.isInteger(settings.hiddenUnits) && settings.hiddenUnits >= 0)) {
    throw new AppError('VALIDATION_FAILED', `hiddenUnits must be a whole number >= 0 (got ${settings.hiddenUnits})`);
  }
  const features: FeatureOptions = { ...DEFAULT_FEATURE_OPTIONS, ...options.features };
  const progress = options.progress ?? (() => {});
  const policy: OosPolicy = {
    target: {
      minRecall: options.minOosRecall ?? DEFAULT_MIN_OOS_RECALL,
      confidence: options.oosRecallConfidence ?? DEFAULT_OOS_RECALL_CONFIDENCE,
    },
    scores: options.oosScore ?? 'auto',
  };
  if (!(policy.target.minRecall >= 0 && policy.target.minRecall <= 1)) {
    throw new AppError('VALIDATION_FAILED', `minOosRecall must be between 0 and 1 (got ${policy.target.minRecall})`);
  }
  if (!(policy.target.confidence >= 0 && policy.target.confidence < 1)) {
    throw new AppError(
      'VALIDATION_FAILED',
      `oosRecallConfidence must be at least 0 and below 1 (got ${policy.target.confidence})`,
    );
  }

  const usable = examples.filter((example) => example.text.trim().length > 0);
  const carved = options.validation === undefined;
  const { train, validation } = carved
    ? carveValidation(usable, settings.validationFraction)
    : { train: [...usable], validation: [...options.validation!] };
  const inScopeLabels = new Set(train.map((example) => example.label).filter((label) => label !== OUT_OF_SCOPE));
  if (inScopeLabels.size < 2) {
    throw new AppError(
      'VALIDATION_FAILED',
      `training needs at least 2 in-scope labels with non-empty text (got ${inScopeLabels.size})`,
    );
  }

  const trainHasOos = train.some((example) => example.label === OUT_OF_SCOPE);
  const validationHasOos = validation.some((example) => example.label === OUT_OF_SCOPE);
  const requested = options.oosMode ?? 'auto';
  let modes: Array<'class' | 'threshold' | 'none'>;
  if (!trainHasOos) modes = ['none'];
  else if (requested === 'auto') modes = validationHasOos ? ['class', 'threshold'] : ['class'];
  else modes = [requested];

  // With two variants and enough data, the second trains on a worker thread while this one trains the first.
  const background =
    modes.length > 1 && train.length >= PARALLEL_MIN_EXAMPLES && options.parallel !== false
      ? startVariantWorker({ train, validation, oosMode: modes[1]!, carved, features, settings, policy })
      : undefined;
  let chosen: Candidate | undefined;
  for (const [position, mode] of modes.entries()) {
    const candidate =
      (position === 1 ? background?.(progress) : undefined) ??
      trainVariant(train, validation, mode, carved, features, settings, policy, progress);
    // Prefer a variant that reaches the OOS recall floor, then the better in-scope accuracy.
    if (
      chosen === undefined ||
      (candidate.meetsRecall && !chosen.meetsRecall) ||
      (candidate.meetsRecall === chosen.meetsRecall && candidate.score > chosen.score)
    ) {
      chosen = candidate;
    }
  }
  const model = chosen!.model;
  if (modes.length > 1) progress(`oos handling chosen on validation: ${model.metadata.oosMode}`);
  // The hidden layer is trained once, for the chosen variant only: the choice is made on the linear model.
  if (settings.hiddenUnits > 0) {
    const { vectors, targets } = chosen!;
    let hiddenSettings = settings;
    if (options.hiddenEpochs === undefined) {
      const work = (featureSteps(vectors) + vectors.length * model.labels.length) * settings.hiddenUnits;
      const affordable = affordableEpochs(work, HIDDEN_WORK_BUDGET, settings.hiddenEpochs, MIN_HIDDEN_EPOCHS);
      if (affordable < settings.hiddenEpochs) {
        progress(
          `hidden layer: ${affordable} epochs instead of ${settings.hiddenEpochs} (${(work / 1e9).toFixed(2)}G multiply-adds per epoch)`,
        );
        hiddenSettings = { ...settings, hiddenEpochs: affordable };
      }
    }
    model.hidden = fitHidden(
      vectors,
      targets,
      model.vectorizer.terms.length,
      model.labels.length,
      hiddenSettings,
      progress,
    );
    model.metadata.hiddenUnits = settings.hiddenUnits;
    calibrate(model, validation, policy, progress);
  }
  model.metadata.trainSeconds = (performance.now() - started) / 1000;
  return model;
}

/** Below this many training examples a worker's start-up costs more than it saves. */
const PARALLEL_MIN_EXAMPLES = 2_000;

/** One variant's training, as a worker receives it. */
export interface VariantJob {
  train: readonly LabelledExample[];
  validation: readonly LabelledExample[];
  oosMode: 'class' | 'threshold' | 'none';
  carved: boolean;
  features: FeatureOptions;
  settings: Settings;
  policy: OosPolicy;
}

export function runVariantJob(job: VariantJob, progress: (line: string) => void): Candidate {
  return trainVariant(
    job.train,
    job.validation,
    job.oosMode,
    job.carved,
    job.features,
    job.settings,
    job.policy,
    progress,
  );
}

export const WORKER_DONE = 1;
const WORKER_STARTED = 2;
/** A worker that has not started by the time its result is wanted, or stops reporting progress, is given up on. */
const WORKER_START_GRACE_MS = 5_000;
const WORKER_SILENCE_MS = 120_000;

/**
 * Plain JavaScript, so that it starts without a TypeScript loader: it reports that it runs, then loads
 * the worker module (through tsx's loader when running from the sources, as npm start and the tests do).
 */
const WORKER_BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
const { signal, port, entry, tsxApi } = workerData;
Atomics.store(signal, 0, ${WORKER_STARTED});
(async () => {
  try {
    if (tsxApi) await (await import(tsxApi)).tsImport(entry, entry);
    else await import(entry);
  } catch (error) {
    port.postMessage({ ok: false, error: String((error && error.message) || error), lines: [] });
    Atomics.store(signal, 0, ${WORKER_DONE});
    Atomics.notify(signal, 0);
  }
})();
`;

/**
 * Starts `job` on a worker thread. The returned function blocks until it is done and returns its
 * candidate, or undefined when the worker could not run it (the caller then trains the variant itself:
 * same data, same seed, same arithmetic, so the model does not depend on where it was trained).
 */
function startVariantWorker(
  job: VariantJob,
): ((progress: (line: string) => void) => Candidate | undefined) | undefined {
  const fromTypeScript = import.meta.url.endsWith('.ts');
  const entry = new URL(`./variant-worker.${fromTypeScript ? 'ts' : 'js'}`, import.meta.url).href;
  const signal = new Int32Array(new SharedArrayBuffer(8));
  const { port1, port2 } = new MessageChannel();
  let worker: Worker;
  try {
    const tsxApi = fromTypeScript ? import.meta.resolve('tsx/esm/api') : undefined;
    worker = new Worker(WORKER_BOOTSTRAP, {
      eval: true,
      workerData: { job, port: port2, signal, entry, tsxApi },
      transferList: [port2],
    });
  } catch {
    port1.close();
    return undefined;
  }
  worker.unref();
  return (progress) => {
    // Events cannot run while this thread waits, so a worker that died is noticed by its silence.
    let beats = Atomics.load(signal, 1);
    let lastBeat = Date.now();
    const startBy = Date.now() + WORKER_START_GRACE_MS;
    let message: ReturnType<typeof receiveMessageOnPort>;
    for (;;) {
      message = receiveMessageOnPort(port1);
      if (message !== undefined) break;
      const state = Atomics.load(signal, 0);
      if (state === 0 && Date.now() > startBy) break;
      if (Atomics.load(signal, 1) !== beats) {
        beats = Atomics.load(signal, 1);
        lastBeat = Date.now();
      } else if (state === WORKER_STARTED && Date.now() - lastBeat > WORKER_SILENCE_MS) break;
      Atomics.wait(signal, 0, state, 100);
    }
    port1.close();
    void worker.terminate();
    const reply = message?.message as
      | { ok: true; candidate: Candidate; lines: string[] }
      | { ok: false; error: string; lines: string[] }
      | undefined;
    if (!reply?.ok) {
      progress(`worker thread unavailable (${reply ? reply.error : 'no answer'}): training the variant here`);
      return undefined;
    }
    for (const line of reply.lines) progress(line);
    return reply.candidate;
  };
}

// ---------------------------------------------------------------------------------------------
// Serialisation

function encodeFloats(values: Float32Array): string {
  // Float32 in little-endian byte order (every platform Node runs on).
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
}

function decodeFloats(text: string, expectedLength: number, what: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.byteLength !== expectedLength * 4) {
    throw new AppError(
      'VALIDATION_FAILED',
      `model ${what} has ${bytes.byteLength / 4} values, expected ${expectedLength}`,
    );
  }
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
}

const reliabilityBinSchema = z.object({
  from: z.number(),
  to: z.number(),
  count: z.number(),
  meanConfidence: z.number(),
  accuracy: z.number(),
});

const operatingPointSchema = z.object({
  threshold: z.number(),
  inScopeAccuracy: z.number(),
  oosRecall: z.number(),
  oosPrecision: z.number(),
});

const metadataSchema = z.object({
  trainedAt: z.string(),
  trainExamples: z.number(),
  validationExamples: z.number(),
  validationCarved: z.boolean(),
  examplesPerLabel: z.record(z.string(), z.number()),
  features: z.number(),
  epochs: z.number(),
  hiddenUnits: z.number().int().nonnegative(),
  trainSeconds: z.number(),
  oosMode: z.enum(['class', 'threshold', 'none']),
  validationAccuracy: z.number(),
  eceBefore: z.number(),
  eceAfter: z.number(),
  oosOperatingPoint: operatingPointSchema.nullable(),
  oosEvidence: z
    .object({
      minRecall: z.number().min(0).max(1),
      confidence: z.number().min(0).lt(1),
      oosExamples: z.number().int().nonnegative(),
      oosRecallLowerBound: z.number(),
      meetsTarget: z.boolean(),
    })
    .nullable(),
});

const serializedModelSchema = z.object({
  format: z.literal(MODEL_FORMAT),
  version: z.literal(MODEL_VERSION),
  labels: z.array(z.string()).min(2),
  features: z.object({
    charMin: z.number().int(),
    charMax: z.number().int(),
    wordBigrams: z.boolean(),
    minDf: z.number().int(),
    charWeight: z.number(),
    // Absent in models trained before the cap: their texts are read whole, as they were in training.
    maxTokens: z.number().int().positive().optional(),
  }),
  terms: z.array(z.string()),
  idf: z.string(),
  weights: z.string(),
  bias: z.string(),
  hidden: z
    .object({
      size: z.number().int().positive(),
      inputWeights: z.string(),
      inputBias: z.string(),
      outputWeights: z.string(),
      outputBias: z.string(),
    })
    .optional(),
  temperature: z.number().positive(),
  oosScore: z.enum(['confidence', 'versus-oos']),
  oosThreshold: z.number().min(0).max(1),
  reliability: z.array(reliabilityBinSchema),
  metadata: metadataSchema,
});

/**
 * Version 2 differs only in having no OOS score rule (its threshold is on the top-label confidence) and
 * no recall evidence, so it is read as the 'confidence' rule rather than rejected.
 */
const version2Schema = serializedModelSchema.extend({
  version: z.literal(2),
  oosScore: z.undefined().optional(),
  metadata: metadataSchema.extend({ oosEvidence: z.undefined().optional() }),
});

export type SerializedIntentModel = z.infer<typeof serializedModelSchema>;

export function serializeModel(model: IntentModel): SerializedIntentModel {
  return {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    labels: model.labels,
    features: model.vectorizer.options,
    terms: model.vectorizer.terms,
    idf: encodeFloats(model.vectorizer.idf),
    weights: encodeFloats(model.weights),
    bias: encodeFloats(model.bias),
    ...(model.hidden
      ? {
          hidden: {
            size: model.hidden.size,
            inputWeights: encodeFloats(model.hidden.inputWeights),
            inputBias: encodeFloats(model.hidden.inputBias),
            outputWeights: encodeFloats(model.hidden.outputWeights),
            outputBias: encodeFloats(model.hidden.outputBias),
          },
        }
      : {}),
    temperature: model.temperature,
    oosScore: model.oosScore,
    oosThreshold: model.oosThreshold,
    reliability: model.reliability,
    metadata: model.metadata,
  };
}

/** Rebuild a model from its JSON form (a parsed object or the JSON text), validating the shape. */
export function deserializeModel(input: unknown): IntentModel {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (error) {
      throw new AppError('INVALID_JSON', 'intent model is not valid JSON', { cause: error });
    }
  }
  const isVersion2 = typeof value === 'object' && value !== null && (value as { version?: unknown }).version === 2;
  const parsed = isVersion2
    ? version2Schema
        .transform(
          (old): SerializedIntentModel => ({
            ...old,
            version: MODEL_VERSION,
            oosScore: 'confidence',
            metadata: { ...old.metadata, oosEvidence: null },
          }),
        )
        .safeParse(value)
    : serializedModelSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError(
      'VALIDATION_FAILED',
      `not a usable intent model: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
    );
  }
  const data = parsed.data;
  const idf = decodeFloats(data.idf, data.terms.length, 'idf');
  const vectorizer = vectorizerFromTerms(data.terms, idf, data.features);
  const labelCount = data.labels.length;
  const hidden = data.hidden && {
    size: data.hidden.size,
    inputWeights: decodeFloats(data.hidden.inputWeights, data.terms.length * data.hidden.size, 'hidden input weights'),
    inputBias: decodeFloats(data.hidden.inputBias, data.hidden.size, 'hidden input bias'),
    outputWeights: decodeFloats(data.hidden.outputWeights, data.hidden.size * labelCount, 'hidden output weights'),
    outputBias: decodeFloats(data.hidden.outputBias, labelCount, 'hidden output bias'),
  };
  return {
    version: data.version,
    labels: data.labels,
    vectorizer,
    weights: decodeFloats(data.weights, data.terms.length * data.labels.length, 'weights'),
    bias: decodeFloats(data.bias, data.labels.length, 'bias'),
    ...(hidden ? { hidden } : {}),
    temperature: data.temperature,
    oosScore: data.oosScore,
    oosThreshold: data.oosThreshold,
    reliability: data.reliability,
    metadata: data.metadata,
  };
}
