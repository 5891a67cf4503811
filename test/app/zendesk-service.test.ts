/**
 * The real service (server/main.ts) as a child process against the sandbox running in this test.
 * Acceptance 7: the env tenant (ZENDESK_* → sandbox), one signed webhook → an internal note.
 * Acceptance 4: SIGKILL in the middle of 200 tickets, restart → each ticket written exactly once.
 *
 * Zendesk limits ticket updates per account (about 100/min), and the client's per-tenant limiter
 * honours that (90/min, bursts of 15): 200 tickets for one account would take over two minutes.
 * The crash test therefore spreads its 200 tickets over 8 stored tenants (8 accounts) of the same
 * sandbox, which keeps the real limiter in place and the test short.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openKeyvStore } from '../../server/store/keyv-store.ts';
import { createTenantRegistry } from '../../server/tenants/registry.ts';
import { sharedSpecPath } from '../fakes/openapi-validator.ts';
import { startZendeskSandbox, type ZendeskSandbox } from '../fakes/zendesk-sandbox.ts';
import { MODEL_CACHE_DIR, markedComments, newSecret, postDelivery, webhookBody } from '../fixtures/zendesk-harness.ts';
import { childEnv, tempDir, waitFor } from '../helpers/backends.ts';

const specsPresent = existsSync(fileURLToPath(sharedSpecPath('zendesk-support-oas.yaml')));
const MAIN = fileURLToPath(new URL('../../server/main.ts', import.meta.url));
const ADMIN_TOKEN = 'test-admin-token-for-queue-counts';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

interface Service {
  child: ChildProcess;
  url: string;
  lines: string[];
  exited: Promise<number | null>;
}

async function startService(env: Record<string, string>): Promise<Service> {
  const port = await freePort();
  // Reuse the classifier model other tests trained (the service trains and caches it otherwise).
  const cachedModel = join(MODEL_CACHE_DIR, 'models');
  const modelDir = join(env.DATA_DIR!, 'models');
  if (existsSync(cachedModel) && !existsSync(modelDir)) cpSync(cachedModel, modelDir, { recursive: true });
  // `node --import tsx` keeps it one process: the tsx CLI would fork a child that outlives a SIGKILL.
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: childEnv({ ...env, PORT: String(port), HOST: '127.0.0.1', ADMIN_TOKEN, LOG_LEVEL: 'info' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let buffer = '';
  const collect = (chunk: Buffer) => {
    buffer += chunk.toString();
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    lines.push(...parts);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`service exited: ${lines.slice(-5).join('\n')}`);
      return lines.some((line) => line.includes('support agent listening'));
    },
    'service listening',
    30_000,
  );
  return { child, url, lines, exited };
}

async function queueCounts(service: Service): Promise<{ waiting: number; active: number; dead: number }> {
  const response = await fetch(`${service.url}/admin/queue`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  return ((await response.json()) as { counts: { waiting: number; active: number; dead: number } }).counts;
}

function outcomesIn(lines: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of lines) {
    if (!line.includes('ticket event handled')) continue;
    const kind = (JSON.parse(line) as { kind?: string }).kind ?? 'unknown';
    counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

describe.skipIf(!specsPresent)('the service process against the sandbox', () => {
  let sandbox: ZendeskSandbox | undefined;
  const services: Service[] = [];

  afterEach(async () => {
    for (const service of services.splice(0)) {
      if (service.child.exitCode === null && service.child.signalCode === null) {
        service.child.kill('SIGKILL');
        await service.exited;
      }
    }
    const violations = sandbox?.violations ?? [];
    await sandbox?.close();
    sandbox = undefined;
    expect(violations).toEqual([]);
  });

  it('end to end with the env tenant: a signed webhook becomes an internal note (acceptance 7)', async () => {
    sandbox = await startZendeskSandbox();
    const secret = newSecret();
    const dataDir = tempDir('zendesk-e2e');
    const service = await startService({
      DATA_DIR: dataDir,
      ZENDESK_SUBDOMAIN: 'acme',
      ZENDESK_EMAIL: sandbox.email,
      ZENDESK_API_TOKEN: sandbox.apiToken,
      ZENDESK_WEBHOOK_SECRET: secret,
      ZENDESK_API_URL: sandbox.url,
    });
    services.push(service);
    const customer = sandbox.seedUser({ name: 'Casey Customer', role: 'end-user' });
    const text = 'How do I reset my password? I forgot it and cannot log in.';
    const ticket = sandbox.seedTicket({ subject: 'Password', description: text, requesterId: customer.id });

    // No account header at all: the one configured tenant serves it.
    const response = await postDelivery(
      service.url,
      { body: webhookBody(ticket.id, 'ticket_created'), omit: ['account'] },
      secret,
    );
    expect(response.status).toBe(202);
    await waitFor(() => markedComments(sandbox!, ticket.id).length === 1, 'internal note in the sandbox', 20_000);
    const [note] = markedComments(sandbox, ticket.id);
    expect(note!.public).toBe(false);
    expect(note!.body).toContain(`[ai-triage event ${ticket.id}:`);
    expect(sandbox.ticket(ticket.id)!.tags).toEqual(expect.arrayContaining(['ai_intent_password_reset']));
    // A forged delivery is refused by the real service too.
    const forged = await postDelivery(service.url, { body: webhookBody(ticket.id) }, 'not-the-secret');
    expect(forged.status).toBe(401);
    expect(service.lines.join('\n')).not.toContain(secret);
    expect(service.lines.join('\n')).not.toContain(sandbox.apiToken);
    console.log(`[acceptance 7] env tenant: delivery 202, note ${note!.id} (public ${note!.public}), forged 401`);
  });

  it('SIGKILL in the middle of 200 tickets, restart: each ticket written exactly once (acceptance 4)', async () => {
    sandbox = await startZendeskSandbox();
    const dataDir = tempDir('zendesk-crash');
    const tenantCount = 8;
    const tenants = Array.from({ length: tenantCount }, (_, index) => ({
      id: `shop${index}`,
      accountId: String(5000 + index),
      secret: newSecret(),
    }));
    const store = await openKeyvStore({ kind: 'sqlite', file: join(dataDir, 'support-agent.sqlite') });
    const registry = createTenantRegistry(store);
    for (const tenant of tenants) {
      await registry.put({
        id: tenant.id,
        helpdesk: 'zendesk',
        zendesk: {
          subdomain: tenant.id,
          email: sandbox.email,
          apiToken: sandbox.apiToken,
          webhookSecret: tenant.secret,
          apiUrl: sandbox.url,
          accountId: tenant.accountId,
        },
      });
    }
    await store.close();

    const env = { DATA_DIR: dataDir, WORKER_CONCURRENCY: '16' };
    const first = await startService(env);
    services.push(first);
    const customer = sandbox.seedUser({ name: 'Casey Customer', role: 'end-user' });
    const tickets = Array.from({ length: 200 }, (_, index) =>
      sandbox!.seedTicket({
        subject: `Question ${index}`,
        description: index % 2 === 0 ? 'How do I reset my password?' : 'I was charged twice this month.',
        requesterId: customer.id,
      }),
    );
    const deliveries = tickets.map((ticket, index) => ({ ticket, tenant: tenants[index % tenantCount]! }));
    let next = 0;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        while (next < deliveries.length) {
          const { ticket, tenant } = deliveries[next++]!;
          const response = await postDelivery(
            first.url,
            {
              body: webhookBody(ticket.id, 'ticket_created'),
              accountId: tenant.accountId,
              invocationId: `c${ticket.id}`,
            },
            tenant.secret,
          );
          expect(response.status).toBe(202);
        }
      }),
    );
    const written = () => tickets.filter((ticket) => markedComments(sandbox!, ticket.id).length > 0).length;
    await waitFor(() => written() >= 60, '60 tickets written', 30_000);
    first.child.kill('SIGKILL');
    await first.exited;
    const writtenBeforeKill = written();
    expect(writtenBeforeKill).toBeLessThan(200); // the kill really was mid-run

    const second = await startService(env);
    services.push(second);
    await waitFor(
      async () => written() === 200 && Object.values(await queueCounts(second)).every((count) => count === 0),
      'all 200 tickets written after the restart',
      60_000,
    );
    const perTicket = tickets.map((ticket) => markedComments(sandbox!, ticket.id).length);
    const puts = sandbox.requests.filter((request) => request.method === 'PUT' && request.status === 200).length;
    console.log(
      `[acceptance 4] tickets 200 over ${tenantCount} tenants; written before SIGKILL ${writtenBeforeKill}; ` +
        `job outcomes before kill ${JSON.stringify(outcomesIn(first.lines))}, after restart ${JSON.stringify(outcomesIn(second.lines))}; ` +
        `successful ticket PUTs ${puts}; notes per ticket min ${Math.min(...perTicket)} max ${Math.max(...perTicket)}; ` +
        `OAS violations ${sandbox.violations.length}`,
    );
    expect(perTicket.every((count) => count === 1)).toBe(true);
    expect(puts).toBe(200);
  });
});
