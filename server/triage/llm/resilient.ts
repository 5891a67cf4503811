/**
 * Wraps a primary LLM (Anthropic) with the offline provider. When the primary fails, the offline
 * answer is returned with `fallbackReason` set, so the pipeline knows the draft must not be
 * auto-sent. Classification falls back to null (the local classifier's answer stands).
 */
import { AppError, type ErrorCode, isAppError } from '../../errors.ts';
import type {
  ClassifyRequest,
  CountTokensRequest,
  GenerationRequest,
  GenerationResult,
  LlmClassification,
  LlmPort,
  SummarizeRequest,
  SummarizeResult,
  TokenCount,
} from './port.ts';

export interface FallbackEvent {
  operation: 'classify' | 'generate' | 'summarize' | 'count_tokens';
  code: ErrorCode;
  reason: string;
}

export interface ResilientLlmOptions {
  /**
   * Error codes answered with the offline provider. Default: outages (LLM_UNAVAILABLE), unusable
   * model output (LLM_OUTPUT_INVALID), rejected credentials (CONFIG_INVALID) and other rejected
   * requests (UPSTREAM_ERROR): an offline draft that a person reviews beats no draft.
   * Anything else (a bug: INTERNAL, BAD_REQUEST) is rethrown.
   */
  fallbackOn?: readonly ErrorCode[];
  /** Called on every fallback (logs, metrics). */
  onFallback?: (event: FallbackEvent) => void;
}

export const DEFAULT_FALLBACK_CODES: readonly ErrorCode[] = [
  'LLM_UNAVAILABLE',
  'LLM_OUTPUT_INVALID',
  'CONFIG_INVALID',
  'UPSTREAM_ERROR',
];

export function createResilientLlm(primary: LlmPort, offline: LlmPort, options: ResilientLlmOptions = {}): LlmPort {
  const fallbackOn = new Set(options.fallbackOn ?? DEFAULT_FALLBACK_CODES);

  /** Returns the fallback reason when the error is one we fall back on; rethrows otherwise. */
  function reasonFor(error: unknown, operation: FallbackEvent['operation']): string {
    const appError = isAppError(error) ? error : new AppError('INTERNAL', 'LLM call failed', { cause: error });
    if (!fallbackOn.has(appError.code)) throw appError;
    const reason = `${appError.code}: ${appError.message}`;
    options.onFallback?.({ operation, code: appError.code, reason });
    return reason;
  }

  return {
    provider: primary.provider,

    async classify(request: ClassifyRequest): Promise<LlmClassification | null> {
      try {
        return await primary.classify(request);
      } catch (error) {
        reasonFor(error, 'classify');
        return offline.classify(request);
      }
    },

    async generate(request: GenerationRequest): Promise<GenerationResult> {
      try {
        return await primary.generate(request);
      } catch (error) {
        const fallbackReason = reasonFor(error, 'generate');
        return { ...(await offline.generate(request)), fallbackReason };
      }
    },

    async summarize(request: SummarizeRequest): Promise<SummarizeResult> {
      try {
        return await primary.summarize(request);
      } catch (error) {
        const fallbackReason = reasonFor(error, 'summarize');
        return { ...(await offline.summarize(request)), fallbackReason };
      }
    },

    async countTokens(request: CountTokensRequest): Promise<TokenCount> {
      try {
        return await primary.countTokens(request);
      } catch (error) {
        reasonFor(error, 'count_tokens');
        return offline.countTokens(request);
      }
    },
  };
}
