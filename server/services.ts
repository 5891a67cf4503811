/**
 * Wires the product's features onto a runtime: job handlers on the queue and the routers the
 * web process mounts. Shared by the web process and worker processes so both run the same jobs.
 */
import type { Router } from 'express';
import { playgroundPage, triageApi } from './playground/routes.ts';
import type { Runtime } from './runtime.ts';
import { createTenantRegistry, envTenant, type TenantRegistry } from './tenants/registry.ts';
import { createTriageServices, type TriageServices } from './triage/setup.ts';

export interface Services {
  tenants: TenantRegistry;
  triage: TriageServices;
  llmName: string;
  rawRouters: Array<{ path: string; router: Router }>;
  jsonRouters: Array<{ path: string; router: Router }>;
}

export async function createServices(runtime: Runtime): Promise<Services> {
  const tenants = createTenantRegistry(runtime.store, envTenant(runtime.config));
  const triage = createTriageServices({
    config: runtime.config,
    store: runtime.store,
    logger: runtime.logger,
    metrics: runtime.metrics,
  });
  return {
    tenants,
    triage,
    llmName: triage.llm.provider,
    // The playground page takes no body; it sits with the routers that parse their own.
    rawRouters: [{ path: '/', router: playgroundPage() }],
    jsonRouters: [{ path: '/api', router: triageApi(triage.engine) }],
  };
}
