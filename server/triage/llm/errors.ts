/**
 * Maps Anthropic SDK errors to AppError. Outages (429, 529, 5xx, 408/409, timeouts, connection
 * failures) become retryable LLM_UNAVAILABLE, which the resilient wrapper answers with the
 * offline provider. The SDK's messages carry the API's error text, never the key.
 */
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import { AppError, isAppError } from '../../errors.ts';

function retryAfterSeconds(headers: Headers | undefined): number | undefined {
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  const seconds = Number.parseFloat(value);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

export function mapAnthropicError(error: unknown, operation: string): AppError {
  if (isAppError(error)) return error;
  const details = (status: number | undefined, extra: Record<string, unknown> = {}) => ({
    provider: 'anthropic',
    operation,
    ...(status === undefined ? {} : { status }),
    ...extra,
  });
  if (error instanceof APIConnectionTimeoutError) {
    return new AppError('LLM_UNAVAILABLE', `Anthropic ${operation} timed out`, {
      cause: error,
      details: details(undefined, { reason: 'timeout' }),
    });
  }
  if (error instanceof APIUserAbortError) {
    return new AppError('LLM_UNAVAILABLE', `Anthropic ${operation} was aborted`, {
      cause: error,
      details: details(undefined, { reason: 'aborted' }),
    });
  }
  if (error instanceof APIConnectionError) {
    return new AppError('LLM_UNAVAILABLE', `Anthropic ${operation} could not connect`, {
      cause: error,
      details: details(undefined, { reason: 'connection' }),
    });
  }
  if (error instanceof APIError) {
    const status = error.status;
    const type = error.type ?? undefined;
    const extra = { type, requestId: error.requestID ?? undefined };
    if (status === 429 || status === 408 || status === 409 || (status !== undefined && status >= 500)) {
      const retryAfter = retryAfterSeconds(error.headers);
      return new AppError('LLM_UNAVAILABLE', `Anthropic ${operation} failed with ${status}${type ? ` ${type}` : ''}`, {
        cause: error,
        details: details(status, extra),
        ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }),
      });
    }
    if (status === 401 || status === 403) {
      return new AppError('CONFIG_INVALID', `Anthropic rejected the credentials (${status})`, {
        cause: error,
        details: details(status, extra),
      });
    }
    return new AppError(
      'UPSTREAM_ERROR',
      `Anthropic ${operation} was rejected with ${status ?? 'no status'}${type ? ` ${type}` : ''}`,
      {
        cause: error,
        retryable: false,
        details: details(status, extra),
      },
    );
  }
  return new AppError('INTERNAL', `Anthropic ${operation} failed unexpectedly`, {
    cause: error,
    details: details(undefined),
  });
}
