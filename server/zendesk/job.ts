/**
 * The Zendesk ticket-event job: re-fetch the ticket, its comments and the requester; guard; triage;
 * write back exactly once; record. The queue is at-least-once, so every step is safe to repeat:
 * the triage record is reused per event, the write is skipped when the store or the ticket (marker,
 * event tag) already shows it, and the write itself is a safe_update that a concurrent change
 * turns into a CONFLICT, after which everything is re-read and re-decided.
 */
import type { HelpdeskComment, HelpdeskTicket, HelpdeskUser } from '../../integration/helpdesk-port.ts';
import { AppError, isAppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { JobContext } from '../queue/port.ts';
import type { Store } from '../store/port.ts';
import type { Tenant, TenantRegistry } from '../tenants/registry.ts';
import type { TicketRecord, TriageEngine, TriageInput } from '../triage/record.ts';
import type { CustomerContext } from '../triage/types.ts';
import {
  decideGuard,
  eventIdFor,
  hasEventMarker,
  isCustomerComment,
  isOurComment,
  latestCustomerComment,
  type SkipReason,
} from './guard.ts';
import type { ZendeskConnections } from './helpdesk.ts';
import { composeWrite, eventTag } from './write-back.ts';

export const ZENDESK_TICKET_JOB = 'zendesk.ticket-event';

export interface ZendeskJobPayload {
  tenantId: string;
  ticketId: string;
  event?: 'ticket_created' | 'comment_added';
  invocationId?: string;
  receivedAt: string;
}

export interface WriteRecord {
  eventId: string;
  kind: 'public_reply' | 'internal_note' | 'escalation_note';
  at: string;
  jobId: string;
  /** True when the write was found on the ticket (marker) rather than made by this run. */
  recovered: boolean;
}

export interface LatestPointer {
  eventId: string;
  /** Key of the TicketRecord in the tenant's `tickets` namespace. */
  key: string;
  outcome: JobOutcome['kind'];
  reason?: SkipReason | 'ticket_not_found';
  updatedAt: string;
}

export type JobOutcome =
  | { kind: 'written'; eventId: string; write: WriteRecord['kind'] }
  | { kind: 'already_written'; eventId: string }
  | { kind: 'skipped'; eventId?: string; reason: SkipReason | 'ticket_not_found' };

export interface ZendeskJobDeps {
  tenants: TenantRegistry;
  store: Store;
  engine: TriageEngine;
  connections: ZendeskConnections;
  logger: Logger;
  now?: () => number;
  /** Re-read/re-decide rounds after a CONFLICT before handing the job back to the queue. */
  maxConflictRounds?: number;
  maxWritesPerHour?: number;
  /** Measured per-intent accuracy from reviews (the feedback loop); without it Tier 0 stays off. */
  intentAccuracy?: (tenantId: string) => Promise<TriageInput['intentAccuracy']>;
  /** Called with every outcome (tests, metrics). */
  onOutcome?: (payload: ZendeskJobPayload, outcome: JobOutcome) => void;
}

/** Storage keys in the tenant's `tickets` namespace. */
export const ticketKeys = {
  record: (eventId: string) => eventId,
  write: (eventId: string) => `write:${eventId}`,
  latest: (ticketId: string) => `latest:${ticketId}`,
};

const MAX_INTERACTIONS = 10;
const MAX_INTERACTION_CHARS = 2_000;

/** Customer context from the requester and the earlier messages (our own notes left out). */
export function customerContext(
  requester: HelpdeskUser | undefined,
  comments: HelpdeskComment[],
  trigger: HelpdeskComment,
  requesterId: string | undefined,
  botUserId: string | undefined,
): CustomerContext {
  const earlier = comments
    .slice(0, comments.indexOf(trigger))
    .filter((comment) => !isOurComment(comment, botUserId))
    .slice(-MAX_INTERACTIONS)
    .map((comment) => ({
      author: isCustomerComment(comment, requesterId, botUserId) ? ('customer' as const) : ('agent' as const),
      text: comment.body.slice(0, MAX_INTERACTION_CHARS),
      at: comment.createdAt,
    }));
  return {
    ...(requester?.name ? { name: requester.name } : {}),
    ...(earlier.length > 0 ? { interactions: earlier } : {}),
  };
}

export function buildTriageInput(args: {
  tenant: Tenant;
  ticket: HelpdeskTicket;
  comments: HelpdeskComment[];
  trigger: HelpdeskComment;
  requester: HelpdeskUser | undefined;
  eventId: string;
}): TriageInput {
  const botUserId = botUserIdOf(args.tenant);
  return {
    tenantId: args.tenant.id,
    ticketId: args.ticket.id,
    eventId: args.eventId,
    ...(args.ticket.subject ? { subject: args.ticket.subject } : {}),
    body: args.trigger.body,
    customer: customerContext(args.requester, args.comments, args.trigger, args.ticket.requesterId, botUserId),
    settings: args.tenant.settings,
  };
}

function botUserIdOf(tenant: Tenant): string | undefined {
  const id = tenant.zendesk?.botUserId;
  return id === undefined ? undefined : String(id);
}

/** Runs one ticket's jobs one after the other in this process, so duplicates do not race into CONFLICTs. */
function keyedSerial() {
  const tails = new Map<string, Promise<unknown>>();
  return async <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const previous = tails.get(key) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(work);
    tails.set(key, run);
    try {
      return await run;
    } finally {
      if (tails.get(key) === run) tails.delete(key);
    }
  };
}

export function createZendeskJobHandler(deps: ZendeskJobDeps) {
  const now = deps.now ?? Date.now;
  const maxRounds = deps.maxConflictRounds ?? 4;
  const serial = keyedSerial();
  const logger = deps.logger.child({ component: 'zendesk-job' });

  async function processEvent(tenant: Tenant, payload: ZendeskJobPayload, jobId: string): Promise<JobOutcome> {
    const { helpdesk } = deps.connections.forTenant(tenant);
    const tickets = deps.store.forTenant(tenant.id).namespace('tickets');
    const botUserId = botUserIdOf(tenant);
    let requester: HelpdeskUser | undefined;
    let requesterLoaded = false;

    for (let round = 1; round <= maxRounds; round += 1) {
      let ticket: HelpdeskTicket;
      try {
        ticket = await helpdesk.getTicket(payload.ticketId);
      } catch (error) {
        if (isAppError(error) && error.code === 'NOT_FOUND') return { kind: 'skipped', reason: 'ticket_not_found' };
        throw error;
      }
      const comments = await helpdesk.listComments(ticket.id);
      const trigger = latestCustomerComment(comments, ticket.requesterId, botUserId);
      if (trigger === undefined) return { kind: 'skipped', reason: 'no_customer_message' };
      const eventId = eventIdFor(ticket.id, trigger);

      if ((await tickets.get(ticketKeys.write(eventId))) !== undefined) return { kind: 'already_written', eventId };
      if (hasEventMarker(comments, eventId) || ticket.tags.includes(eventTag(eventId))) {
        // Written before a crash kept it from being recorded: record it now, never write again.
        await recordWrite(tickets, {
          eventId,
          kind: 'internal_note',
          at: new Date(now()).toISOString(),
          jobId,
          recovered: true,
        });
        return { kind: 'already_written', eventId };
      }

      if (!requesterLoaded && ticket.requesterId !== undefined) {
        requester = await helpdesk.getUser(ticket.requesterId).catch((error: unknown) => {
          if (isAppError(error) && error.code === 'NOT_FOUND') return undefined;
          throw error;
        });
        requesterLoaded = true;
      }
      const decision = decideGuard({
        ticket,
        comments,
        ...(requester === undefined ? {} : { requester }),
        ...(botUserId === undefined ? {} : { botUserId }),
        now: now(),
        ...(deps.maxWritesPerHour === undefined ? {} : { maxWritesPerWindow: deps.maxWritesPerHour }),
      });
      if (!decision.act) return { kind: 'skipped', eventId, reason: decision.reason };

      const record = await triageOnce(tenant, tickets, { ticket, comments, trigger, requester, eventId });
      const composed = composeWrite(record, ticket, tenant.settings, eventId);
      try {
        await helpdesk.updateTicket(ticket.id, composed.update);
      } catch (error) {
        if (isAppError(error) && error.code === 'CONFLICT') {
          logger.debug({ tenantId: tenant.id, ticketId: ticket.id, round }, 'ticket changed meanwhile; re-reading');
          continue;
        }
        throw error;
      }
      await recordWrite(tickets, {
        eventId,
        kind: composed.kind,
        at: new Date(now()).toISOString(),
        jobId,
        recovered: false,
      });
      return { kind: 'written', eventId, write: composed.kind };
    }
    throw new AppError('CONFLICT', `Ticket ${payload.ticketId} kept changing; retrying later`, { retryable: true });
  }

  async function triageOnce(
    tenant: Tenant,
    tickets: ReturnType<ReturnType<Store['forTenant']>['namespace']>,
    args: {
      ticket: HelpdeskTicket;
      comments: HelpdeskComment[];
      trigger: HelpdeskComment;
      requester: HelpdeskUser | undefined;
      eventId: string;
    },
  ): Promise<TicketRecord> {
    // A retry after a failed write reuses the decision (no second LLM bill, same note).
    const existing = (await tickets.get(ticketKeys.record(args.eventId))) as TicketRecord | undefined;
    if (existing !== undefined) return existing;
    const intentAccuracy = await deps.intentAccuracy?.(tenant.id);
    const record = await deps.engine.triage({
      ...buildTriageInput({ tenant, ...args }),
      ...(intentAccuracy === undefined ? {} : { intentAccuracy }),
    });
    await tickets.set(ticketKeys.record(args.eventId), record);
    return record;
  }

  async function recordWrite(tickets: ReturnType<ReturnType<Store['forTenant']>['namespace']>, write: WriteRecord) {
    await tickets.set(ticketKeys.write(write.eventId), write);
  }

  return async function handle(job: JobContext<ZendeskJobPayload>): Promise<void> {
    const payload = job.payload;
    const tenant = await deps.tenants.get(payload.tenantId);
    if (tenant === undefined) {
      throw new AppError('TENANT_UNKNOWN', `Tenant ${payload.tenantId} no longer exists`, { retryable: false });
    }
    const outcome = await serial(`${tenant.id}:${payload.ticketId}`, () => processEvent(tenant, payload, job.id));
    const tickets = deps.store.forTenant(tenant.id).namespace<LatestPointer>('tickets');
    if (outcome.eventId !== undefined) {
      const pointer: LatestPointer = {
        eventId: outcome.eventId,
        key: ticketKeys.record(outcome.eventId),
        outcome: outcome.kind,
        ...(outcome.kind === 'skipped' ? { reason: outcome.reason } : {}),
        updatedAt: new Date(now()).toISOString(),
      };
      await tickets.set(ticketKeys.latest(payload.ticketId), pointer);
    }
    logger.info(
      { tenantId: tenant.id, ticketId: payload.ticketId, jobId: job.id, attempt: job.attempt, ...outcome },
      'ticket event handled',
    );
    deps.onOutcome?.(payload, outcome);
  };
}
