/**
 * `npm run tenants -- connect-zendesk --tenant ID --public-url URL`: creates (or finds) the
 * webhook, the two triggers and the custom ticket fields in the tenant's Zendesk account, then
 * stores the webhook's signing secret and the field ids in the tenant. Idempotent: a second run
 * creates nothing and stores the same values.
 */
import { connectZendeskAccount } from '../../integration/zendesk/connect.ts';
import { AppError } from '../errors.ts';
import type { TenantRegistry } from '../tenants/registry.ts';
import type { ZendeskConnections } from './helpdesk.ts';

export interface ConnectZendeskSummary {
  tenantId: string;
  webhookId: string;
  endpoint: string;
  created: string[];
  signingSecretStored: boolean;
  customFieldIds: { intent: number; confidence: number; tier: number };
}

export async function connectZendeskTenant(args: {
  registry: TenantRegistry;
  connections: ZendeskConnections;
  tenantId: string | undefined;
  publicUrl: string | undefined;
}): Promise<ConnectZendeskSummary> {
  if (!args.publicUrl || !URL.canParse(args.publicUrl) || !/^https?:$/.test(new URL(args.publicUrl).protocol)) {
    throw new AppError(
      'BAD_REQUEST',
      'connect-zendesk needs --public-url https://your-service.example (or PUBLIC_URL)',
    );
  }
  const candidates = (await args.registry.list()).filter((tenant) => tenant.helpdesk === 'zendesk');
  const tenant =
    args.tenantId === undefined
      ? candidates.length === 1
        ? candidates[0]
        : undefined
      : candidates.find((candidate) => candidate.id === args.tenantId);
  if (tenant === undefined || tenant.zendesk === undefined) {
    throw new AppError(
      'NOT_FOUND',
      args.tenantId === undefined ? 'Name the Zendesk tenant with --tenant' : `No Zendesk tenant "${args.tenantId}"`,
    );
  }
  const { client } = args.connections.forTenant(tenant);
  const result = await connectZendeskAccount({ client, serviceUrl: args.publicUrl });
  const customFieldIds = {
    intent: result.ticketFieldIds.ai_intent,
    confidence: result.ticketFieldIds.ai_confidence,
    tier: result.ticketFieldIds.ai_tier,
  };
  const webhookSecret = result.signingSecret ?? tenant.zendesk.webhookSecret;
  // An env tenant becomes a stored one here: the store is the only place the ids can live.
  await args.registry.put({
    ...tenant,
    zendesk: { ...tenant.zendesk, ...(webhookSecret === undefined ? {} : { webhookSecret }) },
    settings: { ...tenant.settings, customFieldIds },
  });
  return {
    tenantId: tenant.id,
    webhookId: result.webhookId,
    endpoint: new URL('/webhooks/zendesk', args.publicUrl).toString(),
    created: result.created,
    signingSecretStored: webhookSecret !== undefined,
    customFieldIds,
  };
}
