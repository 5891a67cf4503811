/** Per-tenant Zendesk clients: one client and one write limiter per tenant, rebuilt when the tenant changes. */

import type { HelpdeskPort } from '../../integration/helpdesk-port.ts';
import { createZendeskHelpdesk } from '../../integration/zendesk/adapter.ts';
import { createZendeskClient, type RetryEvent, type ZendeskClient } from '../../integration/zendesk/client.ts';
import { createTenantRateLimiters, DEFAULT_TICKET_WRITES_PER_MINUTE } from '../../integration/zendesk/rate-limiter.ts';
import { AppError } from '../errors.ts';
import type { Tenant } from '../tenants/registry.ts';

export interface ZendeskConnection {
  client: ZendeskClient;
  helpdesk: HelpdeskPort;
}

export interface ZendeskConnectionOptions {
  /** Per-tenant ticket writes per minute (Zendesk limits updates per account, about 100/min). */
  writesPerMinute?: number;
  timeoutMs?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  onRetry?: (tenantId: string, event: RetryEvent) => void;
}

export function zendeskBaseUrl(tenant: Tenant): string {
  const zendesk = tenant.zendesk;
  if (zendesk === undefined) throw new AppError('CONFIG_INVALID', `Tenant ${tenant.id} has no Zendesk credentials`);
  return (zendesk.apiUrl ?? `https://${zendesk.subdomain}.zendesk.com`).replace(/\/+$/, '');
}

export function createZendeskConnections(options: ZendeskConnectionOptions = {}) {
  const limiters = createTenantRateLimiters({ perMinute: options.writesPerMinute ?? DEFAULT_TICKET_WRITES_PER_MINUTE });
  const cache = new Map<string, { stamp: string; connection: ZendeskConnection }>();

  return {
    forTenant(tenant: Tenant): ZendeskConnection {
      const zendesk = tenant.zendesk;
      if (tenant.helpdesk !== 'zendesk' || zendesk === undefined) {
        throw new AppError('CONFIG_INVALID', `Tenant ${tenant.id} is not a Zendesk tenant`, { retryable: false });
      }
      // A changed tenant (new token, new URL) gets a new client; the limiter stays per tenant.
      const stamp = `${tenant.updatedAt ?? ''}|${zendeskBaseUrl(tenant)}|${zendesk.email}`;
      const cached = cache.get(tenant.id);
      if (cached !== undefined && cached.stamp === stamp) return cached.connection;
      const client = createZendeskClient({
        baseUrl: zendeskBaseUrl(tenant),
        email: zendesk.email,
        apiToken: zendesk.apiToken,
        writeLimiter: limiters.forTenant(tenant.id),
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        ...(options.baseBackoffMs === undefined ? {} : { baseBackoffMs: options.baseBackoffMs }),
        ...(options.maxBackoffMs === undefined ? {} : { maxBackoffMs: options.maxBackoffMs }),
        ...(options.onRetry === undefined
          ? {}
          : { onRetry: (event: RetryEvent) => options.onRetry?.(tenant.id, event) }),
      });
      const connection = { client, helpdesk: createZendeskHelpdesk(client) };
      cache.set(tenant.id, { stamp, connection });
      return connection;
    },
  };
}

export type ZendeskConnections = ReturnType<typeof createZendeskConnections>;
