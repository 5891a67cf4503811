/**
 * Connects a Zendesk account through its API, idempotently: the webhook the triggers call, the
 * two triggers (ticket created; public comment by an end user), and the custom ticket fields the
 * write-back fills. Everything is found by a stable name first, so a second run creates nothing.
 */
import type { ZendeskClient } from './client.ts';

export const WEBHOOK_PATH = '/webhooks/zendesk';
export const DEFAULT_WEBHOOK_NAME = 'AI support agent';

export type TriggerEvent = 'ticket_created' | 'comment_added';

/** The JSON body the triggers send: ids only, the job re-fetches the rest. */
export function triggerPayload(event: TriggerEvent): string {
  return JSON.stringify({ ticket_id: '{{ticket.id}}', event });
}

export const TRIGGER_TITLES: Record<TriggerEvent, string> = {
  ticket_created: 'AI support agent: ticket created',
  comment_added: 'AI support agent: customer comment added',
};

const TRIGGER_CONDITIONS: Record<TriggerEvent, Array<{ field: string; operator: string; value: string }>> = {
  ticket_created: [{ field: 'update_type', operator: 'is', value: 'Create' }],
  comment_added: [
    { field: 'update_type', operator: 'is', value: 'Change' },
    { field: 'comment_is_public', operator: 'is', value: 'true' },
    // Only the customer's comments: agents' and our own updates must not re-trigger the agent.
    { field: 'role', operator: 'is', value: 'end_user' },
  ],
};

export type AiTicketField = 'ai_intent' | 'ai_confidence' | 'ai_tier';

export const AI_TICKET_FIELDS: Record<AiTicketField, { title: string; type: string; description: string }> = {
  ai_intent: { title: 'AI intent', type: 'text', description: 'Intent detected by the AI support agent' },
  ai_confidence: { title: 'AI confidence', type: 'decimal', description: 'Classifier confidence, 0 to 1' },
  ai_tier: {
    title: 'AI tier',
    type: 'integer',
    description: 'Automation tier chosen (0 = auto-reply ... 3 = escalate)',
  },
};

export interface ConnectZendeskInput {
  client: ZendeskClient;
  /** The service's public base URL, e.g. `https://support-agent.example.com`. */
  serviceUrl: string;
  webhookName?: string;
}

export interface ConnectZendeskResult {
  webhookId: string;
  /** From the Webhooks API; undefined when the account does not let us read it (store one yourself then). */
  signingSecret?: string;
  triggerIds: Record<TriggerEvent, number>;
  ticketFieldIds: Record<AiTicketField, number>;
  /** What this run created, e.g. ['webhook', 'trigger:ticket_created']; empty on a re-run. */
  created: string[];
}

export async function connectZendeskAccount(input: ConnectZendeskInput): Promise<ConnectZendeskResult> {
  const { client } = input;
  const endpoint = new URL(WEBHOOK_PATH, input.serviceUrl).toString();
  const name = input.webhookName ?? DEFAULT_WEBHOOK_NAME;
  const created: string[] = [];

  const webhooks = await client.listWebhooks({ nameContains: name });
  let webhook = webhooks.find((hook) => hook.endpoint === endpoint);
  if (!webhook) {
    webhook = await client.createWebhook({ name, endpoint, subscriptions: ['conditional_ticket_events'] });
    created.push('webhook');
  }
  let signingSecret: string | undefined;
  try {
    signingSecret = await client.getWebhookSigningSecret(webhook.id);
  } catch {
    // Some plans/roles cannot read it: the caller then asks the admin to paste it.
    signingSecret = undefined;
  }

  const triggers = await client.listTriggers();
  const triggerIds = {} as Record<TriggerEvent, number>;
  for (const event of ['ticket_created', 'comment_added'] as const) {
    const existing = triggers.find((trigger) => trigger.title === TRIGGER_TITLES[event]);
    if (existing) {
      triggerIds[event] = existing.id;
      continue;
    }
    const trigger = await client.createTrigger({
      title: TRIGGER_TITLES[event],
      active: true,
      conditions: { all: TRIGGER_CONDITIONS[event] },
      actions: [{ field: 'notification_webhook', value: [webhook.id, triggerPayload(event)] }],
    });
    triggerIds[event] = trigger.id;
    created.push(`trigger:${event}`);
  }

  const fields = await client.listTicketFields();
  const ticketFieldIds = {} as Record<AiTicketField, number>;
  for (const [key, spec] of Object.entries(AI_TICKET_FIELDS) as Array<
    [AiTicketField, (typeof AI_TICKET_FIELDS)[AiTicketField]]
  >) {
    const existing = fields.find((field) => field.title === spec.title);
    if (existing) {
      ticketFieldIds[key] = existing.id;
      continue;
    }
    const field = await client.createTicketField({ type: spec.type, title: spec.title, description: spec.description });
    ticketFieldIds[key] = field.id;
    created.push(`ticket_field:${key}`);
  }

  return {
    webhookId: webhook.id,
    ...(signingSecret === undefined ? {} : { signingSecret }),
    triggerIds,
    ticketFieldIds,
    created,
  };
}
