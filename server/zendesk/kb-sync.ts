/**
 * Help Center → the tenant's knowledge base. The first sync (or --full) imports everything and
 * drops what is no longer published; later syncs use the incremental export from the saved
 * cursor. Articles go through the knowledge provider (server/triage/knowledge-store.ts), which
 * keeps them in the tenant's `knowledge` namespace and re-indexes on change; the cursor lives
 * beside them under `sync:zendesk`.
 */

import type { ZendeskClient } from '../../integration/zendesk/client.ts';
import { importHelpCenter, syncHelpCenterIncremental } from '../../integration/zendesk/help-center.ts';
import type { Logger } from '../logger.ts';
import type { JobQueue } from '../queue/port.ts';
import type { Store } from '../store/port.ts';
import type { TenantRegistry } from '../tenants/registry.ts';
import type { KnowledgeProvider } from '../triage/knowledge-store.ts';
import type { ZendeskConnections } from './helpdesk.ts';

export const SYNC_CURSOR_KEY = 'sync:zendesk';
export const ZENDESK_KB_SYNC_JOB = 'zendesk.kb-sync';
export const DEFAULT_KB_SYNC_INTERVAL_MS = 60 * 60 * 1000;

export interface SyncCursor {
  nextStartTime: number;
  lastFullAt?: string;
  lastSyncAt: string;
}

export interface KbSyncResult {
  tenantId: string;
  mode: 'full' | 'incremental';
  upserted: number;
  removed: number;
  nextStartTime: number;
}

export type KnowledgeWriter = Pick<KnowledgeProvider, 'upsert' | 'remove' | 'list'>;

export async function syncZendeskKnowledge(args: {
  tenantId: string;
  client: ZendeskClient;
  store: Store;
  knowledge: KnowledgeWriter;
  full?: boolean;
  now?: () => number;
}): Promise<KbSyncResult> {
  const kv = args.store.forTenant(args.tenantId).namespace<SyncCursor>('knowledge');
  const cursor = await kv.get(SYNC_CURSOR_KEY);
  const now = args.now ?? Date.now;
  const full = args.full === true || cursor === undefined;
  const result = full
    ? await importHelpCenter(args.client, {
        knownIds: (await args.knowledge.list(args.tenantId)).map((article) => article.id),
        now,
      })
    : await syncHelpCenterIncremental(args.client, { startTime: cursor.nextStartTime });
  if (result.upserted.length > 0) await args.knowledge.upsert(args.tenantId, result.upserted);
  if (result.removed.length > 0) await args.knowledge.remove(args.tenantId, result.removed);
  const at = new Date(now()).toISOString();
  await kv.set(SYNC_CURSOR_KEY, {
    nextStartTime: result.nextStartTime,
    lastSyncAt: at,
    ...(full ? { lastFullAt: at } : cursor?.lastFullAt ? { lastFullAt: cursor.lastFullAt } : {}),
  });
  return {
    tenantId: args.tenantId,
    mode: full ? 'full' : 'incremental',
    upserted: result.upserted.length,
    removed: result.removed.length,
    nextStartTime: result.nextStartTime,
  };
}

/**
 * The periodic sync: every interval, one job per Zendesk tenant. The job id names the time slot,
 * so several processes scheduling at once enqueue it once.
 */
export function scheduleKnowledgeSync(args: {
  tenants: TenantRegistry;
  store: Store;
  queue: JobQueue;
  connections: ZendeskConnections;
  knowledge: KnowledgeWriter;
  logger: Logger;
  intervalMs?: number;
  now?: () => number;
}): { stop(): void; tick(): Promise<number> } {
  const intervalMs = args.intervalMs ?? DEFAULT_KB_SYNC_INTERVAL_MS;
  const now = args.now ?? Date.now;
  const logger = args.logger.child({ component: 'zendesk-kb-sync' });
  const knowledge = args.knowledge;

  args.queue.handle<{ tenantId: string; full?: boolean }>(ZENDESK_KB_SYNC_JOB, async (job) => {
    const tenant = await args.tenants.get(job.payload.tenantId);
    if (tenant?.helpdesk !== 'zendesk') return;
    const { client } = args.connections.forTenant(tenant);
    const result = await syncZendeskKnowledge({
      tenantId: tenant.id,
      client,
      store: args.store,
      knowledge,
      ...(job.payload.full === undefined ? {} : { full: job.payload.full }),
      now,
    });
    logger.info({ ...result }, 'Help Center synced');
  });

  async function tick(): Promise<number> {
    const slot = Math.floor(now() / intervalMs);
    let enqueued = 0;
    for (const tenant of await args.tenants.list()) {
      if (tenant.helpdesk !== 'zendesk') continue;
      const job = await args.queue.enqueue(
        ZENDESK_KB_SYNC_JOB,
        { tenantId: tenant.id },
        { jobId: `zendesk-kb:${tenant.id}:${slot}` },
      );
      if (!job.duplicate) enqueued += 1;
    }
    return enqueued;
  }

  const timer = setInterval(() => {
    tick().catch((error: unknown) => logger.error({ err: error }, 'could not schedule the Help Center sync'));
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer), tick };
}
