/**
 * Structured logging. Secrets are redacted by key name wherever they appear in a log object, and
 * any string value that equals a configured secret is masked too (a token pasted into a message,
 * for example).
 */
import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger } from 'pino';

const REDACTED_KEYS = [
  'authorization',
  'apiToken',
  'api_token',
  'apiKey',
  'api_key',
  'accessToken',
  'access_token',
  'clientSecret',
  'client_secret',
  'webhookSecret',
  'webhook_secret',
  'signingSecret',
  'secret',
  'password',
  'token',
  'x-zendesk-webhook-signature',
  'x-hub-signature',
  'x-body-signature',
  'cookie',
];

const redactPaths = REDACTED_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`, `headers["${key}"]`]);

export interface LoggerOptions {
  level: string;
  /** Secret values to mask if they ever appear inside a logged string. */
  secrets?: Array<string | undefined>;
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const secrets = (options.secrets ?? []).filter(
    (value): value is string => typeof value === 'string' && value.length >= 6,
  );
  const maskString = (value: string) =>
    secrets.reduce((text, secret) => (text.includes(secret) ? text.split(secret).join('[REDACTED]') : text), value);
  return pino(
    {
      level: options.level,
      redact: { paths: redactPaths, censor: '[REDACTED]' },
      formatters: {
        log(object) {
          return secrets.length === 0 ? object : (maskDeep(object, maskString) as Record<string, unknown>);
        },
      },
      hooks: {
        logMethod(args, method) {
          const masked =
            secrets.length === 0 ? args : args.map((arg) => (typeof arg === 'string' ? maskString(arg) : arg));
          method.apply(this, masked as Parameters<typeof method>);
        },
      },
    },
    options.destination,
  );
}

function maskDeep(value: unknown, mask: (text: string) => string, depth = 0): unknown {
  if (depth > 6) return value;
  if (typeof value === 'string') return mask(value);
  if (Array.isArray(value)) return value.map((item) => maskDeep(item, mask, depth + 1));
  if (value instanceof Error) {
    return { type: value.name, message: mask(value.message), stack: value.stack ? mask(value.stack) : undefined };
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, maskDeep(item, mask, depth + 1)]));
  }
  return value;
}
