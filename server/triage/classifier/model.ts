/**
 * The local intent model: TF-IDF word and character n-grams, multinomial logistic regression trained
 * in-process with Adam, confidence calibrated by temperature scaling on a validation split, and an
 * out-of-scope threshold chosen on that split. Serialises to JSON so each tenant's model can live in
 * a key-value store.
 */
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import { type LabelledExample, OUT_OF_SCOPE } from '../types.ts';
import {
  chooseOosThreshold,
  expectedCalibrationError,
  fitTemperature,
  type OosOperatingPoint,
  type ReliabilityBin,
  reliabilityTable,
  type ScoredPrediction,
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
/** Bump when features or the serialised shape change: older JSON is then rejected, not misread. */
export const MODEL_VERSION = 1;
/** Used when validation has no out-of-scope examples to choose from. */
export const DEFAULT_OOS_THRESHOLD = 0.3;
/**
 * OOS recall the threshold must reach on validation. Set above the 0.7 product floor by about one
 * standard error of a recall measured on ~100 validation examples, so the floor still holds on new data.
 */
export const DEFAULT_MIN_OOS_RECALL = 0.75;

export type OosMode = 'auto' | 'class' | 'threshold';

export interface TrainOptions {
  features?: Partial<FeatureOptions>;
  epochs?: number;
  learningRate?: number;
  /** L2 penalty on weights (applied to the rows a batch touches). */
  l2?: number;
  /** Decoupled weight decay per unit of learning rate (AdamW style). */
  weightDecay?: number;
  batchSize?: number;
  seed?: number;
  /** Validation examples for calibration and thresholds; carved from the training set when absent. */
  validation?: readonly LabelledExample[];
  /** Average the weights after each of the last N epochs (0: use the final weights). */
  averageLastEpochs?: number;
  /** Share of training examples carved out for validation when none is given. */
  validationFraction?: number;
  /** How to use 'oos' training examples: as a class, only through the threshold, or whichever validates better. */
  oosMode?: OosMode;
  minOosRecall?: number;
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
  trainSeconds: number;
  oosMode: 'class' | 'threshold' | 'none';
  /** Validation figures: closed-set accuracy and calibration before/after temperature scaling. */
  validationAccuracy: number;
  eceBefore: number;
  eceAfter: number;
  oosOperatingPoint: OosOperatingPoint | null;
}

export interface IntentModel {
  version: number;
  labels: string[];
  vectorizer: Vectorizer;
  /** Row-major by feature: weights[feature * labels.length + label]. */
  weights: Float32Array;
  bias: Float32Array;
  temperature: number;
  /** Recommended out-of-scope threshold on calibrated confidence. */
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
}

const DEFAULTS = {
  epochs: 8,
  learningRate: 0.02,
  l2: 0,
  weightDecay: 0.03,
  batchSize: 64,
  seed: 7,
  validationFraction: 0.1,
  averageLastEpochs: 0,
};

// ---------------------------------------------------------------------------------------------
// Inference

/** Raw (uncalibrated) scores for every label. */
export function logitsFor(model: Pick<IntentModel, 'labels' | 'weights' | 'bias'>, vector: SparseVector): Float32Array {
  const labelCount = model.labels.length;
  const logits = new Float32Array(model.bias);
  const { indices, values } = vector;
  for (let position = 0; position < indices.length; position++) {
    const base = indices[position]! * labelCount;
    const value = values[position]!;
    for (let k = 0; k < labelCount; k++) logits[k] = logits[k]! + value * model.weights[base + k]!;
  }
  return logits;
}

export function predict(model: IntentModel, text: string): Prediction {
  const logits = logitsFor(model, vectorize(model.vectorizer, text));
  const probabilities = new Float64Array(model.labels.length);
  softmaxInto(logits, model.temperature, probabilities);
  const ranked = model.labels
    .map((label, index) => ({ label, confidence: probabilities[index]! }))
    .sort((a, b) => b.confidence - a.confidence || a.label.localeCompare(b.label));
  const top = ranked[0]!;
  return { label: top.label, confidence: top.confidence, ranked };
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

/** Multinomial logistic regression by minibatch Adam; only rows a batch touches are updated (sparse, "lazy" Adam). */
function fitSoftmax(
  vectors: readonly SparseVector[],
  targets: Int32Array,
  featureCount: number,
  labelCount: number,
  settings: typeof DEFAULTS,
  progress: (line: string) => void,
): FittedWeights {
  const size = featureCount * labelCount;
  const weights = new Float32Array(size);
  const firstMoment = new Float32Array(size);
  const secondMoment = new Float32Array(size);
  const gradient = new Float32Array(size);
  const bias = new Float32Array(labelCount);
  const biasFirst = new Float64Array(labelCount);
  const biasSecond = new Float64Array(labelCount);
  const biasGradient = new Float64Array(labelCount);
  const touchedStamp = new Int32Array(featureCount).fill(-1);
  const touched = new Int32Array(featureCount);
  const lastDecayed = new Int32Array(featureCount);
  const probabilities = new Float64Array(labelCount);
  const logits = new Float64Array(labelCount);
  const beta1 = 0.9;
  const beta2 = 0.999;
  const epsilon = 1e-8;
  const random = seededRandom(settings.seed);
  const order = Array.from({ length: vectors.length }, (_, index) => index);
  let step = 0;
  let averaged: { weights: Float32Array; bias: Float32Array; count: number } | undefined;
  for (let epoch = 0; epoch < settings.epochs; epoch++) {
    shuffleInPlace(order, random);
    // A gently decaying step settles the weights in the last epochs.
    const learningRate = settings.learningRate / Math.sqrt(1 + epoch);
    let loss = 0;
    for (let start = 0; start < order.length; start += settings.batchSize) {
      const end = Math.min(order.length, start + settings.batchSize);
      let touchedCount = 0;
      for (let b = start; b < end; b++) {
        const example = order[b]!;
        const vector = vectors[example]!;
        logits.set(bias);
        for (let position = 0; position < vector.indices.length; position++) {
          const base = vector.indices[position]! * labelCount;
          const value = vector.values[position]!;
          for (let k = 0; k < labelCount; k++) logits[k] = logits[k]! + value * weights[base + k]!;
        }
        softmaxInto(logits, 1, probabilities);
        const target = targets[example]!;
        loss -= Math.log(Math.max(probabilities[target]!, 1e-12));
        probabilities[target] = probabilities[target]! - 1;
        for (let k = 0; k < labelCount; k++) biasGradient[k] = biasGradient[k]! + probabilities[k]!;
        for (let position = 0; position < vector.indices.length; position++) {
          const feature = vector.indices[position]!;
          if (touchedStamp[feature] !== step) {
            touchedStamp[feature] = step;
            touched[touchedCount++] = feature;
          }
          const value = vector.values[position]!;
          const base = feature * labelCount;
          for (let k = 0; k < labelCount; k++) gradient[base + k] = gradient[base + k]! + value * probabilities[k]!;
        }
      }
      step++;
      const batch = end - start;
      const correction1 = 1 - beta1 ** step;
      const correction2 = 1 - beta2 ** step;
      const stepSize = (learningRate * Math.sqrt(correction2)) / correction1;
      for (let t = 0; t < touchedCount; t++) {
        const feature = touched[t]!;
        const base = feature * labelCount;
        // Decoupled weight decay, caught up lazily for the steps this row sat untouched.
        const decay = (1 - learningRate * settings.weightDecay) ** (step - lastDecayed[feature]!);
        lastDecayed[feature] = step;
        for (let k = 0; k < labelCount; k++) {
          const index = base + k;
          const g = gradient[index]! / batch + settings.l2 * weights[index]!;
          gradient[index] = 0;
          const m = beta1 * firstMoment[index]! + (1 - beta1) * g;
          const v = beta2 * secondMoment[index]! + (1 - beta2) * g * g;
          firstMoment[index] = m;
          secondMoment[index] = v;
          weights[index] = weights[index]! * decay - (stepSize * m) / (Math.sqrt(v) + epsilon);
        }
      }
      for (let k = 0; k < labelCount; k++) {
        const g = biasGradient[k]! / batch;
        biasGradient[k] = 0;
        biasFirst[k] = beta1 * biasFirst[k]! + (1 - beta1) * g;
        biasSecond[k] = beta2 * biasSecond[k]! + (1 - beta2) * g * g;
        bias[k] = bias[k]! - (stepSize * biasFirst[k]!) / (Math.sqrt(biasSecond[k]!) + epsilon);
      }
    }
    progress(`epoch ${epoch + 1}/${settings.epochs}: mean loss ${(loss / Math.max(1, vectors.length)).toFixed(4)}`);
    if (settings.averageLastEpochs > 0 && epoch >= settings.epochs - settings.averageLastEpochs) {
      // Averaging end-of-epoch snapshots smooths the noise of the last stochastic steps.
      averaged ??= { weights: new Float32Array(size), bias: new Float32Array(labelCount), count: 0 };
      for (let index = 0; index < size; index++) averaged.weights[index] = averaged.weights[index]! + weights[index]!;
      for (let k = 0; k < labelCount; k++) averaged.bias[k] = averaged.bias[k]! + bias[k]!;
      averaged.count++;
    }
  }
  if (averaged && averaged.count > 1) {
    const count = averaged.count;
    for (let index = 0; index < size; index++) averaged.weights[index] = averaged.weights[index]! / count;
    for (let k = 0; k < labelCount; k++) averaged.bias[k] = averaged.bias[k]! / count;
    return { weights: averaged.weights, bias: averaged.bias };
  }
  return { weights, bias };
}

interface Candidate {
  model: IntentModel;
  /** What variant selection compares: in-scope accuracy at the chosen OOS threshold, or closed-set accuracy. */
  score: number;
  meetsRecall: boolean;
}

function countLabels(examples: readonly LabelledExample[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const example of examples) counts[example.label] = (counts[example.label] ?? 0) + 1;
  return counts;
}

function trainVariant(
  train: readonly LabelledExample[],
  validation: readonly LabelledExample[],
  oosMode: 'class' | 'threshold' | 'none',
  validationCarved: boolean,
  features: FeatureOptions,
  settings: typeof DEFAULTS,
  minOosRecall: number,
  progress: (line: string) => void,
): Candidate {
  const started = performance.now();
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
  const { weights, bias } = fitSoftmax(vectors, targets, vectorizer.terms.length, labels.length, settings, progress);

  const model: IntentModel = {
    version: MODEL_VERSION,
    labels,
    vectorizer,
    weights,
    bias,
    temperature: 1,
    oosThreshold: DEFAULT_OOS_THRESHOLD,
    reliability: [],
    metadata: {
      trainedAt: new Date().toISOString(),
      trainExamples: trainSet.length,
      validationExamples: validation.length,
      validationCarved,
      examplesPerLabel: countLabels(trainSet),
      features: vectorizer.terms.length,
      epochs: settings.epochs,
      trainSeconds: 0,
      oosMode,
      validationAccuracy: 0,
      eceBefore: 0,
      eceAfter: 0,
      oosOperatingPoint: null,
    },
  };

  // Calibrate on the validation examples whose label the model knows.
  const known = validation.filter((example) => labelIndex.has(example.label));
  const logits = known.map((example) => logitsFor(model, vectorize(vectorizer, example.text)));
  const knownTargets = known.map((example) => labelIndex.get(example.label)!);
  const before = calibrationSummary(logits, knownTargets, 1);
  model.temperature = fitTemperature(logits, knownTargets);
  const after = calibrationSummary(logits, knownTargets, model.temperature);
  model.reliability = after.table;
  model.metadata.validationAccuracy = after.accuracy;
  model.metadata.eceBefore = before.ece;
  model.metadata.eceAfter = after.ece;

  let score = after.accuracy;
  let meetsRecall = true;
  const hasOosValidation = validation.some((example) => example.label === OUT_OF_SCOPE);
  if (hasOosValidation) {
    const scored: ScoredPrediction[] = validation.map((example) => {
      const prediction = predict(model, example.text);
      return { label: example.label, predicted: prediction.label, confidence: prediction.confidence };
    });
    const point = chooseOosThreshold(scored, minOosRecall);
    model.oosThreshold = point.threshold;
    model.metadata.oosOperatingPoint = point;
    score = point.inScopeAccuracy;
    meetsRecall = point.oosRecall >= minOosRecall;
  }
  model.metadata.trainSeconds = (performance.now() - started) / 1000;
  progress(
    `validation: accuracy ${after.accuracy.toFixed(4)}, T=${model.temperature.toFixed(3)}, ECE ${before.ece.toFixed(4)} -> ${after.ece.toFixed(4)}` +
      (model.metadata.oosOperatingPoint
        ? `, oos threshold ${model.oosThreshold} (in-scope ${score.toFixed(4)}, oos recall ${model.metadata.oosOperatingPoint.oosRecall.toFixed(3)})`
        : ''),
  );
  return { model, score, meetsRecall };
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
  const settings = {
    epochs: options.epochs ?? DEFAULTS.epochs,
    learningRate: options.learningRate ?? DEFAULTS.learningRate,
    l2: options.l2 ?? DEFAULTS.l2,
    weightDecay: options.weightDecay ?? DEFAULTS.weightDecay,
    // Small tenants' data needs small batches to get enough optimiser steps; large data needs big ones for speed.
    batchSize: options.batchSize ?? Math.max(4, Math.min(DEFAULTS.batchSize, Math.round(examples.length / 200))),
    seed: options.seed ?? DEFAULTS.seed,
    validationFraction: options.validationFraction ?? DEFAULTS.validationFraction,
    averageLastEpochs: options.averageLastEpochs ?? DEFAULTS.averageLastEpochs,
  };
  const features: FeatureOptions = { ...DEFAULT_FEATURE_OPTIONS, ...options.features };
  const progress = options.progress ?? (() => {});
  const minOosRecall = options.minOosRecall ?? DEFAULT_MIN_OOS_RECALL;

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

  let chosen: Candidate | undefined;
  for (const mode of modes) {
    const candidate = trainVariant(train, validation, mode, carved, features, settings, minOosRecall, progress);
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
  model.metadata.trainSeconds = (performance.now() - started) / 1000;
  return model;
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
  }),
  terms: z.array(z.string()),
  idf: z.string(),
  weights: z.string(),
  bias: z.string(),
  temperature: z.number().positive(),
  oosThreshold: z.number().min(0).max(1),
  reliability: z.array(reliabilityBinSchema),
  metadata: z.object({
    trainedAt: z.string(),
    trainExamples: z.number(),
    validationExamples: z.number(),
    validationCarved: z.boolean(),
    examplesPerLabel: z.record(z.string(), z.number()),
    features: z.number(),
    epochs: z.number(),
    trainSeconds: z.number(),
    oosMode: z.enum(['class', 'threshold', 'none']),
    validationAccuracy: z.number(),
    eceBefore: z.number(),
    eceAfter: z.number(),
    oosOperatingPoint: z
      .object({ threshold: z.number(), inScopeAccuracy: z.number(), oosRecall: z.number(), oosPrecision: z.number() })
      .nullable(),
  }),
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
    temperature: model.temperature,
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
  const parsed = serializedModelSchema.safeParse(value);
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
  return {
    version: data.version,
    labels: data.labels,
    vectorizer,
    weights: decodeFloats(data.weights, data.terms.length * data.labels.length, 'weights'),
    bias: decodeFloats(data.bias, data.labels.length, 'bias'),
    temperature: data.temperature,
    oosThreshold: data.oosThreshold,
    reliability: data.reliability,
    metadata: data.metadata,
  };
}
