/**
 * The local classifier as the pipeline sees it: intent, calibrated confidence, out-of-scope, urgency,
 * language and sentiment in one call, in the shared Classification shape.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../../errors.ts';
import type { Classification, LabelledExample } from '../types.ts';
import {
  deserializeModel,
  type IntentModel,
  isOutOfScope,
  MODEL_VERSION,
  predict,
  serializeModel,
  type TrainOptions,
  trainIntentModel,
} from './model.ts';
import { detectLanguage, detectSentiment, detectUrgency } from './signals.ts';

export * from './model.ts';
export { detectLanguage, detectSentiment, detectUrgency } from './signals.ts';

export interface LocalClassifierOptions {
  /**
   * In-scope score under which a message is out-of-scope; defaults to the model's recommendation. The score
   * is the model's `oosScore` rule: the calibrated top-label confidence, or the best intent's probability
   * against the 'oos' class. 1 marks nearly everything out-of-scope, 0 only what the model labels 'oos'.
   */
  oosThreshold?: number;
}

export interface ClassifyContext {
  /** Prior tickets from this customer on the same issue (more than one means frustrated). */
  priorTicketsSameIssue?: number;
}

export interface LocalClassifier {
  model: IntentModel;
  oosThreshold: number;
  classify(text: string, context?: ClassifyContext): Classification;
}

export function createLocalClassifier(model: IntentModel, options: LocalClassifierOptions = {}): LocalClassifier {
  const oosThreshold = options.oosThreshold ?? model.oosThreshold;
  if (!(oosThreshold >= 0 && oosThreshold <= 1)) {
    throw new AppError('CONFIG_INVALID', `oosThreshold must be between 0 and 1 (got ${oosThreshold})`);
  }
  return {
    model,
    oosThreshold,
    classify(text, context = {}) {
      const prediction = predict(model, text);
      return {
        intent: prediction.label,
        confidence: prediction.confidence,
        outOfScope: isOutOfScope(prediction, oosThreshold),
        urgency: detectUrgency(text),
        language: detectLanguage(text),
        sentiment: detectSentiment(text, context.priorTicketsSameIssue),
        source: 'local',
        alternatives: prediction.ranked
          .slice(1, 4)
          .map((entry) => ({ intent: entry.label, confidence: entry.confidence })),
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The product's default model

const SAMPLES_DIR = new URL('../../../samples/intents/', import.meta.url);

/** Parse `{"text","label"}` lines; a bad line is an error naming its file and line number. */
export function readExamplesJsonl(path: string): LabelledExample[] {
  const examples: LabelledExample[] = [];
  readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .forEach((line, index) => {
      if (line.trim() === '') return;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (error) {
        throw new AppError('INVALID_JSON', `${path} line ${index + 1} is not valid JSON`, { cause: error });
      }
      const record = value as Partial<LabelledExample> | null;
      if (typeof record?.text !== 'string' || typeof record.label !== 'string' || record.label === '') {
        throw new AppError('VALIDATION_FAILED', `${path} line ${index + 1} is not {"text","label"}`);
      }
      examples.push({ text: record.text, label: record.label });
    });
  return examples;
}

export interface DefaultModelOptions {
  /** A JSON file to load the model from if present and to write after training (e.g. data/default-intent-model.json). */
  cachePath?: string;
  train?: TrainOptions;
}

/**
 * The shipped examples' validation set has 15 out-of-scope examples: a 95% lower bound on recall
 * there demands 14 of 15 caught, which on the shipped validation set took in-scope accuracy from
 * 0.79 to 0.70 (more real questions sent to a human as "none of the known intents"). The default
 * model, and tenant models trained on its examples, keep the measured-recall rule at 0.75.
 */
export const DEFAULT_MODEL_OOS_POLICY = { minOosRecall: 0.75, oosRecallConfidence: 0 } as const;

/**
 * What the default model is built from: the shipped example files, the training options and the
 * model format. A cache made from another recipe (examples edited, a policy changed) is rebuilt.
 */
export function defaultModelRecipe(train: TrainOptions = {}): string {
  const hash = createHash('sha256');
  for (const file of ['train.jsonl', 'validation.jsonl']) hash.update(readFileSync(new URL(file, SAMPLES_DIR)));
  const { progress: _progress, ...options } = { ...DEFAULT_MODEL_OOS_POLICY, ...train };
  hash.update(JSON.stringify(options)).update(String(MODEL_VERSION));
  return hash.digest('hex').slice(0, 16);
}

/** Train the default Tandem intent model from samples/intents (or load it from a cached JSON). */
export function loadDefaultModel(options: DefaultModelOptions = {}): IntentModel {
  const { cachePath } = options;
  const recipe = defaultModelRecipe(options.train);
  if (cachePath !== undefined && existsSync(cachePath)) {
    try {
      const cached: unknown = JSON.parse(readFileSync(cachePath, 'utf8'));
      // An older version stays readable (tenants' stored models), but the default model is rebuilt from it.
      const header = cached as { version?: unknown; recipe?: unknown } | null;
      if (header?.version === MODEL_VERSION && header.recipe === recipe) return deserializeModel(cached);
    } catch {
      // A corrupt cache is rebuilt rather than fatal.
    }
  }
  const train = readExamplesJsonl(fileURLToPath(new URL('train.jsonl', SAMPLES_DIR)));
  const validation = readExamplesJsonl(fileURLToPath(new URL('validation.jsonl', SAMPLES_DIR)));
  const model = trainIntentModel(train, { ...DEFAULT_MODEL_OOS_POLICY, ...options.train, validation });
  if (cachePath !== undefined) {
    mkdirSync(dirname(cachePath), { recursive: true });
    writeFileSync(cachePath, JSON.stringify({ ...serializeModel(model), recipe }));
  }
  return model;
}
