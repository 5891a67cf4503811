/**
 * The one place that reads the environment. Everything is parsed by one zod schema at boot, and
 * every invalid key is reported in a single error so an admin fixes them all in one go.
 */
import { existsSync } from 'node:fs';
import { z } from 'zod';

const emptyToUndefined = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);

const optionalString = z.preprocess(emptyToUndefined, z.string().optional());

function urlWithProtocols(protocols: string[], example: string) {
  return z.preprocess(
    emptyToUndefined,
    z
      .string()
      .refine(
        (value) => {
          try {
            const url = new URL(value);
            return protocols.includes(url.protocol) && url.hostname.length > 0;
          } catch {
            return false;
          }
        },
        { message: `must be a URL like ${example}` },
      )
      .optional(),
  );
}

const httpUrl = urlWithProtocols(['http:', 'https:'], 'https://host.example');

function integer(defaultValue: number, min: number, max: number) {
  return z.preprocess(emptyToUndefined, z.coerce.number().int().min(min).max(max).default(defaultValue));
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const envSchema = z.object({
  NODE_ENV: z.preprocess(emptyToUndefined, z.enum(['development', 'production', 'test']).default('development')),
  PORT: integer(3000, 0, 65535),
  HOST: z.preprocess(emptyToUndefined, z.string().default('0.0.0.0')),
  /** Public base URL of the service, used when registering webhooks with a helpdesk. */
  PUBLIC_URL: httpUrl,
  DATA_DIR: z.preprocess(emptyToUndefined, z.string().default('./data')),
  DATABASE_URL: urlWithProtocols(['postgres:', 'postgresql:'], 'postgres://user@127.0.0.1:5432/db'),
  REDIS_URL: urlWithProtocols(['redis:', 'rediss:'], 'redis://127.0.0.1:6379'),
  QUEUE: z.preprocess(emptyToUndefined, z.enum(['embedded', 'bullmq']).default('embedded')),
  LOG_LEVEL: z.preprocess(emptyToUndefined, z.enum(LOG_LEVELS).default('info')),
  BODY_LIMIT_BYTES: integer(256 * 1024, 1024, 10 * 1024 * 1024),
  SHUTDOWN_TIMEOUT_MS: integer(10_000, 0, 600_000),
  WORKER_CONCURRENCY: integer(4, 1, 2048),
  QUEUE_MAX_ATTEMPTS: integer(5, 1, 100),
  QUEUE_VISIBILITY_TIMEOUT_MS: integer(120_000, 1_000, 3_600_000),
  /** SQLite durability: FULL syncs every commit to disk; NORMAL survives process crashes, not power loss. */
  SQLITE_SYNCHRONOUS: z.preprocess(emptyToUndefined, z.enum(['FULL', 'NORMAL']).default('FULL')),
  /** Knowledge base used when a tenant has none of its own: a Markdown folder or a JSONL file. */
  KB_PATH: z.preprocess(emptyToUndefined, z.string().optional()),
  /** Product and company names the grounding guard always accepts in drafts (comma-separated). */
  KNOWN_NAMES: z.preprocess(emptyToUndefined, z.string().default('Tandem')),
  /** Bearer token for the admin API; the admin API is disabled without it. */
  ADMIN_TOKEN: optionalString,
  ANTHROPIC_API_KEY: optionalString,
  ANTHROPIC_BASE_URL: httpUrl,
  ANTHROPIC_SMALL_MODEL: z.preprocess(emptyToUndefined, z.string().default('claude-haiku-4-5')),
  ANTHROPIC_LARGE_MODEL: z.preprocess(emptyToUndefined, z.string().default('claude-sonnet-4-6')),
  ANTHROPIC_TIMEOUT_MS: integer(30_000, 1_000, 600_000),
  ANTHROPIC_MAX_RETRIES: integer(1, 0, 10),
  ZENDESK_SUBDOMAIN: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/i, 'must be the account subdomain, like "acme" for acme.zendesk.com')
      .optional(),
  ),
  ZENDESK_EMAIL: z.preprocess(emptyToUndefined, z.string().email('must be an email address').optional()),
  ZENDESK_API_TOKEN: optionalString,
  ZENDESK_WEBHOOK_SECRET: optionalString,
  ZENDESK_API_URL: httpUrl,
  /** Ticket writes per minute per Zendesk account, below Zendesk's update limit (about 100). */
  ZENDESK_WRITES_PER_MINUTE: integer(90, 1, 10_000),
  /** Help Center sync interval in minutes; 0 turns the schedule off. */
  KB_SYNC_INTERVAL_MINUTES: integer(60, 0, 10_080),
  INTERCOM_ACCESS_TOKEN: optionalString,
  INTERCOM_CLIENT_SECRET: optionalString,
  INTERCOM_ADMIN_ID: optionalString,
  INTERCOM_WORKSPACE_ID: optionalString,
  INTERCOM_API_URL: httpUrl,
});

/**
 * Rules across keys, checked on the raw values so they are reported together with per-key
 * problems (a zod refinement would only run once every key parsed).
 */
function crossKeyProblems(environment: Record<string, string | undefined>): Array<{ key: string; message: string }> {
  const present = (key: string) => (environment[key] ?? '').trim() !== '';
  const problems: Array<{ key: string; message: string }> = [];
  if ((environment.QUEUE ?? '').trim() === 'bullmq' && !present('REDIS_URL')) {
    problems.push({ key: 'REDIS_URL', message: 'is required when QUEUE=bullmq' });
  }
  const zendeskKeys = ['ZENDESK_SUBDOMAIN', 'ZENDESK_EMAIL', 'ZENDESK_API_TOKEN'];
  const zendeskSet = zendeskKeys.filter(present);
  if (zendeskSet.length > 0 && zendeskSet.length < zendeskKeys.length) {
    for (const key of zendeskKeys.filter((k) => !present(k))) {
      problems.push({ key, message: `is required when ${zendeskSet.join(', ')} is set` });
    }
  }
  return problems;
}

export type Env = z.infer<typeof envSchema>;

export interface Config extends Env {
  store: { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string } | { kind: 'redis'; url: string };
}

/** Names of settings whose values must never be printed. */
export const SECRET_KEYS = [
  'ADMIN_TOKEN',
  'ANTHROPIC_API_KEY',
  'ZENDESK_API_TOKEN',
  'ZENDESK_WEBHOOK_SECRET',
  'INTERCOM_ACCESS_TOKEN',
  'INTERCOM_CLIENT_SECRET',
  'DATABASE_URL',
  'REDIS_URL',
] as const;

export class ConfigError extends Error {
  readonly problems: Array<{ key: string; message: string }>;
  constructor(problems: Array<{ key: string; message: string }>) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems
        .map((problem) => `  - ${problem.key}: ${problem.message}`)
        .join('\n')}`,
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * Parses the environment. Values are never echoed back in errors: a malformed DATABASE_URL may
 * hold a password.
 */
export function loadConfig(environment: Record<string, string | undefined>): Config {
  const result = envSchema.safeParse(environment);
  const problems = [
    ...(result.success
      ? []
      : result.error.issues.map((issue) => ({
          key: issue.path.join('.') || '(environment)',
          message: issue.code === 'invalid_value' ? `must be one of ${issue.values.join(', ')}` : issue.message,
        }))),
    ...crossKeyProblems(environment),
  ];
  if (!result.success || problems.length > 0) throw new ConfigError(problems);
  const env = result.data;
  const store: Config['store'] =
    env.DATABASE_URL !== undefined
      ? { kind: 'postgres', url: env.DATABASE_URL }
      : env.REDIS_URL !== undefined
        ? { kind: 'redis', url: env.REDIS_URL }
        : { kind: 'sqlite', file: `${env.DATA_DIR.replace(/\/+$/, '')}/support-agent.sqlite` };
  return { ...env, store };
}

/**
 * Reads the process environment (and a `.env` file in the working directory, when there is one,
 * without overriding what is already set). The only function in the codebase that touches process.env.
 */
export function loadConfigFromProcess(envFile = '.env'): Config {
  if (existsSync(envFile)) process.loadEnvFile(envFile);
  return loadConfig(process.env);
}
