/**
 * A thin typed Zendesk client over `fetch`.
 *
 * Why not node-zendesk: it neither retries nor honours `Retry-After`, and its errors carry the
 * request (with credentials) around. Our calls are a dozen endpoints, so owning the transport
 * costs little and gives explicit timeouts, bounded retries and AppError mapping.
 */
import type { z } from 'zod';
import { AppError } from '../../server/errors.ts';
import type { RateLimiter } from './rate-limiter.ts';
import {
  articlesPageSchema,
  commentsResponseSchema,
  groupsResponseSchema,
  incrementalArticlesSchema,
  sectionsPageSchema,
  signingSecretResponseSchema,
  tagsResponseSchema,
  ticketFieldResponseSchema,
  ticketFieldsResponseSchema,
  ticketResponseSchema,
  triggerResponseSchema,
  triggersResponseSchema,
  userResponseSchema,
  webhookResponseSchema,
  webhooksResponseSchema,
  type ZendeskComment,
  type ZendeskTicket,
} from './schemas.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface RetryEvent {
  method: HttpMethod;
  /** Path only: never the query string's values or credentials. */
  path: string;
  attempt: number;
  delayMs: number;
  reason: 'rate-limited' | 'server-error' | 'network' | 'timeout';
  status?: number;
}

export interface ZendeskClientOptions {
  /** e.g. `https://acme.zendesk.com` or the sandbox's `http://127.0.0.1:PORT`. */
  baseUrl: string;
  email: string;
  apiToken: string;
  /** Per attempt. */
  timeoutMs?: number;
  /** Total attempts including the first. */
  maxAttempts?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** A Retry-After above this is not waited for: the error goes to the caller (the job queue). */
  maxRetryAfterSeconds?: number;
  /** Applied to writes (POST/PUT/DELETE), which Zendesk limits per account. */
  writeLimiter?: RateLimiter;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  onRetry?: (event: RetryEvent) => void;
}

export interface ZendeskEnvironment {
  ZENDESK_API_URL?: string;
  ZENDESK_SUBDOMAIN?: string;
}

/** `ZENDESK_API_URL` wins (sandbox, tests, proxies); otherwise `https://{subdomain}.zendesk.com`. */
export function resolveZendeskBaseUrl(env: ZendeskEnvironment): string {
  if (env.ZENDESK_API_URL) {
    if (!URL.canParse(env.ZENDESK_API_URL)) throw new AppError('CONFIG_INVALID', 'ZENDESK_API_URL is not a valid URL');
    return env.ZENDESK_API_URL.replace(/\/+$/, '');
  }
  const subdomain = env.ZENDESK_SUBDOMAIN;
  if (!subdomain || !/^[a-z0-9][a-z0-9-]*$/i.test(subdomain)) {
    throw new AppError('CONFIG_INVALID', 'Set ZENDESK_API_URL or a valid ZENDESK_SUBDOMAIN');
  }
  return `https://${subdomain}.zendesk.com`;
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions<T> {
  query?: Query;
  body?: unknown;
  schema: z.ZodType<T>;
}

export interface TicketUpdateBody {
  comment?: { body?: string; html_body?: string; public: boolean; author_id?: number };
  group_id?: number;
  priority?: 'urgent' | 'high' | 'normal' | 'low';
  status?: 'new' | 'open' | 'pending' | 'hold' | 'solved' | 'closed';
  tags?: string[];
  custom_fields?: Array<{ id: number; value: unknown }>;
  safe_update?: boolean;
  updated_stamp?: string;
}

export interface CursorPage<T> {
  items: T[];
  /** Pass back as `after` for the next page; undefined on the last page. */
  after?: string;
}

const RETRYABLE_STATUS = new Set([408, 500, 502, 503, 504]);

function encodeQuery(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** Seconds from a Retry-After header (delta-seconds or HTTP date); undefined when absent/invalid. */
export function parseRetryAfter(header: string | null, now: number): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const trimmed = header.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - now) / 1000);
}

/** Exponential backoff with full jitter, capped. */
export function backoffDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** The cursor from a cursor-paginated response (`meta.after_cursor`, else `page[after]` in `links.next`). */
export function nextCursor(
  meta: { has_more: boolean; after_cursor?: string | null | undefined } | null | undefined,
  links?: { next?: string | null | undefined } | null,
): string | undefined {
  if (!meta?.has_more) return undefined;
  if (meta.after_cursor) return meta.after_cursor;
  if (links?.next && URL.canParse(links.next)) return new URL(links.next).searchParams.get('page[after]') ?? undefined;
  return undefined;
}

/** A short, secret-free description of Zendesk's error body for AppError details. */
async function describeErrorBody(response: Response): Promise<string | undefined> {
  try {
    const text = await response.text();
    if (!text) return undefined;
    const parsed = JSON.parse(text) as { error?: unknown; description?: unknown };
    const parts = [parsed.error, parsed.description].filter((part) => typeof part === 'string');
    return parts.length > 0 ? parts.join(': ').slice(0, 200) : undefined;
  } catch {
    return undefined;
  }
}

function parseJsonOrUndefined(text: string): unknown {
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorForStatus(status: number, label: string, upstream: string | undefined, retryAfter?: number): AppError {
  const details = { status, ...(upstream ? { upstream } : {}) };
  switch (status) {
    case 401:
      return new AppError('UNAUTHORIZED', `Zendesk rejected the credentials (${label})`, { details });
    case 403:
      return new AppError('FORBIDDEN', `Zendesk denied access (${label})`, { details });
    case 404:
      return new AppError('NOT_FOUND', `Zendesk has no such resource (${label})`, { details });
    case 409:
      return new AppError('CONFLICT', `Zendesk reported an update conflict (${label})`, { details });
    case 429:
      return new AppError('RATE_LIMITED', `Zendesk rate limit reached (${label})`, {
        details,
        ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }),
      });
    default:
      return new AppError('UPSTREAM_ERROR', `Zendesk answered ${status} (${label})`, {
        details,
        // A 4xx means our request was wrong: retrying it cannot help.
        retryable: status >= 500 || status === 408,
      });
  }
}

export function createZendeskClient(options: ZendeskClientOptions) {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const authorization = `Basic ${Buffer.from(`${options.email}/token:${options.apiToken}`).toString('base64')}`;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxAttempts = Math.max(1, options.maxAttempts ?? 4);
  const baseBackoffMs = options.baseBackoffMs ?? 300;
  const maxBackoffMs = options.maxBackoffMs ?? 8_000;
  const maxRetryAfterSeconds = options.maxRetryAfterSeconds ?? 60;
  const doFetch = options.fetch ?? fetch;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;

  async function request<T>(method: HttpMethod, path: string, requestOptions: RequestOptions<T>): Promise<T> {
    const label = `${method} ${path}`;
    const url = `${baseUrl}${path}${encodeQuery(requestOptions.query)}`;
    const isWrite = method !== 'GET';
    const headers: Record<string, string> = { authorization, accept: 'application/json' };
    let payload: string | undefined;
    if (requestOptions.body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(requestOptions.body);
    }

    for (let attempt = 1; ; attempt++) {
      if (isWrite && options.writeLimiter) await options.writeLimiter.acquire();
      let response: Response;
      try {
        response = await doFetch(url, {
          method,
          headers,
          ...(payload === undefined ? {} : { body: payload }),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        const timedOut =
          error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError');
        if (attempt < maxAttempts) {
          const delayMs = backoffDelayMs(attempt, baseBackoffMs, maxBackoffMs, random);
          options.onRetry?.({ method, path, attempt, delayMs, reason: timedOut ? 'timeout' : 'network' });
          await sleep(delayMs);
          continue;
        }
        // The cause is kept for operators but carries no credentials: fetch errors name the URL only.
        throw timedOut
          ? new AppError('UPSTREAM_TIMEOUT', `Zendesk did not answer within ${timeoutMs} ms (${label})`)
          : new AppError('UPSTREAM_ERROR', `Could not reach Zendesk (${label})`, {
              details: { reason: error instanceof Error ? error.message : 'unknown' },
            });
      }

      if (response.ok) {
        const parsed = requestOptions.schema.safeParse(parseJsonOrUndefined(await response.text()));
        if (!parsed.success) {
          throw new AppError('UPSTREAM_ERROR', `Unexpected Zendesk response shape (${label})`, {
            retryable: false,
            details: {
              issues: parsed.error.issues.slice(0, 5).map((issue) => `${issue.path.join('.')}: ${issue.message}`),
            },
          });
        }
        return parsed.data;
      }

      const retryAfter = parseRetryAfter(response.headers.get('retry-after'), Date.now());
      if (response.status === 429 && attempt < maxAttempts && (retryAfter ?? 0) <= maxRetryAfterSeconds) {
        await response.body?.cancel();
        const delayMs =
          retryAfter === undefined
            ? backoffDelayMs(attempt, baseBackoffMs, maxBackoffMs, random)
            : // Never earlier than Zendesk asked; a little jitter so tenants' workers do not stampede.
              Math.ceil(retryAfter * 1000 + random() * 250);
        options.onRetry?.({ method, path, attempt, delayMs, reason: 'rate-limited', status: 429 });
        await sleep(delayMs);
        continue;
      }
      if (RETRYABLE_STATUS.has(response.status) && attempt < maxAttempts) {
        await response.body?.cancel();
        const delayMs = backoffDelayMs(attempt, baseBackoffMs, maxBackoffMs, random);
        options.onRetry?.({ method, path, attempt, delayMs, reason: 'server-error', status: response.status });
        await sleep(delayMs);
        continue;
      }
      throw errorForStatus(response.status, label, await describeErrorBody(response), retryAfter);
    }
  }

  const ticketPath = (ticketId: number) => `/api/v2/tickets/${ticketId}`;

  /** All comments, oldest first, with the authors' roles (side-loaded users). */
  async function listAllComments(
    ticketId: number,
  ): Promise<{ comments: ZendeskComment[]; roles: Map<number, string> }> {
    const comments: ZendeskComment[] = [];
    const roles = new Map<number, string>();
    let after: string | undefined;
    do {
      const page = await request('GET', `${ticketPath(ticketId)}/comments`, {
        query: { include: 'users', 'page[size]': 100, 'page[after]': after },
        schema: commentsResponseSchema,
      });
      comments.push(...page.comments);
      for (const user of page.users) roles.set(user.id, user.role);
      after = nextCursor(page.meta, page.links);
    } while (after);
    return { comments, roles };
  }

  return {
    request,
    async getTicket(ticketId: number): Promise<ZendeskTicket> {
      return (await request('GET', ticketPath(ticketId), { schema: ticketResponseSchema })).ticket;
    },
    async updateTicket(ticketId: number, ticket: TicketUpdateBody): Promise<ZendeskTicket> {
      return (await request('PUT', ticketPath(ticketId), { body: { ticket }, schema: ticketResponseSchema })).ticket;
    },
    listComments: listAllComments,
    async getUser(userId: number) {
      return (await request('GET', `/api/v2/users/${userId}`, { schema: userResponseSchema })).user;
    },
    /** Adds tags (PUT adds, POST replaces, DELETE removes: Zendesk's Tags API). */
    async addTags(ticketId: number, tags: string[]): Promise<string[]> {
      return (await request('PUT', `${ticketPath(ticketId)}/tags`, { body: { tags }, schema: tagsResponseSchema }))
        .tags;
    },
    async setTags(ticketId: number, tags: string[]): Promise<string[]> {
      return (await request('POST', `${ticketPath(ticketId)}/tags`, { body: { tags }, schema: tagsResponseSchema }))
        .tags;
    },
    async removeTags(ticketId: number, tags: string[]): Promise<string[]> {
      return (await request('DELETE', `${ticketPath(ticketId)}/tags`, { body: { tags }, schema: tagsResponseSchema }))
        .tags;
    },
    async listGroups() {
      return (await request('GET', '/api/v2/groups', { schema: groupsResponseSchema })).groups;
    },
    async listTicketFields() {
      return (await request('GET', '/api/v2/ticket_fields', { schema: ticketFieldsResponseSchema })).ticket_fields;
    },
    async createTicketField(field: { type: string; title: string; description?: string; active?: boolean }) {
      return (
        await request('POST', '/api/v2/ticket_fields', {
          body: { ticket_field: field },
          schema: ticketFieldResponseSchema,
        })
      ).ticket_field;
    },
    async listTriggers() {
      return (await request('GET', '/api/v2/triggers', { schema: triggersResponseSchema })).triggers;
    },
    async createTrigger(trigger: {
      title: string;
      description?: string;
      active?: boolean;
      category_id?: string;
      conditions: { all?: Array<{ field: string; operator: string; value?: unknown }>; any?: unknown[] };
      actions: Array<{ field: string; value: unknown }>;
    }) {
      return (await request('POST', '/api/v2/triggers', { body: { trigger }, schema: triggerResponseSchema })).trigger;
    },
    async listWebhooks(query?: { nameContains?: string }) {
      return (
        await request('GET', '/api/v2/webhooks', {
          query: { 'filter[name_contains]': query?.nameContains },
          schema: webhooksResponseSchema,
        })
      ).webhooks;
    },
    async createWebhook(webhook: {
      name: string;
      endpoint: string;
      status?: 'active' | 'inactive';
      http_method?: 'POST';
      request_format?: 'json';
      subscriptions?: string[];
      description?: string;
    }) {
      const body = {
        status: 'active',
        http_method: 'POST',
        request_format: 'json',
        subscriptions: ['conditional_ticket_events'],
        ...webhook,
      };
      return (await request('POST', '/api/v2/webhooks', { body: { webhook: body }, schema: webhookResponseSchema }))
        .webhook;
    },
    async getWebhookSigningSecret(webhookId: string): Promise<string> {
      const response = await request('GET', `/api/v2/webhooks/${encodeURIComponent(webhookId)}/signing_secret`, {
        schema: signingSecretResponseSchema,
      });
      return response.signing_secret.secret;
    },
    /** One cursor page of Help Center articles (agents may omit the locale). */
    async listArticlesPage(page: { after?: string; size?: number } = {}) {
      const response = await request('GET', '/api/v2/help_center/articles', {
        query: { 'page[size]': page.size ?? 100, 'page[after]': page.after },
        schema: articlesPageSchema,
      });
      const after = nextCursor(response.meta, response.links);
      return { items: response.articles, ...(after ? { after } : {}) };
    },
    async listSectionsPage(page: { after?: string; size?: number } = {}) {
      const response = await request('GET', '/api/v2/help_center/sections', {
        query: { 'page[size]': page.size ?? 100, 'page[after]': page.after },
        schema: sectionsPageSchema,
      });
      const after = nextCursor(response.meta, response.links);
      return { items: response.sections, ...(after ? { after } : {}) };
    },
    /** Incremental article export: articles changed at or after `startTime` (epoch seconds). */
    async incrementalArticles(startTime: number) {
      return request('GET', '/api/v2/help_center/incremental/articles', {
        query: { start_time: Math.floor(startTime) },
        schema: incrementalArticlesSchema,
      });
    },
  };
}

export type ZendeskClient = ReturnType<typeof createZendeskClient>;
