/**
 * The guard: a pure decision, taken on freshly re-fetched ticket data, whether the agent may write
 * to a ticket now. Everything it needs is passed in (including the clock), so it is table-tested.
 */
import type { HelpdeskComment, HelpdeskTicket, HelpdeskUser } from '../../integration/helpdesk-port.ts';

export type SkipReason =
  | 'ticket_closed'
  | 'no_customer_message'
  | 'latest_is_ours'
  | 'human_replied'
  | 'assignee_working'
  | 'auto_responder'
  | 'loop_limit';

export type GuardDecision =
  | { act: true; trigger: HelpdeskComment }
  | { act: false; reason: SkipReason; trigger?: HelpdeskComment };

export interface GuardInput {
  ticket: Pick<HelpdeskTicket, 'status' | 'assigneeId' | 'subject' | 'requesterId'>;
  /** Oldest first. */
  comments: HelpdeskComment[];
  requester?: Pick<HelpdeskUser, 'email' | 'role'>;
  /** The Zendesk user the agent writes as, when the tenant configured it. */
  botUserId?: string;
  /** Epoch ms. */
  now: number;
  /** Loop protection: at most this many AI writes on one ticket per window. */
  maxWritesPerWindow?: number;
  windowMs?: number;
}

export const DEFAULT_MAX_WRITES_PER_HOUR = 4;
const HOUR_MS = 60 * 60 * 1000;

/** The marker every comment we write carries; also how our own comments are recognised. */
export const MARKER_PREFIX = 'ai-triage event ';

export function markerText(eventId: string): string {
  return `[${MARKER_PREFIX}${eventId}]`;
}

function textsOf(comment: Pick<HelpdeskComment, 'body' | 'htmlBody'>): string[] {
  return comment.htmlBody === undefined ? [comment.body] : [comment.body, comment.htmlBody];
}

/** True when the comment carries any marker of ours (any event). */
export function isOurComment(comment: HelpdeskComment, botUserId?: string): boolean {
  if (botUserId !== undefined && comment.authorId === botUserId) return true;
  return textsOf(comment).some((text) => text.includes(`[${MARKER_PREFIX}`) || text.includes(`<!-- ${MARKER_PREFIX}`));
}

/** True when a comment carries the marker of exactly this event. */
export function hasEventMarker(comments: HelpdeskComment[], eventId: string): boolean {
  const plain = markerText(eventId);
  const hidden = `<!-- ${MARKER_PREFIX}${eventId} -->`;
  return comments.some((comment) => textsOf(comment).some((text) => text.includes(plain) || text.includes(hidden)));
}

/** A customer message: written by the requester or an end user, and not by us. */
export function isCustomerComment(comment: HelpdeskComment, requesterId: string | undefined, botUserId?: string) {
  if (isOurComment(comment, botUserId)) return false;
  return comment.authorRole === 'end-user' || (requesterId !== undefined && comment.authorId === requesterId);
}

/** The customer's latest message: it identifies the ticket event. */
export function latestCustomerComment(
  comments: HelpdeskComment[],
  requesterId: string | undefined,
  botUserId?: string,
): HelpdeskComment | undefined {
  for (let index = comments.length - 1; index >= 0; index -= 1) {
    const comment = comments[index]!;
    if (isCustomerComment(comment, requesterId, botUserId)) return comment;
  }
  return undefined;
}

export function eventIdFor(ticketId: string, trigger: Pick<HelpdeskComment, 'id'>): string {
  return `${ticketId}:${trigger.id}`;
}

// Auto-submitted headers do not reach us through the API: these cues stand in for them.
const AUTO_SUBJECT =
  /\b(out of (the )?office|automatic reply|auto[- ]?reply|autoreply|auto[- ]?response|delivery status notification|undeliverable|mail delivery (failed|subsystem)|returned mail|abwesenheitsnotiz|r[ée]ponse automatique|respuesta autom[aá]tica)\b/i;
const AUTO_BODY =
  /\b(i am (currently )?out of (the )?office|this is an automated (reply|response|message)|do not reply to this (e-?mail|message)|delivery has failed to these recipients|message you sent could not be delivered)\b/i;
const AUTO_SENDER = /^(no-?reply|do-?not-?reply|mailer-daemon|postmaster|bounces?)([+.@-]|$)/i;

export function looksAutomated(subject: string, body: string, requesterEmail: string | undefined): boolean {
  if (requesterEmail !== undefined && AUTO_SENDER.test(requesterEmail)) return true;
  return AUTO_SUBJECT.test(subject) || AUTO_SUBJECT.test(body.slice(0, 200)) || AUTO_BODY.test(body.slice(0, 2_000));
}

function isHumanAgent(comment: HelpdeskComment, botUserId?: string): boolean {
  return (comment.authorRole === 'agent' || comment.authorRole === 'admin') && !isOurComment(comment, botUserId);
}

export function decideGuard(input: GuardInput): GuardDecision {
  const { ticket, comments, botUserId } = input;
  if (ticket.status === 'solved' || ticket.status === 'closed') return { act: false, reason: 'ticket_closed' };

  const trigger = latestCustomerComment(comments, ticket.requesterId, botUserId);
  if (trigger === undefined) return { act: false, reason: 'no_customer_message' };
  const skip = (reason: SkipReason): GuardDecision => ({ act: false, reason, trigger });

  const latest = comments.at(-1);
  if (latest !== undefined && isOurComment(latest, botUserId)) return skip('latest_is_ours');

  const triggerIndex = comments.indexOf(trigger);
  if (comments.slice(triggerIndex + 1).some((comment) => isHumanAgent(comment, botUserId)))
    return skip('human_replied');

  const assignee = ticket.assigneeId;
  if (
    assignee !== undefined &&
    assignee !== botUserId &&
    comments.some((comment) => comment.authorId === assignee && !isOurComment(comment, botUserId))
  ) {
    return skip('assignee_working');
  }

  if (looksAutomated(ticket.subject, trigger.body, input.requester?.email)) return skip('auto_responder');

  const windowMs = input.windowMs ?? HOUR_MS;
  const limit = input.maxWritesPerWindow ?? DEFAULT_MAX_WRITES_PER_HOUR;
  const recentWrites = comments.filter(
    (comment) => isOurComment(comment, botUserId) && input.now - Date.parse(comment.createdAt) < windowMs,
  ).length;
  if (recentWrites >= limit) return skip('loop_limit');

  return { act: true, trigger };
}
