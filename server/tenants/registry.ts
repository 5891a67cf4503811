/**
 * The tenant registry: per helpdesk account, its credentials, signing secrets and settings.
 * Tenants come from the store; the environment may describe one more (the "env tenant").
 */
import { z } from 'zod';
import type { Config } from '../config.ts';
import { AppError } from '../errors.ts';
import { assertTenantId, type Store } from '../store/port.ts';
import { tenantSettingsSchema } from './settings.ts';

const zendeskCredentialsSchema = z.object({
  subdomain: z.string().regex(/^[a-z0-9][a-z0-9-]*$/i),
  email: z.string().email(),
  apiToken: z.string().min(1),
  webhookSecret: z.string().min(1).optional(),
  /** Numeric account id from x-zendesk-account-id, learned on connect or first delivery. */
  accountId: z.string().optional(),
  /** Overrides https://{subdomain}.zendesk.com (sandboxes, tests). */
  apiUrl: z.string().url().optional(),
  /** The Zendesk user the agent writes as (its own notes are ignored by the guard). */
  botUserId: z.number().int().optional(),
});

const intercomCredentialsSchema = z.object({
  workspaceId: z.string().min(1),
  accessToken: z.string().min(1),
  clientSecret: z.string().min(1),
  adminId: z.string().min(1),
  apiUrl: z.string().url().optional(),
});

export const tenantSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,99}$/i, 'letters, digits, ".", "_" and "-" only'),
    name: z.string().optional(),
    helpdesk: z.enum(['zendesk', 'intercom', 'none']),
    zendesk: zendeskCredentialsSchema.optional(),
    intercom: intercomCredentialsSchema.optional(),
    settings: tenantSettingsSchema.default(tenantSettingsSchema.parse({})),
    source: z.enum(['store', 'env']).default('store'),
    createdAt: z.string().optional(),
    updatedAt: z.string().optional(),
  })
  .superRefine((tenant, context) => {
    if (tenant.helpdesk === 'zendesk' && tenant.zendesk === undefined) {
      context.addIssue({ code: 'custom', path: ['zendesk'], message: 'Zendesk credentials are required' });
    }
    if (tenant.helpdesk === 'intercom' && tenant.intercom === undefined) {
      context.addIssue({ code: 'custom', path: ['intercom'], message: 'Intercom credentials are required' });
    }
  });

export type Tenant = z.infer<typeof tenantSchema>;
export type TenantInput = z.input<typeof tenantSchema>;

const SECRET_FIELDS = ['apiToken', 'webhookSecret', 'accessToken', 'clientSecret'] as const;

/** A copy safe to print or return from an API: secrets become "[set]". */
export function redactTenant(tenant: Tenant): Record<string, unknown> {
  const mask = (credentials: Record<string, unknown> | undefined) =>
    credentials === undefined
      ? undefined
      : Object.fromEntries(
          Object.entries(credentials).map(([key, value]) => [
            key,
            (SECRET_FIELDS as readonly string[]).includes(key) && value !== undefined ? '[set]' : value,
          ]),
        );
  return { ...tenant, zendesk: mask(tenant.zendesk), intercom: mask(tenant.intercom) };
}

export function envTenant(config: Config): Tenant | undefined {
  if (config.ZENDESK_SUBDOMAIN && config.ZENDESK_EMAIL && config.ZENDESK_API_TOKEN) {
    return tenantSchema.parse({
      id: config.ZENDESK_SUBDOMAIN,
      helpdesk: 'zendesk',
      source: 'env',
      zendesk: {
        subdomain: config.ZENDESK_SUBDOMAIN,
        email: config.ZENDESK_EMAIL,
        apiToken: config.ZENDESK_API_TOKEN,
        ...(config.ZENDESK_WEBHOOK_SECRET ? { webhookSecret: config.ZENDESK_WEBHOOK_SECRET } : {}),
        ...(config.ZENDESK_API_URL ? { apiUrl: config.ZENDESK_API_URL } : {}),
      },
    });
  }
  if (config.INTERCOM_ACCESS_TOKEN && config.INTERCOM_CLIENT_SECRET && config.INTERCOM_ADMIN_ID) {
    const workspaceId = config.INTERCOM_WORKSPACE_ID ?? 'intercom';
    return tenantSchema.parse({
      id: workspaceId,
      helpdesk: 'intercom',
      source: 'env',
      intercom: {
        workspaceId,
        accessToken: config.INTERCOM_ACCESS_TOKEN,
        clientSecret: config.INTERCOM_CLIENT_SECRET,
        adminId: config.INTERCOM_ADMIN_ID,
        ...(config.INTERCOM_API_URL ? { apiUrl: config.INTERCOM_API_URL } : {}),
      },
    });
  }
  return undefined;
}

export interface TenantRegistry {
  get(id: string): Promise<Tenant | undefined>;
  list(): Promise<Tenant[]>;
  /** Adds or replaces a stored tenant. */
  put(input: TenantInput): Promise<Tenant>;
  remove(id: string): Promise<boolean>;
  /** The tenant for a Zendesk delivery: by account id, else the only Zendesk tenant there is. */
  forZendeskAccount(accountId: string | undefined): Promise<Tenant | undefined>;
  forIntercomWorkspace(workspaceId: string | undefined): Promise<Tenant | undefined>;
}

/**
 * Webhook routing looks tenants up on every delivery, so the list is cached briefly. Changes made
 * through this registry apply at once in this process; other processes see them within the TTL.
 */
const LIST_CACHE_MS = 5_000;

export function createTenantRegistry(
  store: Store,
  fromEnv?: Tenant,
  options: { cacheMs?: number } = {},
): TenantRegistry {
  const kv = store.namespace<Tenant>('tenants');
  const cacheMs = options.cacheMs ?? LIST_CACHE_MS;
  let cached: { at: number; tenants: Promise<Tenant[]> } | undefined;

  async function load(): Promise<Tenant[]> {
    const tenants: Tenant[] = [];
    for await (const [, tenant] of kv.entries()) tenants.push(tenant);
    if (fromEnv !== undefined && !tenants.some((tenant) => tenant.id === fromEnv.id)) tenants.push(fromEnv);
    return tenants.sort((a, b) => a.id.localeCompare(b.id));
  }

  function list(): Promise<Tenant[]> {
    if (cached === undefined || Date.now() - cached.at > cacheMs) {
      const tenants = load();
      cached = { at: Date.now(), tenants };
      tenants.catch(() => {
        cached = undefined;
      });
    }
    return cached.tenants.then((tenants) => [...tenants]);
  }

  return {
    async get(id) {
      assertTenantId(id);
      return (await kv.get(id)) ?? (fromEnv?.id === id ? fromEnv : undefined);
    },
    list,
    async put(input) {
      const parsed = tenantSchema.safeParse({ ...input, source: 'store' });
      if (!parsed.success) {
        throw new AppError('VALIDATION_FAILED', 'Invalid tenant', {
          details: parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
        });
      }
      const now = new Date().toISOString();
      const existing = await kv.get(parsed.data.id);
      const tenant: Tenant = { ...parsed.data, createdAt: existing?.createdAt ?? now, updatedAt: now };
      await kv.set(tenant.id, tenant);
      cached = undefined;
      return tenant;
    },
    async remove(id) {
      assertTenantId(id);
      cached = undefined;
      return kv.delete(id);
    },
    async forZendeskAccount(accountId) {
      const zendeskTenants = (await list()).filter((tenant) => tenant.helpdesk === 'zendesk');
      const match = zendeskTenants.find((tenant) => accountId !== undefined && tenant.zendesk?.accountId === accountId);
      if (match !== undefined) return match;
      return zendeskTenants.length === 1 ? zendeskTenants[0] : undefined;
    },
    async forIntercomWorkspace(workspaceId) {
      const intercomTenants = (await list()).filter((tenant) => tenant.helpdesk === 'intercom');
      const match = intercomTenants.find((tenant) => tenant.intercom?.workspaceId === workspaceId);
      if (match !== undefined) return match;
      return intercomTenants.length === 1 ? intercomTenants[0] : undefined;
    },
  };
}
