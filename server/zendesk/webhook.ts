/**
 * POST /webhooks/zendesk: the endpoint Zendesk triggers call. It answers in milliseconds and
 * leaves the work to the queue: find the tenant, verify the signature over the raw bytes, parse
 * the ids-only body, de-duplicate, persist the job, 202.
 *
 * De-duplication happens twice: here on x-zendesk-webhook-invocation-id (Zendesk's retries of one
 * delivery) and, because the body names no event, in the job on the event it derives after the
 * re-fetch (the customer's latest comment). The job id carries the invocation id, so concurrent
 * copies of one delivery collapse into one queued job.
 */
import express, { type Router } from 'express';
import { z } from 'zod';
import { parseZendeskId } from '../../integration/zendesk/adapter.ts';
import {
  verifyZendeskSignature,
  ZENDESK_SIGNATURE_HEADER,
  ZENDESK_SIGNATURE_TIMESTAMP_HEADER,
} from '../../integration/zendesk/webhook-signature.ts';
import { AppError } from '../errors.ts';
import { asyncRoute, rawBody } from '../http/middleware.ts';
import type { Metrics } from '../metrics.ts';
import type { JobQueue } from '../queue/port.ts';
import type { Store } from '../store/port.ts';
import type { TenantRegistry } from '../tenants/registry.ts';
import { ZENDESK_TICKET_JOB, type ZendeskJobPayload } from './job.ts';

export const ZENDESK_WEBHOOK_PATH = '/webhooks/zendesk';
export const INVOCATION_HEADER = 'x-zendesk-webhook-invocation-id';
export const ACCOUNT_HEADER = 'x-zendesk-account-id';
/** How long an invocation id is remembered (Zendesk retries within minutes; a day is generous). */
export const INVOCATION_TTL_MS = 24 * 60 * 60 * 1000;

export const zendeskWebhookBodySchema = z.object({
  // Trigger placeholders render as strings ("{{ticket.id}}"); a pasted body without quotes gives a number.
  ticket_id: z.union([z.string().trim().min(1), z.number().int().positive()]).transform(String),
  event: z.enum(['ticket_created', 'comment_added']).optional(),
});

const INVOCATION_ID = /^[A-Za-z0-9_-]{1,128}$/;

export interface ZendeskWebhookDeps {
  tenants: TenantRegistry;
  store: Store;
  queue: JobQueue;
  metrics: Metrics;
  bodyLimitBytes: number;
  now?: () => number;
  /** Maximum signature age; Zendesk's own retries re-sign, so 5 minutes is the issue's window. */
  maxAgeSeconds?: number;
}

export function invocationKey(invocationId: string): string {
  return `zendesk:invocation:${invocationId}`;
}

export function zendeskJobId(tenantId: string, ticketId: string, invocationOrEvent: string): string {
  return `zendesk:${tenantId}:${ticketId}:${invocationOrEvent}`;
}

function parseBody(raw: Buffer): z.infer<typeof zendeskWebhookBodySchema> {
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new AppError('INVALID_JSON', 'The request body is not valid JSON');
  }
  const parsed = zendeskWebhookBodySchema.safeParse(json);
  if (!parsed.success) {
    throw new AppError('BAD_REQUEST', 'Expected {"ticket_id": "<id>", "event"?: "ticket_created" | "comment_added"}', {
      details: parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    });
  }
  return parsed.data;
}

export function zendeskWebhookRouter(deps: ZendeskWebhookDeps): Router {
  const router = express.Router();
  const now = deps.now ?? Date.now;
  const count = (outcome: string) => deps.metrics.webhookDeliveries.inc({ source: 'zendesk', outcome });

  router.post(
    '/',
    ...rawBody(deps.bodyLimitBytes),
    asyncRoute(async (request, response) => {
      const tenant = await deps.tenants.forZendeskAccount(request.get(ACCOUNT_HEADER));
      if (tenant === undefined) {
        count('unknown_tenant');
        throw new AppError('TENANT_UNKNOWN', 'No Zendesk tenant for this account');
      }
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const verdict = verifyZendeskSignature({
        rawBody: raw,
        signature: request.get(ZENDESK_SIGNATURE_HEADER),
        timestamp: request.get(ZENDESK_SIGNATURE_TIMESTAMP_HEADER),
        secret: tenant.zendesk?.webhookSecret,
        now: now(),
        maxAgeSeconds: deps.maxAgeSeconds ?? 300,
      });
      if (!verdict.ok) {
        count(`rejected_${verdict.reason}`);
        if (tenant.zendesk?.webhookSecret === undefined) {
          request.log.warn({ tenantId: tenant.id }, 'Zendesk delivery rejected: the tenant has no webhook secret');
        }
        throw verdict.reason === 'stale'
          ? new AppError('WEBHOOK_TIMESTAMP_STALE', 'The webhook timestamp is too old')
          : new AppError('WEBHOOK_SIGNATURE_INVALID', 'The webhook signature is missing or invalid');
      }

      let body: z.infer<typeof zendeskWebhookBodySchema>;
      try {
        body = parseBody(raw);
        parseZendeskId(body.ticket_id, 'ticket');
      } catch (error) {
        count('bad_request');
        throw error;
      }
      const invocationId = request.get(INVOCATION_HEADER);
      if (invocationId !== undefined && !INVOCATION_ID.test(invocationId)) {
        count('bad_request');
        throw new AppError('BAD_REQUEST', `Invalid ${INVOCATION_HEADER} header`);
      }

      const jobId = zendeskJobId(tenant.id, body.ticket_id, invocationId ?? body.event ?? 'update');
      const idempotency = deps.store.forTenant(tenant.id).namespace('idempotency');
      if (invocationId !== undefined && (await idempotency.has(invocationKey(invocationId)))) {
        count('duplicate');
        response.status(202).json({ accepted: true, jobId, duplicate: true });
        return;
      }
      const payload: ZendeskJobPayload = {
        tenantId: tenant.id,
        ticketId: body.ticket_id,
        ...(body.event === undefined ? {} : { event: body.event }),
        ...(invocationId === undefined ? {} : { invocationId }),
        receivedAt: new Date(now()).toISOString(),
      };
      // Enqueue before remembering the invocation: a crash in between then costs a harmless
      // extra job (it finds the event written), never a lost delivery.
      const job = await deps.queue.enqueue(ZENDESK_TICKET_JOB, payload, { jobId });
      // Remembered after the job is durable and without holding up the answer: if this write is
      // lost (a crash right after the 202), a re-delivery only makes a job that finds the event
      // already written. A plain write (not claim), so the `has` check above sees it.
      if (invocationId !== undefined) {
        idempotency.set(invocationKey(invocationId), true, INVOCATION_TTL_MS).catch((error: unknown) => {
          request.log.warn({ err: error }, 'could not remember the webhook invocation id');
        });
      }
      // The delivery whose enqueue created the job is the accepted one (a racing copy may claim first).
      const duplicate = job.duplicate;
      count(duplicate ? 'duplicate' : 'accepted');
      response.status(202).json({ accepted: true, jobId: job.id, duplicate });
    }),
  );
  return router;
}
