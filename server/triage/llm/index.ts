/**
 * The LLM port's entry point: `createLlm` wires Anthropic with the offline fallback when an API
 * key is configured, and the offline provider alone otherwise.
 */
import type { AnthropicLlmOptions } from './anthropic.ts';
import { createOfflineLlm } from './offline.ts';
import type { LlmPort } from './port.ts';
import { createResilientLlm, type FallbackEvent } from './resilient.ts';

export type { AnthropicLlmOptions } from './anthropic.ts';
export { createOfflineLlm, OFFLINE_MODEL, type OfflineLlmOptions } from './offline.ts';
export type * from './port.ts';
export { PROMPT_VERSION } from './prompts.ts';
export {
  createResilientLlm,
  DEFAULT_FALLBACK_CODES,
  type FallbackEvent,
  type ResilientLlmOptions,
} from './resilient.ts';

export interface LlmSettings {
  /** ANTHROPIC_API_KEY; without it the service runs offline. */
  apiKey?: string;
  baseURL?: string;
  timeoutMs: number;
  maxRetries: number;
  smallModel?: string;
  largeModel?: string;
  /** Sign-off of offline drafts, e.g. "The Tandem support team". */
  signature?: string;
  onFallback?: (event: FallbackEvent) => void;
}

export function createLlm(settings: LlmSettings): LlmPort {
  const offline = createOfflineLlm(settings.signature === undefined ? {} : { signature: settings.signature });
  if (!settings.apiKey) return offline;
  const anthropic = lazyAnthropic({
    apiKey: settings.apiKey,
    timeoutMs: settings.timeoutMs,
    maxRetries: settings.maxRetries,
    ...(settings.baseURL === undefined ? {} : { baseURL: settings.baseURL }),
    ...(settings.smallModel === undefined ? {} : { smallModel: settings.smallModel }),
    ...(settings.largeModel === undefined ? {} : { largeModel: settings.largeModel }),
  });
  return createResilientLlm(
    anthropic,
    offline,
    settings.onFallback === undefined ? {} : { onFallback: settings.onFallback },
  );
}

/**
 * The Anthropic provider, loaded on its first call: the SDK costs memory and start-up time that an
 * offline deployment never needs, and a configured one only needs once a ticket arrives.
 */
function lazyAnthropic(options: AnthropicLlmOptions): LlmPort {
  let provider: Promise<LlmPort> | undefined;
  const load = () => {
    provider ??= import('./anthropic.ts').then((module) => module.createAnthropicLlm(options));
    return provider;
  };
  return {
    provider: 'anthropic',
    classify: async (request) => (await load()).classify(request),
    generate: async (request) => (await load()).generate(request),
    summarize: async (request) => (await load()).summarize(request),
    countTokens: async (request) => (await load()).countTokens(request),
  };
}
