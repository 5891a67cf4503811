/**
 * The Zendesk feature wired onto a runtime: the webhook router, the ticket-event job handler and
 * the periodic Help Center sync. server/services.ts calls this once per process.
 */
import type { Router } from 'express';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { JobQueue } from '../queue/port.ts';
import type { Store } from '../store/port.ts';
import type { TenantRegistry } from '../tenants/registry.ts';
import type { TriageEngine } from '../triage/record.ts';
import { createZendeskConnections, type ZendeskConnectionOptions, type ZendeskConnections } from './helpdesk.ts';
import {
  createZendeskJobHandler,
  type JobOutcome,
  ZENDESK_TICKET_JOB,
  type ZendeskJobDeps,
  type ZendeskJobPayload,
} from './job.ts';
import type { KnowledgeWriter } from './kb-sync.ts';
import { DEFAULT_KB_SYNC_INTERVAL_MS, scheduleKnowledgeSync } from './kb-sync.ts';
import { ZENDESK_WEBHOOK_PATH, zendeskWebhookRouter } from './webhook.ts';

export interface ZendeskFeatureOptions extends ZendeskConnectionOptions {
  /** Help Center sync interval; 0 turns the schedule off. Default hourly. */
  kbSyncIntervalMs?: number;
  maxWritesPerHour?: number;
  intentAccuracy?: ZendeskJobDeps['intentAccuracy'];
  onOutcome?: (payload: ZendeskJobPayload, outcome: JobOutcome) => void;
  now?: () => number;
}

export interface ZendeskFeatureDeps {
  tenants: TenantRegistry;
  store: Store;
  queue: JobQueue;
  metrics: Metrics;
  logger: Logger;
  engine: TriageEngine;
  /** Where Help Center articles go (the engine's knowledge provider). */
  knowledge: KnowledgeWriter;
  bodyLimitBytes: number;
}

export interface ZendeskFeature {
  rawRouter: { path: string; router: Router };
  connections: ZendeskConnections;
  /** Enqueues a Help Center sync for every Zendesk tenant now (the schedule calls it too). */
  syncKnowledgeNow(): Promise<number>;
  stop(): void;
}

export function createZendeskFeature(deps: ZendeskFeatureDeps, options: ZendeskFeatureOptions = {}): ZendeskFeature {
  const connections = createZendeskConnections({
    ...options,
    onRetry:
      options.onRetry ?? ((tenantId, event) => deps.logger.debug({ tenantId, ...event }, 'Zendesk call retried')),
  });
  deps.queue.handle<ZendeskJobPayload>(
    ZENDESK_TICKET_JOB,
    createZendeskJobHandler({
      tenants: deps.tenants,
      store: deps.store,
      engine: deps.engine,
      connections,
      logger: deps.logger,
      ...(options.maxWritesPerHour === undefined ? {} : { maxWritesPerHour: options.maxWritesPerHour }),
      ...(options.intentAccuracy === undefined ? {} : { intentAccuracy: options.intentAccuracy }),
      ...(options.onOutcome === undefined ? {} : { onOutcome: options.onOutcome }),
      ...(options.now === undefined ? {} : { now: options.now }),
    }),
  );
  const intervalMs = options.kbSyncIntervalMs ?? DEFAULT_KB_SYNC_INTERVAL_MS;
  const schedule = scheduleKnowledgeSync({
    tenants: deps.tenants,
    store: deps.store,
    queue: deps.queue,
    connections,
    knowledge: deps.knowledge,
    logger: deps.logger,
    intervalMs: intervalMs > 0 ? intervalMs : DEFAULT_KB_SYNC_INTERVAL_MS,
  });
  if (intervalMs <= 0) schedule.stop();
  return {
    rawRouter: {
      path: ZENDESK_WEBHOOK_PATH,
      router: zendeskWebhookRouter({
        tenants: deps.tenants,
        store: deps.store,
        queue: deps.queue,
        metrics: deps.metrics,
        bodyLimitBytes: deps.bodyLimitBytes,
        ...(options.now === undefined ? {} : { now: options.now }),
      }),
    },
    connections,
    syncKnowledgeNow: schedule.tick,
    stop: schedule.stop,
  };
}
