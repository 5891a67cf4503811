/**
 * One error type for the whole service. Every failure that crosses a boundary (HTTP, queue,
 * vendor call) is an AppError with a stable UPPER_SNAKE code; the code decides the HTTP status
 * and whether a retry can help.
 */
export type ErrorCode =
  | 'BAD_REQUEST'
  | 'INVALID_JSON'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'PAYLOAD_TOO_LARGE'
  | 'VALIDATION_FAILED'
  | 'NOT_FOUND'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'WEBHOOK_SIGNATURE_INVALID'
  | 'WEBHOOK_TIMESTAMP_STALE'
  | 'TENANT_UNKNOWN'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'CONFIG_INVALID'
  | 'STORE_UNAVAILABLE'
  | 'QUEUE_UNAVAILABLE'
  | 'SERVICE_STARTING'
  | 'UPSTREAM_ERROR'
  | 'UPSTREAM_TIMEOUT'
  | 'LLM_UNAVAILABLE'
  | 'LLM_OUTPUT_INVALID'
  | 'INTERNAL';

const STATUS_BY_CODE: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  INVALID_JSON: 400,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PAYLOAD_TOO_LARGE: 413,
  VALIDATION_FAILED: 422,
  NOT_FOUND: 404,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  WEBHOOK_SIGNATURE_INVALID: 401,
  WEBHOOK_TIMESTAMP_STALE: 401,
  TENANT_UNKNOWN: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  CONFIG_INVALID: 500,
  STORE_UNAVAILABLE: 503,
  QUEUE_UNAVAILABLE: 503,
  SERVICE_STARTING: 503,
  UPSTREAM_ERROR: 502,
  UPSTREAM_TIMEOUT: 504,
  LLM_UNAVAILABLE: 503,
  LLM_OUTPUT_INVALID: 502,
  INTERNAL: 500,
};

const RETRYABLE_CODES = new Set<ErrorCode>([
  'RATE_LIMITED',
  'STORE_UNAVAILABLE',
  'QUEUE_UNAVAILABLE',
  'SERVICE_STARTING',
  'UPSTREAM_ERROR',
  'UPSTREAM_TIMEOUT',
  'LLM_UNAVAILABLE',
]);

export interface AppErrorOptions {
  details?: unknown;
  cause?: unknown;
  retryable?: boolean;
  /** Seconds the caller should wait before retrying (from Retry-After, for example). */
  retryAfterSeconds?: number;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly details: unknown;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = STATUS_BY_CODE[code];
    this.retryable = options.retryable ?? RETRYABLE_CODES.has(code);
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  /** The JSON error shape every HTTP route answers with. */
  toJSON(requestId?: string): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
        ...(requestId === undefined ? {} : { requestId }),
      },
    };
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown; requestId?: string };
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}
