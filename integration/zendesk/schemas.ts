/**
 * The parts of Zendesk's responses we read, parsed with zod at the edge. Unknown fields are
 * dropped; fields we rely on are required so a changed API fails loudly instead of quietly.
 */
import { z } from 'zod';

const id = z.number().int();
const nullableId = id.nullish();

export const zendeskTicketSchema = z.object({
  id,
  subject: z.string().nullish(),
  status: z.enum(['new', 'open', 'pending', 'hold', 'solved', 'closed']),
  priority: z.enum(['urgent', 'high', 'normal', 'low']).nullish(),
  requester_id: nullableId,
  assignee_id: nullableId,
  group_id: nullableId,
  tags: z.array(z.string()).default([]),
  updated_at: z.string(),
  custom_fields: z.array(z.object({ id, value: z.unknown() })).default([]),
});
export type ZendeskTicket = z.infer<typeof zendeskTicketSchema>;
export const ticketResponseSchema = z.object({ ticket: zendeskTicketSchema });

export const zendeskCommentSchema = z.object({
  id,
  author_id: id,
  public: z.boolean(),
  body: z.string().default(''),
  html_body: z.string().nullish(),
  plain_body: z.string().nullish(),
  created_at: z.string(),
  via: z.object({ channel: z.union([z.string(), z.number()]).nullish() }).nullish(),
});
export type ZendeskComment = z.infer<typeof zendeskCommentSchema>;

export const cursorMetaSchema = z
  .object({
    has_more: z.boolean(),
    after_cursor: z.string().nullish(),
  })
  .nullish();
export const cursorLinksSchema = z.object({ next: z.string().nullish() }).nullish();

export const commentsResponseSchema = z.object({
  comments: z.array(zendeskCommentSchema),
  /** Side-loaded with `include=users`: the comment authors, so roles need no extra calls. */
  users: z.array(z.object({ id, role: z.string() })).default([]),
  meta: cursorMetaSchema,
  links: cursorLinksSchema,
});

export const zendeskUserSchema = z.object({
  id,
  name: z.string().nullish(),
  email: z.string().nullish(),
  role: z.string(),
});
export type ZendeskUser = z.infer<typeof zendeskUserSchema>;
export const userResponseSchema = z.object({ user: zendeskUserSchema });

export const tagsResponseSchema = z.object({ tags: z.array(z.string()) });

export const groupsResponseSchema = z.object({
  groups: z.array(z.object({ id, name: z.string(), deleted: z.boolean().nullish() })),
  meta: cursorMetaSchema,
});

export const zendeskTicketFieldSchema = z.object({
  id,
  type: z.string(),
  title: z.string(),
  key: z.string().nullish(),
  active: z.boolean().nullish(),
});
export type ZendeskTicketField = z.infer<typeof zendeskTicketFieldSchema>;
export const ticketFieldsResponseSchema = z.object({
  ticket_fields: z.array(zendeskTicketFieldSchema),
  next_page: z.string().nullish(),
});
export const ticketFieldResponseSchema = z.object({ ticket_field: zendeskTicketFieldSchema });

export const zendeskTriggerSchema = z.object({
  id,
  title: z.string(),
  active: z.boolean().nullish(),
  actions: z.array(z.object({ field: z.string(), value: z.unknown() })).default([]),
});
export type ZendeskTrigger = z.infer<typeof zendeskTriggerSchema>;
export const triggersResponseSchema = z.object({
  triggers: z.array(zendeskTriggerSchema),
  next_page: z.string().nullish(),
});
export const triggerResponseSchema = z.object({ trigger: zendeskTriggerSchema });

export const zendeskWebhookSchema = z.object({
  id: z.string(),
  name: z.string(),
  endpoint: z.string(),
  status: z.string(),
  subscriptions: z.array(z.string()).nullish(),
});
export type ZendeskWebhook = z.infer<typeof zendeskWebhookSchema>;
export const webhooksResponseSchema = z.object({
  webhooks: z.array(zendeskWebhookSchema),
  meta: cursorMetaSchema,
});
export const webhookResponseSchema = z.object({ webhook: zendeskWebhookSchema });
export const signingSecretResponseSchema = z.object({
  signing_secret: z.object({ secret: z.string(), algorithm: z.string().nullish() }),
});

export const zendeskArticleSchema = z.object({
  id,
  title: z.string(),
  body: z.string().nullish(),
  html_url: z.string().nullish(),
  section_id: nullableId,
  draft: z.boolean().nullish(),
  locale: z.string().nullish(),
  updated_at: z.string().nullish(),
  edited_at: z.string().nullish(),
});
export type ZendeskArticle = z.infer<typeof zendeskArticleSchema>;
export const articlesPageSchema = z.object({
  articles: z.array(zendeskArticleSchema),
  meta: cursorMetaSchema,
  links: cursorLinksSchema,
});
export const incrementalArticlesSchema = z.object({
  articles: z.array(zendeskArticleSchema),
  next_page: z.string().nullish(),
  end_time: z.number().int().nullish(),
  count: z.number().int().nullish(),
});

export const zendeskSectionSchema = z.object({ id, name: z.string(), category_id: nullableId });
export type ZendeskSection = z.infer<typeof zendeskSectionSchema>;
export const sectionsPageSchema = z.object({
  sections: z.array(zendeskSectionSchema),
  meta: cursorMetaSchema,
  links: cursorLinksSchema,
});
