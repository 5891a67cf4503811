/** Starting the benchmark's child processes (service, bare endpoint) and signing deliveries for them. */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { signZendeskPayload } from '../../integration/zendesk/webhook-signature.ts';
import { spawnTs, waitForMessage } from './processes.ts';

const SERVICE_SCRIPT = fileURLToPath(new URL('../children/service.ts', import.meta.url));
const BARE_SCRIPT = fileURLToPath(new URL('../children/bare.ts', import.meta.url));

export const ACCOUNT_ID = '424242';

export interface ChildService {
  child: ChildProcess;
  url: string;
  pid: number;
}

interface Ready {
  type: 'ready';
  url: string;
  pid: number;
}

const isReady = (message: unknown): message is Ready =>
  typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'ready';

export async function startChild(
  kind: 'service' | 'bare',
  env: Record<string, string> = {},
  nodeFlags: string[] = [],
): Promise<ChildService> {
  // BENCH_CHILD_NODE_FLAGS adds Node flags to the children (diagnostics, e.g. "--cpu-prof --cpu-prof-dir=DIR").
  const extraFlags = process.env.BENCH_CHILD_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
  const child = spawnTs(kind === 'service' ? SERVICE_SCRIPT : BARE_SCRIPT, {
    env,
    nodeFlags: [...nodeFlags, ...extraFlags],
  });
  const ready = await waitForMessage(child, isReady, 120_000, `${kind} child start`);
  return { child, url: ready.url, pid: ready.pid };
}

/** The environment of a service whose env tenant points at a (sandbox) Zendesk. */
export function serviceEnv(args: {
  dataDir: string;
  zendeskUrl: string;
  email: string;
  apiToken: string;
  secret: string;
  adminToken: string;
  extra?: Record<string, string>;
}): Record<string, string> {
  return {
    NODE_ENV: 'production',
    DATA_DIR: args.dataDir,
    LOG_LEVEL: 'silent',
    HOST: '127.0.0.1',
    ZENDESK_SUBDOMAIN: 'bench',
    ZENDESK_EMAIL: args.email,
    ZENDESK_API_TOKEN: args.apiToken,
    ZENDESK_WEBHOOK_SECRET: args.secret,
    ZENDESK_API_URL: args.zendeskUrl,
    ADMIN_TOKEN: args.adminToken,
    ...args.extra,
  };
}

export function newSecret(): string {
  return randomBytes(24).toString('base64');
}

/** RFC 3339 without milliseconds, as Zendesk sends it. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Signed Zendesk deliveries with unique invocation ids. The timestamp is refreshed once a second
 * (deliveries must be under 5 minutes old); each body is signed on its own bytes.
 */
export function createDeliverySigner(secret: string, ticketIds: () => string) {
  const run = randomBytes(4).toString('hex');
  let counter = 0;
  let stampSecond = 0;
  let stamp = '';
  return function next(): { body: string; headers: Record<string, string>; invocationId: string } {
    const nowSecond = Math.floor(Date.now() / 1000);
    if (nowSecond !== stampSecond) {
      stampSecond = nowSecond;
      stamp = rfc3339(nowSecond * 1000);
    }
    counter += 1;
    const invocationId = `bench${run}n${counter}`;
    const body = JSON.stringify({ ticket_id: ticketIds(), event: 'comment_added' });
    return {
      body,
      invocationId,
      headers: {
        'content-type': 'application/json',
        'x-zendesk-account-id': ACCOUNT_ID,
        'x-zendesk-webhook-id': '01BENCHWEBHOOK',
        'x-zendesk-webhook-invocation-id': invocationId,
        'x-zendesk-webhook-signature-timestamp': stamp,
        'x-zendesk-webhook-signature': signZendeskPayload(body, stamp, secret),
      },
    };
  };
}
