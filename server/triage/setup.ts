/**
 * Builds the triage engine from the config: the default local classifier (trained from the shipped
 * examples, cached as JSON in DATA_DIR), the knowledge provider (tenant KBs, default KB from
 * KB_PATH or the shipped sample), and the LLM (Anthropic with offline fallback, or offline).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config.ts';
import type { FeedbackService } from '../feedback/feedback.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { Store } from '../store/port.ts';
import { type IntentModel, loadDefaultModel } from './classifier/index.ts';
import { createTriageEngine, type LocalClassifier } from './engine.ts';
import { loadArticles } from './knowledge/sources.ts';
import { createKnowledgeProvider, type KnowledgeProvider } from './knowledge-store.ts';
import { createLlm } from './llm/index.ts';
import type { LlmPort } from './llm/port.ts';
import { adaptClassifier, createModelRegistry, type ModelRegistry } from './models.ts';
import type { TriageEngine } from './record.ts';

export { adaptClassifier } from './models.ts';

export const SAMPLE_KB_DIR = fileURLToPath(new URL('../../samples/kb/', import.meta.url));

/**
 * The shipped default model is the same for every data folder: trained once per process (or read
 * from the cache file), then shared. Training takes seconds; tests and commands build services often.
 */
let defaultModelInProcess: IntentModel | undefined;
function defaultModel(cachePath: string): IntentModel {
  defaultModelInProcess ??= loadDefaultModel({ cachePath });
  return defaultModelInProcess;
}

export interface TriageServices {
  engine: TriageEngine;
  knowledge: KnowledgeProvider;
  llm: LlmPort;
  classifier: LocalClassifier;
  models: ModelRegistry;
}

export function createTriageServices(options: {
  config: Pick<
    Config,
    | 'DATA_DIR'
    | 'KB_PATH'
    | 'KNOWN_NAMES'
    | 'ANTHROPIC_API_KEY'
    | 'ANTHROPIC_BASE_URL'
    | 'ANTHROPIC_TIMEOUT_MS'
    | 'ANTHROPIC_MAX_RETRIES'
    | 'ANTHROPIC_SMALL_MODEL'
    | 'ANTHROPIC_LARGE_MODEL'
  >;
  store: Store;
  logger: Logger;
  metrics?: Metrics;
  /** Overrides the default model (tests). */
  model?: IntentModel;
  /** Corrections feed tenant model training. */
  feedback?: FeedbackService;
}): TriageServices {
  const { config, logger } = options;
  const started = performance.now();
  const model = options.model ?? defaultModel(join(config.DATA_DIR, 'models', 'default-intent-model.json'));
  logger.debug({ ms: Math.round(performance.now() - started), labels: model.labels.length }, 'intent model ready');
  const classifier = adaptClassifier(model);
  const models = createModelRegistry({
    store: options.store,
    defaultClassifier: classifier,
    ...(options.feedback ? { feedback: options.feedback } : {}),
  });
  const kbPath = config.KB_PATH ?? SAMPLE_KB_DIR;
  if (!existsSync(kbPath)) logger.warn({ kbPath }, 'KB_PATH does not exist: tenants without their own KB get none');
  const defaultArticles = existsSync(kbPath) ? loadArticles(kbPath) : [];
  const knowledge = createKnowledgeProvider({ store: options.store, defaultArticles });
  const llm = createLlm({
    ...(config.ANTHROPIC_API_KEY ? { apiKey: config.ANTHROPIC_API_KEY } : {}),
    ...(config.ANTHROPIC_BASE_URL ? { baseURL: config.ANTHROPIC_BASE_URL } : {}),
    timeoutMs: config.ANTHROPIC_TIMEOUT_MS,
    maxRetries: config.ANTHROPIC_MAX_RETRIES,
    smallModel: config.ANTHROPIC_SMALL_MODEL,
    largeModel: config.ANTHROPIC_LARGE_MODEL,
    onFallback: (event) => logger.warn({ event }, 'LLM unavailable: fell back to the offline provider'),
  });
  const metrics = options.metrics;
  const engine = createTriageEngine({
    classifier,
    classifierFor: (tenantId) => models.forTenant(tenantId),
    knowledge: (tenantId) => knowledge.forTenant(tenantId),
    llm,
    classificationCache: options.store.namespace('cache'),
    knownNames: config.KNOWN_NAMES.split(',')
      .map((name) => name.trim())
      .filter(Boolean),
    smallModel: config.ANTHROPIC_SMALL_MODEL,
    largeModel: config.ANTHROPIC_LARGE_MODEL,
  });
  const counted: TriageEngine = {
    async triage(input) {
      const record = await engine.triage(input);
      metrics?.ticketsTriaged.inc({
        tier: String(record.tier),
        intent: record.classification.intent,
        source: record.classification.source,
      });
      return record;
    },
  };
  return { engine: counted, knowledge, llm, classifier, models };
}
