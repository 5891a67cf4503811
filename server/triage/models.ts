/**
 * Intent models per tenant. A tenant starts on the product's default model; training one for it
 * combines the default examples, the tenant's own labelled examples and every reviewer correction
 * that named the right intent, and stores the model (serialised JSON) in the tenant's `models`
 * namespace. Classifiers are cached per tenant and reloaded when the stored model changes.
 */
import { fileURLToPath } from 'node:url';
import type { FeedbackService } from '../feedback/feedback.ts';
import type { Store } from '../store/port.ts';
import {
  createLocalClassifier,
  DEFAULT_MODEL_OOS_POLICY,
  deserializeModel,
  type IntentModel,
  MODEL_FORMAT,
  readExamplesJsonl,
  serializeModel,
  type TrainOptions,
  trainIntentModel,
} from './classifier/index.ts';
import type { LocalClassifier } from './engine.ts';
import { type LabelledExample, OUT_OF_SCOPE } from './types.ts';

const MODEL_KEY = 'intent-model';
const VERSION_KEY = 'intent-model-version';
const RECHECK_MS = 30_000;
const SAMPLES = new URL('../../samples/intents/', import.meta.url);

export function adaptClassifier(model: IntentModel): LocalClassifier {
  const local = createLocalClassifier(model);
  return {
    modelVersion: `${MODEL_FORMAT}@${model.version} trained ${model.metadata.trainedAt}`,
    intents: model.labels.filter((label) => label !== OUT_OF_SCOPE),
    classify: (text, options) => local.classify(text, options),
  };
}

export function defaultTrainingExamples(): { train: LabelledExample[]; validation: LabelledExample[] } {
  return {
    train: readExamplesJsonl(fileURLToPath(new URL('train.jsonl', SAMPLES))),
    validation: readExamplesJsonl(fileURLToPath(new URL('validation.jsonl', SAMPLES))),
  };
}

export interface TrainReport {
  tenantId: string;
  trainExamples: number;
  corrections: number;
  validationAccuracy: number;
  eceAfter: number;
  oosThreshold: number;
  trainSeconds: number;
  version: number;
}

export interface ModelRegistry {
  /** The tenant's classifier: its own model when trained, else the default. */
  forTenant(tenantId: string): Promise<LocalClassifier>;
  train(
    tenantId: string,
    options?: { examples?: LabelledExample[]; includeDefaults?: boolean; train?: TrainOptions },
  ): Promise<TrainReport>;
  /** Back to the default model. */
  reset(tenantId: string): Promise<boolean>;
}

export function createModelRegistry(options: {
  store: Store;
  defaultClassifier: LocalClassifier;
  feedback?: FeedbackService;
}): ModelRegistry {
  const cache = new Map<string, { version: number; checkedAt: number; classifier: LocalClassifier }>();
  const kv = (tenantId: string) => options.store.forTenant(tenantId).namespace<unknown>('models');

  return {
    async forTenant(tenantId) {
      const cached = cache.get(tenantId);
      if (cached && Date.now() - cached.checkedAt < RECHECK_MS) return cached.classifier;
      const version = ((await kv(tenantId).get(VERSION_KEY)) as number | undefined) ?? 0;
      if (cached && cached.version === version) {
        cached.checkedAt = Date.now();
        return cached.classifier;
      }
      let classifier = options.defaultClassifier;
      if (version > 0) {
        const stored = await kv(tenantId).get(MODEL_KEY);
        if (stored !== undefined) classifier = adaptClassifier(deserializeModel(stored));
      }
      cache.set(tenantId, { version, checkedAt: Date.now(), classifier });
      return classifier;
    },
    async train(tenantId, trainOptions = {}) {
      const defaults =
        trainOptions.includeDefaults === false ? { train: [], validation: [] } : defaultTrainingExamples();
      const corrections = (await options.feedback?.corrections(tenantId)) ?? [];
      const fromCorrections: LabelledExample[] = corrections
        .filter((correction) => correction.text !== '' && correction.verdict !== 'approved')
        .map((correction) => ({ text: correction.text, label: correction.correctIntent }));
      const examples = [...defaults.train, ...(trainOptions.examples ?? []), ...fromCorrections];
      const model: IntentModel = trainIntentModel(examples, {
        ...(trainOptions.includeDefaults === false ? {} : DEFAULT_MODEL_OOS_POLICY),
        ...trainOptions.train,
        ...(defaults.validation.length > 0 ? { validation: defaults.validation } : {}),
      });
      const version = (((await kv(tenantId).get(VERSION_KEY)) as number | undefined) ?? 0) + 1;
      await kv(tenantId).set(MODEL_KEY, serializeModel(model));
      await kv(tenantId).set(VERSION_KEY, version);
      cache.delete(tenantId);
      return {
        tenantId,
        trainExamples: examples.length,
        corrections: fromCorrections.length,
        validationAccuracy: model.metadata.validationAccuracy,
        eceAfter: model.metadata.eceAfter,
        oosThreshold: model.oosThreshold,
        trainSeconds: model.metadata.trainSeconds,
        version,
      };
    },
    async reset(tenantId) {
      const existed = await kv(tenantId).delete(MODEL_KEY);
      await kv(tenantId).set(VERSION_KEY, 0);
      cache.delete(tenantId);
      return existed;
    },
  };
}
