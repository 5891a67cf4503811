/**
 * Wires the product's features onto a runtime: job handlers on the queue and the routers the
 * web process mounts. Shared by the web process and worker processes so both run the same jobs.
 */
import type { Router } from 'express';
import { createFeedbackService, type FeedbackService } from './feedback/feedback.ts';
import { feedbackRouter } from './feedback/routes.ts';
import { playgroundPage, triageApi } from './playground/routes.ts';
import type { Runtime } from './runtime.ts';
import { createTenantRegistry, envTenant, type TenantRegistry } from './tenants/registry.ts';
import { createTriageServices, type TriageServices } from './triage/setup.ts';
import { createZendeskFeature, type ZendeskFeature, type ZendeskFeatureOptions } from './zendesk/feature.ts';

export interface Services {
  tenants: TenantRegistry;
  triage: TriageServices;
  llmName: string;
  rawRouters: Array<{ path: string; router: Router }>;
  jsonRouters: Array<{ path: string; router: Router }>;
  adminRouters: Router[];
  zendesk: ZendeskFeature;
  feedback: FeedbackService;
}

export interface ServicesOptions {
  zendesk?: ZendeskFeatureOptions;
}

export async function createServices(runtime: Runtime, options: ServicesOptions = {}): Promise<Services> {
  const tenants = createTenantRegistry(runtime.store, envTenant(runtime.config));
  const feedback = createFeedbackService(runtime.store);
  const triage = createTriageServices({
    config: runtime.config,
    store: runtime.store,
    logger: runtime.logger,
    metrics: runtime.metrics,
    feedback,
  });
  const zendesk = createZendeskFeature(
    {
      tenants,
      store: runtime.store,
      queue: runtime.queue,
      metrics: runtime.metrics,
      logger: runtime.logger,
      engine: triage.engine,
      knowledge: triage.knowledge,
      bodyLimitBytes: runtime.config.BODY_LIMIT_BYTES,
    },
    // Tier 0 is gated on the accuracy reviewers measured; tests may override the source.
    {
      intentAccuracy: (tenantId) => feedback.intentAccuracy(tenantId),
      writesPerMinute: runtime.config.ZENDESK_WRITES_PER_MINUTE,
      kbSyncIntervalMs: runtime.config.KB_SYNC_INTERVAL_MINUTES * 60_000,
      ...options.zendesk,
    },
  );
  return {
    tenants,
    triage,
    zendesk,
    llmName: triage.llm.provider,
    // The playground page takes no body; it sits with the routers that parse their own.
    rawRouters: [zendesk.rawRouter, { path: '/', router: playgroundPage() }],
    jsonRouters: [{ path: '/api', router: triageApi(triage.engine) }],
    adminRouters: [feedbackRouter(feedback, tenants, triage.models)],
    feedback,
  };
}
