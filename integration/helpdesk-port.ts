/**
 * The helpdesk port: the few calls the triage pipeline makes to a helpdesk, in helpdesk-neutral
 * terms. Zendesk implements it in integration/zendesk/adapter.ts; Intercom will implement it too.
 * Ids are strings so numeric (Zendesk) and opaque (Intercom) ids fit alike.
 */
import type { Article } from '../server/triage/types.ts';

export type TicketStatus = 'new' | 'open' | 'pending' | 'hold' | 'solved' | 'closed';
export type TicketPriority = 'urgent' | 'high' | 'normal' | 'low';
export type AuthorRole = 'end-user' | 'agent' | 'admin' | 'unknown';

export interface HelpdeskTicket {
  id: string;
  subject: string;
  status: TicketStatus;
  priority?: TicketPriority;
  requesterId?: string;
  assigneeId?: string;
  groupId?: string;
  tags: string[];
  /** ISO timestamp; doubles as the optimistic-concurrency stamp for updates. */
  updatedAt: string;
  /** Custom field values by field id. */
  customFields: Record<string, unknown>;
}

export interface HelpdeskComment {
  id: string;
  authorId: string;
  authorRole: AuthorRole;
  public: boolean;
  /** Plain text. */
  body: string;
  htmlBody?: string;
  createdAt: string;
  /** Channel the comment came through (e.g. 'email', 'web', 'api'), when known. */
  via?: string;
}

export interface HelpdeskUser {
  id: string;
  name: string;
  email?: string;
  role: AuthorRole;
}

export interface CustomFieldValue {
  id: string;
  value: unknown;
}

export interface NoteInput {
  body: string;
  /** Send as HTML (`html_body`) instead of plain text. */
  html?: boolean;
  /** Author the comment as this user (the bot agent) rather than the API token's owner. */
  authorId?: string;
  tags?: string[];
}

export interface PublicReplyInput extends NoteInput {
  status?: TicketStatus;
}

export interface TicketUpdate {
  groupId?: string;
  priority?: TicketPriority;
  status?: TicketStatus;
  /** Replaces the ticket's tags (read them first, or use addTags). */
  tags?: string[];
  customFields?: CustomFieldValue[];
  comment?: { body: string; public: boolean; html?: boolean; authorId?: string };
  /** Reject the update (CONFLICT) when the ticket changed after this stamp (its updatedAt). */
  ifUnmodifiedSince?: string;
}

export interface ArticlePage {
  articles: Article[];
  /** Opaque cursor for the next page; absent on the last page. */
  nextCursor?: string;
}

export interface HelpdeskPort {
  getTicket(ticketId: string): Promise<HelpdeskTicket>;
  /** Oldest first. */
  listComments(ticketId: string): Promise<HelpdeskComment[]>;
  getUser(userId: string): Promise<HelpdeskUser>;
  addInternalNote(ticketId: string, note: NoteInput): Promise<HelpdeskTicket>;
  addPublicReply(ticketId: string, reply: PublicReplyInput): Promise<HelpdeskTicket>;
  updateTicket(ticketId: string, update: TicketUpdate): Promise<HelpdeskTicket>;
  addTags(ticketId: string, tags: string[]): Promise<string[]>;
  /** One page of published knowledge-base articles. */
  listArticles(cursor?: string): Promise<ArticlePage>;
}
