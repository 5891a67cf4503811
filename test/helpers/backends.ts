/**
 * Which store backends the contract suites run on. SQLite always; PostgreSQL and Redis when
 * DATABASE_URL / REDIS_URL are set (.ci/run sets both to the machine's local services).
 * Each run gets its own namespace prefix so parallel test files never see each other's keys.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoreConfig } from '../../server/store/keyv-store.ts';

export const DATABASE_URL = process.env.DATABASE_URL;
export const REDIS_URL = process.env.REDIS_URL;

export function uniquePrefix(): string {
  return `t${randomBytes(5).toString('hex')}`;
}

export function tempDir(label = 'support-agent'): string {
  return mkdtempSync(join(tmpdir(), `${label}-`));
}

export interface BackendCase {
  name: 'sqlite' | 'postgres' | 'redis';
  available: boolean;
  config: () => StoreConfig;
}

export const STORE_BACKENDS: BackendCase[] = [
  {
    name: 'sqlite',
    available: true,
    config: () => ({ kind: 'sqlite', file: join(tempDir('store'), 'test.sqlite'), prefix: uniquePrefix() }),
  },
  {
    name: 'postgres',
    available: DATABASE_URL !== undefined,
    config: () => ({ kind: 'postgres', url: DATABASE_URL!, prefix: uniquePrefix() }),
  },
  {
    name: 'redis',
    available: REDIS_URL !== undefined,
    config: () => ({ kind: 'redis', url: REDIS_URL!, prefix: uniquePrefix() }),
  },
];

/** Polls until the check passes or the timeout elapses (then throws with the label). */
export async function waitFor(check: () => Promise<boolean> | boolean, label: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`Timed out waiting for: ${label}`);
}

/** Service settings a test's child process must not inherit from the test runner (CI sets the store URLs). */
const SERVICE_ENV_PATTERN =
  /^(DATABASE_URL|REDIS_URL|QUEUE|DATA_DIR|PORT|HOST|PUBLIC_URL|ADMIN_TOKEN|KB_PATH|LOG_LEVEL|ZENDESK_.*|INTERCOM_.*|ANTHROPIC_.*)$/;

/**
 * The environment for a child process running the service or one of its commands: the runner's
 * environment without any service setting, plus the test's own. Without this, CI's DATABASE_URL
 * would put a child on the shared PostgreSQL store, where earlier runs left their tenants.
 */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([key]) => !SERVICE_ENV_PATTERN.test(key)));
  return { ...base, ...extra };
}
