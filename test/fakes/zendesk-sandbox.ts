/**
 * A local Zendesk: a loopback HTTP server with in-memory tickets, comments, users, groups, ticket
 * fields, triggers, webhooks and Help Center articles. Every request is first validated against
 * Zendesk's own OpenAPI files (../shared/specs, with the documented overlays in
 * openapi-validator.ts); a request the spec does not allow is answered 400 and recorded in
 * `violations`, which tests assert is empty.
 *
 * Test controls: seed data, a deterministic fault plan (429 with Retry-After, 500) for writes, a
 * human agent's comment injected between events, and a timestamped request log.
 *
 * Behaviour that imitates Zendesk (per PLATFORM.md):
 * - A comment sent without `public` inherits the visibility of the ticket's first comment.
 * - `safe_update` + `updated_stamp` answers 409 when the stamp is not the ticket's updated_at.
 *   The sandbox advances updated_at by at least one second per change so stamps stay distinct
 *   (Zendesk's stamps have one-second resolution).
 * - Tags: PUT adds, POST replaces, DELETE removes.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createOpenApiValidator,
  loadOpenApiDocument,
  type OpenApiValidator,
  sharedSpecPath,
  withOverlays,
  ZENDESK_HELP_CENTER_OVERLAYS,
  ZENDESK_SUPPORT_OVERLAYS,
} from './openapi-validator.ts';

export type Role = 'end-user' | 'agent' | 'admin';

export interface SandboxUser {
  id: number;
  name: string;
  email: string;
  role: Role;
}

export interface SandboxComment {
  id: number;
  author_id: number;
  public: boolean;
  body: string;
  html_body: string;
  plain_body: string;
  created_at: string;
  via: { channel: string };
}

export interface SandboxTicket {
  id: number;
  subject: string;
  description: string;
  status: 'new' | 'open' | 'pending' | 'hold' | 'solved' | 'closed';
  priority: 'urgent' | 'high' | 'normal' | 'low' | null;
  requester_id: number;
  assignee_id: number | null;
  group_id: number | null;
  tags: string[];
  custom_fields: Array<{ id: number; value: unknown }>;
  created_at: string;
  updated_at: string;
}

export interface SandboxArticle {
  id: number;
  title: string;
  body: string;
  section_id: number;
  draft: boolean;
  archived: boolean;
  locale: string;
  html_url: string;
  created_at: string;
  updated_at: string;
}

export interface RequestLogEntry {
  /** Epoch ms when the request arrived. */
  at: number;
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  status: number;
  operationId?: string;
  fault?: 'rate-limited' | 'server-error';
  retryAfterSeconds?: number;
}

export interface Violation {
  method: string;
  path: string;
  errors: string[];
}

export interface FaultPlan {
  /** Fraction of writes answered 429 with Retry-After. */
  rateLimitFraction: number;
  /** Fraction of writes answered 500. */
  serverErrorFraction: number;
  /** Inclusive range of Retry-After seconds (integers). Default [1, 2]. */
  retryAfterSeconds?: [number, number];
  seed?: number;
  /** Which writes are subject to faults. Default: ticket writes (/api/v2/tickets/...). */
  appliesTo?: (method: string, path: string) => boolean;
}

export interface SandboxOptions {
  email?: string;
  apiToken?: string;
  /** Articles per incremental export page (Zendesk: up to 1000). */
  incrementalPageSize?: number;
  /** The user the API token belongs to (the bot/admin); default 1. */
  apiUserId?: number;
}

// Loaded once per test file (per worker process): the specs are ~1 MB each.
let validatorsPromise: Promise<{ support: OpenApiValidator; helpCenter: OpenApiValidator }> | undefined;

export function loadZendeskValidators() {
  validatorsPromise ??= (async () => {
    const [support, helpCenter] = await Promise.all([
      createOpenApiValidator(
        withOverlays(loadOpenApiDocument(sharedSpecPath('zendesk-support-oas.yaml')), ZENDESK_SUPPORT_OVERLAYS),
      ),
      createOpenApiValidator(
        withOverlays(loadOpenApiDocument(sharedSpecPath('zendesk-help-center-oas.yaml')), ZENDESK_HELP_CENTER_OVERLAYS),
      ),
    ]);
    return { support, helpCenter };
  })();
  return validatorsPromise;
}

/** mulberry32: small, seedable, good enough for fault plans. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
  }
}

function iso(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function stripHtml(html: string): string {
  return html
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function encodeCursor(id: number): string {
  return Buffer.from(`after:${id}`).toString('base64url');
}

function decodeCursor(cursor: string | undefined): number {
  if (!cursor) return 0;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^after:(\d+)$/.exec(text);
  if (!match) throw new HttpError(400, 'InvalidPaginationParameter', 'invalid cursor');
  return Number(match[1]);
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startZendeskSandbox(options: SandboxOptions = {}) {
  const validators = await loadZendeskValidators();
  const email = options.email ?? 'bot@example.com';
  const apiToken = options.apiToken ?? `sandbox-${randomBytes(8).toString('hex')}`;
  const expectedAuth = `Basic ${Buffer.from(`${email}/token:${apiToken}`).toString('base64')}`;
  const apiUserId = options.apiUserId ?? 1;
  const incrementalPageSize = options.incrementalPageSize ?? 1000;

  const users = new Map<number, SandboxUser>();
  const tickets = new Map<number, SandboxTicket>();
  const comments = new Map<number, SandboxComment[]>();
  const groups = new Map<number, { id: number; name: string; deleted: boolean }>();
  const ticketFields = new Map<number, Record<string, unknown> & { id: number; type: string; title: string }>();
  const triggers = new Map<number, Record<string, unknown> & { id: number; title: string }>();
  const webhooks = new Map<string, Record<string, unknown> & { id: string; name: string; endpoint: string }>();
  const signingSecrets = new Map<string, string>();
  const sections = new Map<number, { id: number; name: string; category_id: number; locale: string }>();
  const articles = new Map<number, SandboxArticle>();
  const requests: RequestLogEntry[] = [];
  const violations: Violation[] = [];
  let nextId = 1000;
  let lastStamp = 0;
  let faultPlan: FaultPlan | undefined;
  let faultRandom: () => number = Math.random;

  users.set(apiUserId, { id: apiUserId, name: 'Support bot', email, role: 'admin' });

  const newId = () => ++nextId;
  /** A fresh updated_at, strictly later than any earlier one (one-second resolution). */
  function nextStamp(): string {
    const now = Math.floor(Date.now() / 1000) * 1000;
    lastStamp = Math.max(now, lastStamp + 1000);
    return iso(lastStamp);
  }

  function requireTicket(id: number): SandboxTicket {
    const ticket = tickets.get(id);
    if (!ticket) throw new HttpError(404, 'RecordNotFound', 'Not found');
    return ticket;
  }

  function appendComment(
    ticket: SandboxTicket,
    input: { authorId: number; body?: string; htmlBody?: string; public?: boolean; channel: string },
  ): SandboxComment {
    const list = comments.get(ticket.id) ?? [];
    // Zendesk: without `public`, a comment takes the first comment's visibility.
    const isPublic = input.public ?? list[0]?.public ?? true;
    const html = input.htmlBody ?? `<p>${escapeHtml(input.body ?? '')}</p>`;
    const plain = input.body ?? stripHtml(input.htmlBody ?? '');
    const comment: SandboxComment = {
      id: newId(),
      author_id: input.authorId,
      public: isPublic,
      body: plain,
      html_body: html,
      plain_body: plain,
      created_at: nextStamp(),
      via: { channel: input.channel },
    };
    list.push(comment);
    comments.set(ticket.id, list);
    ticket.updated_at = comment.created_at;
    if (ticket.status === 'new' && input.authorId !== ticket.requester_id) ticket.status = 'open';
    return comment;
  }

  function checkSafeUpdate(ticket: SandboxTicket, body: Record<string, unknown>) {
    if (body.safe_update !== true) return;
    const stamp = body.updated_stamp;
    if (typeof stamp !== 'string' || Date.parse(stamp) !== Date.parse(ticket.updated_at)) {
      throw new HttpError(409, 'UpdateConflict', 'Safe Update prevented the update due to outdated ticket data.');
    }
  }

  function ticketJson(ticket: SandboxTicket) {
    return structuredClone(ticket);
  }

  // --- route handlers -------------------------------------------------------------------------

  function updateTicket(id: number, body: unknown) {
    const ticket = requireTicket(id);
    const input = isRecord(body) && isRecord(body.ticket) ? body.ticket : {};
    checkSafeUpdate(ticket, input);
    if (ticket.status === 'closed') throw new HttpError(422, 'RecordInvalid', 'closed tickets cannot be updated');
    const customFields = Array.isArray(input.custom_fields)
      ? (input.custom_fields as Array<{ id: number; value: unknown }>)
      : [];
    for (const field of customFields) {
      if (!ticketFields.has(field.id)) throw new HttpError(422, 'RecordInvalid', `unknown ticket field ${field.id}`);
    }
    if (typeof input.group_id === 'number' && !groups.has(input.group_id))
      throw new HttpError(422, 'RecordInvalid', `unknown group ${input.group_id}`);
    let changed = false;
    if (isRecord(input.comment)) {
      const comment = input.comment;
      appendComment(ticket, {
        authorId: typeof comment.author_id === 'number' ? comment.author_id : apiUserId,
        ...(typeof comment.body === 'string' ? { body: comment.body } : {}),
        ...(typeof comment.html_body === 'string' ? { htmlBody: comment.html_body } : {}),
        ...(typeof comment.public === 'boolean' ? { public: comment.public } : {}),
        channel: 'api',
      });
    }
    if (typeof input.group_id === 'number') {
      ticket.group_id = input.group_id;
      changed = true;
    }
    if (typeof input.priority === 'string') {
      ticket.priority = input.priority as SandboxTicket['priority'];
      changed = true;
    }
    if (typeof input.status === 'string') {
      ticket.status = input.status as SandboxTicket['status'];
      changed = true;
    }
    if (Array.isArray(input.tags)) {
      ticket.tags = [...new Set(input.tags as string[])];
      changed = true;
    }
    for (const field of customFields) {
      const existing = ticket.custom_fields.find((entry) => entry.id === field.id);
      if (existing) existing.value = field.value;
      else ticket.custom_fields.push({ id: field.id, value: field.value });
      changed = true;
    }
    if (changed) ticket.updated_at = nextStamp();
    return { status: 200, body: { ticket: ticketJson(ticket), audit: { ticket_id: ticket.id, author_id: apiUserId } } };
  }

  function changeTags(id: number, method: string, body: unknown) {
    const ticket = requireTicket(id);
    const input = isRecord(body) ? body : {};
    checkSafeUpdate(ticket, input);
    const tags = Array.isArray(input.tags) ? (input.tags as string[]) : [];
    if (method === 'PUT') ticket.tags = [...new Set([...ticket.tags, ...tags])];
    else if (method === 'POST') ticket.tags = [...new Set(tags)];
    else ticket.tags = ticket.tags.filter((tag) => !tags.includes(tag));
    ticket.updated_at = nextStamp();
    return { status: method === 'POST' ? 201 : 200, body: { tags: [...ticket.tags] } };
  }

  function cursorPage<T extends { id: number }>(items: T[], query: Record<string, string>, path: string, key: string) {
    const size = Number(query['page[size]'] ?? 100);
    const afterId = decodeCursor(query['page[after]']);
    const sorted = [...items].sort((a, b) => a.id - b.id).filter((item) => item.id > afterId);
    const page = sorted.slice(0, size);
    const hasMore = sorted.length > page.length;
    const last = page.at(-1);
    const afterCursor = hasMore && last ? encodeCursor(last.id) : null;
    const next = afterCursor ? `${baseUrl}${path}?page[size]=${size}&page[after]=${afterCursor}` : null;
    return {
      [key]: page,
      meta: { has_more: hasMore, after_cursor: afterCursor, before_cursor: null },
      links: { next, prev: null },
    };
  }

  function listComments(id: number, query: Record<string, string>) {
    requireTicket(id);
    // Comments keep creation order (ids increase with it); the sandbox ignores sort_order=desc.
    const list = (comments.get(id) ?? []).map((comment) => ({ ...comment }));
    const page = cursorPage(list, query, `/api/v2/tickets/${id}/comments`, 'comments') as Record<string, unknown>;
    if (query.include === 'users') {
      const authorIds = new Set((page.comments as SandboxComment[]).map((comment) => comment.author_id));
      page.users = [...authorIds].flatMap((authorId) => {
        const user = users.get(authorId);
        return user ? [structuredClone(user)] : [];
      });
    }
    return { status: 200, body: page };
  }

  function visibleArticles() {
    return [...articles.values()].filter((article) => !article.archived);
  }

  function articleJson(article: SandboxArticle) {
    const { archived: _archived, ...rest } = article;
    return { ...rest, url: `${baseUrl}/api/v2/help_center/en-us/articles/${article.id}.json` };
  }

  function incrementalArticles(query: Record<string, string>) {
    const startTime = Number(query.start_time);
    const changed = visibleArticles()
      .filter((article) => Date.parse(article.updated_at) / 1000 >= startTime)
      .sort((a, b) => Date.parse(a.updated_at) - Date.parse(b.updated_at) || a.id - b.id);
    const page = changed.slice(0, incrementalPageSize);
    const last = page.at(-1);
    const endTime = last ? Date.parse(last.updated_at) / 1000 : startTime;
    const full = page.length === incrementalPageSize && changed.length > page.length;
    return {
      status: 200,
      body: {
        articles: page.map(articleJson),
        count: page.length,
        end_time: endTime,
        next_page: full ? `${baseUrl}/api/v2/help_center/incremental/articles?start_time=${endTime}` : null,
      },
    };
  }

  function createWebhook(body: unknown) {
    const input = isRecord(body) && isRecord(body.webhook) ? body.webhook : {};
    const id = `01SANDBOX${String(newId()).padStart(17, '0')}`;
    const webhook = {
      ...(input as Record<string, unknown>),
      id,
      name: String(input.name),
      endpoint: String(input.endpoint),
      created_at: nextStamp(),
    };
    webhooks.set(id, webhook);
    signingSecrets.set(id, randomBytes(32).toString('base64'));
    return { status: 201, body: { webhook } };
  }

  type Handler = (
    match: RegExpExecArray,
    query: Record<string, string>,
    body: unknown,
  ) => { status: number; body: unknown };
  const routes: Array<[string, RegExp, Handler]> = [
    [
      'GET',
      /^\/api\/v2\/tickets\/(\d+)$/,
      (m) => ({ status: 200, body: { ticket: ticketJson(requireTicket(Number(m[1]))) } }),
    ],
    ['PUT', /^\/api\/v2\/tickets\/(\d+)$/, (m, _q, body) => updateTicket(Number(m[1]), body)],
    ['GET', /^\/api\/v2\/tickets\/(\d+)\/comments$/, (m, query) => listComments(Number(m[1]), query)],
    ['PUT', /^\/api\/v2\/tickets\/(\d+)\/tags$/, (m, _q, body) => changeTags(Number(m[1]), 'PUT', body)],
    ['POST', /^\/api\/v2\/tickets\/(\d+)\/tags$/, (m, _q, body) => changeTags(Number(m[1]), 'POST', body)],
    ['DELETE', /^\/api\/v2\/tickets\/(\d+)\/tags$/, (m, _q, body) => changeTags(Number(m[1]), 'DELETE', body)],
    [
      'GET',
      /^\/api\/v2\/users\/(\d+)$/,
      (m) => {
        const user = users.get(Number(m[1]));
        if (!user) throw new HttpError(404, 'RecordNotFound', 'Not found');
        return { status: 200, body: { user: structuredClone(user) } };
      },
    ],
    [
      'GET',
      /^\/api\/v2\/groups$/,
      () => ({
        status: 200,
        body: { groups: [...groups.values()], next_page: null, previous_page: null, count: groups.size },
      }),
    ],
    [
      'GET',
      /^\/api\/v2\/ticket_fields$/,
      () => ({
        status: 200,
        body: { ticket_fields: [...ticketFields.values()], next_page: null, count: ticketFields.size },
      }),
    ],
    [
      'POST',
      /^\/api\/v2\/ticket_fields$/,
      (_m, _q, body) => {
        const input = isRecord(body) && isRecord(body.ticket_field) ? body.ticket_field : {};
        const field = { active: true, ...input, id: newId(), type: String(input.type), title: String(input.title) };
        ticketFields.set(field.id, field);
        return { status: 201, body: { ticket_field: field } };
      },
    ],
    [
      'GET',
      /^\/api\/v2\/triggers$/,
      () => ({
        status: 200,
        body: { triggers: [...triggers.values()], next_page: null, previous_page: null, count: triggers.size },
      }),
    ],
    [
      'POST',
      /^\/api\/v2\/triggers$/,
      (_m, _q, body) => {
        const input = isRecord(body) && isRecord(body.trigger) ? body.trigger : {};
        const trigger = { active: true, ...input, id: newId(), title: String(input.title) };
        triggers.set(trigger.id, trigger);
        return { status: 201, body: { trigger } };
      },
    ],
    [
      'GET',
      /^\/api\/v2\/webhooks$/,
      (_m, query) => {
        const contains = query['filter[name_contains]']?.toLowerCase();
        const list = [...webhooks.values()].filter((hook) => !contains || hook.name.toLowerCase().includes(contains));
        return {
          status: 200,
          body: { webhooks: list, meta: { has_more: false, after_cursor: null }, links: { next: null } },
        };
      },
    ],
    ['POST', /^\/api\/v2\/webhooks$/, (_m, _q, body) => createWebhook(body)],
    [
      'GET',
      /^\/api\/v2\/webhooks\/([^/]+)\/signing_secret$/,
      (m) => {
        const secret = signingSecrets.get(String(m[1]));
        if (secret === undefined) throw new HttpError(404, 'RecordNotFound', 'Not found');
        return { status: 200, body: { signing_secret: { algorithm: 'SHA256', secret } } };
      },
    ],
    [
      'GET',
      /^\/api\/v2\/help_center(?:\/[a-z]{2}(?:-[a-z]{2})?)?\/articles$/,
      (_m, query) => ({
        status: 200,
        body: cursorPage(visibleArticles().map(articleJson), query, '/api/v2/help_center/articles', 'articles'),
      }),
    ],
    [
      'GET',
      /^\/api\/v2\/help_center(?:\/[a-z]{2}(?:-[a-z]{2})?)?\/sections$/,
      (_m, query) => ({
        status: 200,
        body: cursorPage([...sections.values()], query, '/api/v2/help_center/sections', 'sections'),
      }),
    ],
    ['GET', /^\/api\/v2\/help_center\/incremental\/articles$/, (_m, query) => incrementalArticles(query)],
  ];

  const WRITE_METHODS = new Set(['POST', 'PUT', 'DELETE', 'PATCH']);

  function pickFault(
    method: string,
    path: string,
  ): { kind: 'rate-limited'; retryAfter: number } | { kind: 'server-error' } | undefined {
    if (!faultPlan || !WRITE_METHODS.has(method)) return undefined;
    const applies = faultPlan.appliesTo ?? ((_method: string, p: string) => p.startsWith('/api/v2/tickets/'));
    if (!applies(method, path)) return undefined;
    const roll = faultRandom();
    if (roll < faultPlan.rateLimitFraction) {
      const [min, max] = faultPlan.retryAfterSeconds ?? [1, 2];
      return { kind: 'rate-limited', retryAfter: min + Math.floor(faultRandom() * (max - min + 1)) };
    }
    if (roll < faultPlan.rateLimitFraction + faultPlan.serverErrorFraction) return { kind: 'server-error' };
    return undefined;
  }

  function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    const text = body === undefined ? '' : JSON.stringify(body);
    response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    response.end(text);
  }

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const at = Date.now();
    const url = new URL(request.url ?? '/', 'http://sandbox.invalid');
    const method = (request.method ?? 'GET').toUpperCase();
    const path = url.pathname.replace(/\.json$/, '');
    const query = Object.fromEntries(url.searchParams.entries());
    const raw = await readBody(request);
    const entry: RequestLogEntry = { at, method, path, query, body: undefined, status: 0 };
    requests.push(entry);
    const finish = (status: number, body: unknown, headers?: Record<string, string>) => {
      entry.status = status;
      send(response, status, body, headers);
    };

    if (request.headers.authorization !== expectedAuth) {
      finish(401, { error: "Couldn't authenticate you" });
      return;
    }
    let body: unknown;
    if (raw !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        violations.push({ method, path, errors: ['body: not valid JSON'] });
        finish(400, { error: 'InvalidJSON', description: 'body is not JSON' });
        return;
      }
      if (!String(request.headers['content-type'] ?? '').startsWith('application/json')) {
        violations.push({ method, path, errors: ['headers: JSON body without content-type application/json'] });
        finish(400, { error: 'InvalidRequest', description: 'content-type must be application/json' });
        return;
      }
    }
    entry.body = body;

    const validator = path.startsWith('/api/v2/help_center') ? validators.helpCenter : validators.support;
    const validation = validator.validate({ method, path, query, ...(body === undefined ? {} : { body }) });
    if (validation.operationId) entry.operationId = validation.operationId;
    if (!validation.ok) {
      violations.push({ method, path, errors: validation.errors });
      finish(400, {
        error: 'InvalidRequest',
        description: 'request does not match the OpenAPI spec',
        details: validation.errors,
      });
      return;
    }

    const fault = pickFault(method, path);
    if (fault?.kind === 'rate-limited') {
      entry.fault = fault.kind;
      entry.retryAfterSeconds = fault.retryAfter;
      finish(429, { error: 'TooManyRequests' }, { 'retry-after': String(fault.retryAfter) });
      return;
    }
    if (fault?.kind === 'server-error') {
      entry.fault = fault.kind;
      finish(500, { error: 'InternalServerError' });
      return;
    }

    for (const [routeMethod, pattern, handler] of routes) {
      if (routeMethod !== method) continue;
      const match = pattern.exec(path);
      if (!match) continue;
      try {
        const result = handler(match, query, body);
        finish(result.status, result.body);
      } catch (error) {
        if (error instanceof HttpError) finish(error.status, { error: error.error, description: error.description });
        else finish(500, { error: 'SandboxBug', description: String(error) });
      }
      return;
    }
    // In the spec but not simulated here.
    finish(501, { error: 'NotImplementedInSandbox', description: `${method} ${path}` });
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) send(response, 500, { error: 'SandboxBug', description: String(error) });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;

  return {
    url: baseUrl,
    email,
    apiToken,
    apiUserId,
    /** Every request received, in arrival order. */
    requests,
    /** Requests the OpenAPI validation rejected. */
    violations,
    close(): Promise<void> {
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
    setFaultPlan(plan: FaultPlan | undefined) {
      faultPlan = plan;
      faultRandom = seededRandom(plan?.seed ?? 1);
    },
    seedUser(input: { id?: number; name: string; email?: string; role: Role }): SandboxUser {
      const id = input.id ?? newId();
      const user = { id, name: input.name, email: input.email ?? `user${id}@example.com`, role: input.role };
      users.set(id, user);
      return structuredClone(user);
    },
    seedGroup(input: { id?: number; name: string }) {
      const group = { id: input.id ?? newId(), name: input.name, deleted: false };
      groups.set(group.id, group);
      return { ...group };
    },
    seedTicketField(input: { id?: number; type: string; title: string }) {
      const field = { id: input.id ?? newId(), type: input.type, title: input.title, active: true };
      ticketFields.set(field.id, field);
      return { ...field };
    },
    seedTicket(input: {
      id?: number;
      subject: string;
      requesterId: number;
      description?: string;
      status?: SandboxTicket['status'];
      priority?: SandboxTicket['priority'];
      assigneeId?: number;
      groupId?: number;
      tags?: string[];
    }): SandboxTicket {
      const id = input.id ?? newId();
      const stamp = nextStamp();
      const ticket: SandboxTicket = {
        id,
        subject: input.subject,
        description: input.description ?? input.subject,
        status: input.status ?? 'new',
        priority: input.priority ?? null,
        requester_id: input.requesterId,
        assignee_id: input.assigneeId ?? null,
        group_id: input.groupId ?? null,
        tags: input.tags ?? [],
        custom_fields: [],
        created_at: stamp,
        updated_at: stamp,
      };
      tickets.set(id, ticket);
      const status = ticket.status;
      appendComment(ticket, { authorId: input.requesterId, body: ticket.description, public: true, channel: 'email' });
      ticket.status = status;
      return ticketJson(ticket);
    },
    /** A comment as if typed in Zendesk by someone (a human agent between events, or the customer). */
    addComment(ticketId: number, input: { authorId: number; body: string; public?: boolean; channel?: string }) {
      const ticket = requireTicket(ticketId);
      const user = users.get(input.authorId);
      return structuredClone(
        appendComment(ticket, {
          authorId: input.authorId,
          body: input.body,
          public: input.public ?? true,
          channel: input.channel ?? (user?.role === 'end-user' ? 'email' : 'web'),
        }),
      );
    },
    seedSection(input: { id?: number; name: string; categoryId?: number }) {
      const section = {
        id: input.id ?? newId(),
        name: input.name,
        category_id: input.categoryId ?? 1,
        locale: 'en-us',
      };
      sections.set(section.id, section);
      return { ...section };
    },
    seedArticle(input: {
      id?: number;
      title: string;
      body: string;
      sectionId: number;
      draft?: boolean;
      updatedAt?: string;
    }): SandboxArticle {
      const id = input.id ?? newId();
      const stamp = input.updatedAt ?? nextStamp();
      const article: SandboxArticle = {
        id,
        title: input.title,
        body: input.body,
        section_id: input.sectionId,
        draft: input.draft ?? false,
        archived: false,
        locale: 'en-us',
        html_url: `https://sandbox.zendesk.invalid/hc/en-us/articles/${id}`,
        created_at: stamp,
        updated_at: stamp,
      };
      articles.set(id, article);
      return { ...article };
    },
    /** Edits an article as an author would (changes updated_at). */
    editArticle(id: number, change: { title?: string; body?: string; draft?: boolean; updatedAt?: string }) {
      const article = articles.get(id);
      if (!article) throw new Error(`no article ${id}`);
      Object.assign(article, {
        ...(change.title === undefined ? {} : { title: change.title }),
        ...(change.body === undefined ? {} : { body: change.body }),
        ...(change.draft === undefined ? {} : { draft: change.draft }),
        updated_at: change.updatedAt ?? nextStamp(),
      });
    },
    archiveArticle(id: number) {
      const article = articles.get(id);
      if (!article) throw new Error(`no article ${id}`);
      article.archived = true;
    },
    ticket(id: number): SandboxTicket | undefined {
      const ticket = tickets.get(id);
      return ticket ? ticketJson(ticket) : undefined;
    },
    comments(ticketId: number): SandboxComment[] {
      return structuredClone(comments.get(ticketId) ?? []);
    },
    webhooks: () => structuredClone([...webhooks.values()]),
    signingSecret: (webhookId: string) => signingSecrets.get(webhookId),
    triggers: () => structuredClone([...triggers.values()]),
    ticketFields: () => structuredClone([...ticketFields.values()]),
  };
}

export type ZendeskSandbox = Awaited<ReturnType<typeof startZendeskSandbox>>;
