/**
 * The helpdesk port over Zendesk. Internal notes always send `public: false` explicitly: a
 * comment without `public` inherits the ticket's first comment's visibility, which would publish
 * a draft meant for agents (PLATFORM.md).
 */
import { AppError } from '../../server/errors.ts';
import type { Article } from '../../server/triage/types.ts';
import type {
  AuthorRole,
  HelpdeskComment,
  HelpdeskPort,
  HelpdeskTicket,
  HelpdeskUser,
  NoteInput,
  PublicReplyInput,
  TicketUpdate,
} from '../helpdesk-port.ts';
import type { TicketUpdateBody, ZendeskClient } from './client.ts';
import { loadSectionNames, toArticle } from './help-center.ts';
import type { ZendeskComment, ZendeskTicket } from './schemas.ts';

/** Zendesk ids are positive integers; anything else is a caller bug or a forged payload. */
export function parseZendeskId(value: string, what: string): number {
  if (!/^[1-9]\d{0,17}$/.test(value)) throw new AppError('BAD_REQUEST', `Invalid Zendesk ${what} id`);
  return Number(value);
}

export function toAuthorRole(role: string | undefined): AuthorRole {
  return role === 'end-user' || role === 'agent' || role === 'admin' ? role : 'unknown';
}

function optionalId(value: number | null | undefined): string | undefined {
  return value == null ? undefined : String(value);
}

export function toHelpdeskTicket(ticket: ZendeskTicket): HelpdeskTicket {
  const requesterId = optionalId(ticket.requester_id);
  const assigneeId = optionalId(ticket.assignee_id);
  const groupId = optionalId(ticket.group_id);
  return {
    id: String(ticket.id),
    subject: ticket.subject ?? '',
    status: ticket.status,
    ...(ticket.priority ? { priority: ticket.priority } : {}),
    ...(requesterId ? { requesterId } : {}),
    ...(assigneeId ? { assigneeId } : {}),
    ...(groupId ? { groupId } : {}),
    tags: ticket.tags,
    updatedAt: ticket.updated_at,
    customFields: Object.fromEntries(ticket.custom_fields.map((field) => [String(field.id), field.value])),
  };
}

export function toHelpdeskComment(comment: ZendeskComment, roles: ReadonlyMap<number, string>): HelpdeskComment {
  const channel = comment.via?.channel;
  return {
    id: String(comment.id),
    authorId: String(comment.author_id),
    authorRole: toAuthorRole(roles.get(comment.author_id)),
    public: comment.public,
    body: comment.plain_body ?? comment.body,
    ...(comment.html_body ? { htmlBody: comment.html_body } : {}),
    createdAt: comment.created_at,
    ...(channel == null ? {} : { via: String(channel) }),
  };
}

function commentBody(input: { body: string; html?: boolean; authorId?: string }, isPublic: boolean) {
  return {
    ...(input.html ? { html_body: input.body } : { body: input.body }),
    public: isPublic,
    ...(input.authorId ? { author_id: parseZendeskId(input.authorId, 'author') } : {}),
  };
}

export function toTicketUpdateBody(update: TicketUpdate): TicketUpdateBody {
  return {
    ...(update.comment ? { comment: commentBody(update.comment, update.comment.public) } : {}),
    ...(update.groupId ? { group_id: parseZendeskId(update.groupId, 'group') } : {}),
    ...(update.priority ? { priority: update.priority } : {}),
    ...(update.status ? { status: update.status } : {}),
    ...(update.tags ? { tags: update.tags } : {}),
    ...(update.customFields
      ? {
          custom_fields: update.customFields.map((field) => ({
            id: parseZendeskId(field.id, 'ticket field'),
            value: field.value,
          })),
        }
      : {}),
    ...(update.ifUnmodifiedSince ? { safe_update: true, updated_stamp: update.ifUnmodifiedSince } : {}),
  };
}

export function createZendeskHelpdesk(client: ZendeskClient): HelpdeskPort {
  let sectionNames: Map<number, string> | undefined;

  async function writeComment(
    ticketId: string,
    input: NoteInput,
    isPublic: boolean,
    status?: PublicReplyInput['status'],
  ) {
    const id = parseZendeskId(ticketId, 'ticket');
    let ticket = await client.updateTicket(id, {
      comment: commentBody(input, isPublic),
      ...(status ? { status } : {}),
    });
    // The Tags API adds without replacing tags someone else set meanwhile.
    if (input.tags && input.tags.length > 0) {
      const tags = await client.addTags(id, input.tags);
      ticket = { ...ticket, tags };
    }
    return toHelpdeskTicket(ticket);
  }

  return {
    async getTicket(ticketId) {
      return toHelpdeskTicket(await client.getTicket(parseZendeskId(ticketId, 'ticket')));
    },
    async listComments(ticketId) {
      const { comments, roles } = await client.listComments(parseZendeskId(ticketId, 'ticket'));
      return comments.map((comment) => toHelpdeskComment(comment, roles));
    },
    async getUser(userId): Promise<HelpdeskUser> {
      const user = await client.getUser(parseZendeskId(userId, 'user'));
      return {
        id: String(user.id),
        name: user.name ?? '',
        ...(user.email ? { email: user.email } : {}),
        role: toAuthorRole(user.role),
      };
    },
    addInternalNote(ticketId, note) {
      return writeComment(ticketId, note, false);
    },
    addPublicReply(ticketId, reply) {
      return writeComment(ticketId, reply, true, reply.status);
    },
    async updateTicket(ticketId, update) {
      return toHelpdeskTicket(
        await client.updateTicket(parseZendeskId(ticketId, 'ticket'), toTicketUpdateBody(update)),
      );
    },
    addTags(ticketId, tags) {
      return client.addTags(parseZendeskId(ticketId, 'ticket'), tags);
    },
    async listArticles(cursor) {
      sectionNames ??= await loadSectionNames(client);
      const names = sectionNames;
      const page = await client.listArticlesPage(cursor ? { after: cursor } : {});
      const articles: Article[] = page.items
        .filter((article) => !article.draft)
        .map((article) => toArticle(article, names));
      return { articles, ...(page.after ? { nextCursor: page.after } : {}) };
    },
  };
}
