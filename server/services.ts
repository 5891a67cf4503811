/**
 * Wires the product's features onto a runtime: job handlers on the queue and the routers the
 * web process mounts. Shared by the web process and worker processes so both run the same jobs.
 */
import type { Router } from 'express';
import type { Runtime } from './runtime.ts';
import { createTenantRegistry, envTenant, type TenantRegistry } from './tenants/registry.ts';

export interface Services {
  tenants: TenantRegistry;
  llmName: string;
  rawRouters: Array<{ path: string; router: Router }>;
  jsonRouters: Array<{ path: string; router: Router }>;
}

export async function createServices(runtime: Runtime): Promise<Services> {
  const tenants = createTenantRegistry(runtime.store, envTenant(runtime.config));
  return {
    tenants,
    llmName: runtime.config.ANTHROPIC_API_KEY ? 'anthropic' : 'offline',
    rawRouters: [],
    jsonRouters: [],
  };
}
