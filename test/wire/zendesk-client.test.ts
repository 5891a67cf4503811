/**
 * Wire tests: the real Zendesk client and helpdesk adapter against the loopback sandbox, which
 * validates each request against Zendesk's OpenAPI files. Every test ends with no spec violations.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createZendeskHelpdesk } from '../../integration/zendesk/adapter.ts';
import { createZendeskClient, type RetryEvent, type ZendeskClientOptions } from '../../integration/zendesk/client.ts';
import { connectZendeskAccount, TRIGGER_TITLES, triggerPayload } from '../../integration/zendesk/connect.ts';
import { importHelpCenter, syncHelpCenterIncremental } from '../../integration/zendesk/help-center.ts';
import { AppError } from '../../server/errors.ts';
import { sharedSpecPath } from '../fakes/openapi-validator.ts';
import { startZendeskSandbox, type ZendeskSandbox } from '../fakes/zendesk-sandbox.ts';

const specsPresent = existsSync(fileURLToPath(sharedSpecPath('zendesk-support-oas.yaml')));

describe.skipIf(!specsPresent)('Zendesk client against the sandbox (requires ../shared/specs)', () => {
  let sandbox: ZendeskSandbox;
  let retries: RetryEvent[];

  function clientFor(overrides: Partial<ZendeskClientOptions> = {}) {
    return createZendeskClient({
      baseUrl: sandbox.url,
      email: sandbox.email,
      apiToken: sandbox.apiToken,
      baseBackoffMs: 20,
      maxBackoffMs: 200,
      onRetry: (event) => retries.push(event),
      ...overrides,
    });
  }

  function seedConversation() {
    const customer = sandbox.seedUser({ name: 'Casey Customer', role: 'end-user' });
    const agent = sandbox.seedUser({ name: 'Alex Agent', role: 'agent' });
    const group = sandbox.seedGroup({ name: 'Billing' });
    const ticket = sandbox.seedTicket({
      subject: 'Charged twice',
      description: 'I was charged twice this month.',
      requesterId: customer.id,
      tags: ['billing'],
    });
    return { customer, agent, group, ticket };
  }

  beforeEach(async () => {
    sandbox = await startZendeskSandbox();
    retries = [];
  });

  afterEach(async () => {
    const violations = sandbox.violations;
    await sandbox.close();
    expect(violations).toEqual([]);
  });

  it('reads a ticket, its comments with author roles, and a user', async () => {
    const { customer, agent, group, ticket } = seedConversation();
    sandbox.addComment(ticket.id, { authorId: agent.id, body: 'Looking into it', public: false });
    const helpdesk = createZendeskHelpdesk(clientFor());

    const read = await helpdesk.getTicket(String(ticket.id));
    expect(read).toMatchObject({
      id: String(ticket.id),
      subject: 'Charged twice',
      // An agent's comment moves a new ticket to open.
      status: 'open',
      requesterId: String(customer.id),
      tags: ['billing'],
      customFields: {},
    });
    expect(read.groupId).toBeUndefined();
    expect(Date.parse(read.updatedAt)).not.toBeNaN();

    const comments = await helpdesk.listComments(String(ticket.id));
    expect(comments.map((comment) => [comment.authorRole, comment.public, comment.body])).toEqual([
      ['end-user', true, 'I was charged twice this month.'],
      ['agent', false, 'Looking into it'],
    ]);
    expect(comments[0]?.via).toBe('email');

    expect(await helpdesk.getUser(String(customer.id))).toMatchObject({ name: 'Casey Customer', role: 'end-user' });
    expect(group.id).toBeGreaterThan(0);
    // Authenticated as email/token:api_token.
    expect(sandbox.requests.every((request) => request.status !== 401)).toBe(true);
  });

  it('follows comment cursor pages', async () => {
    const { customer, ticket } = seedConversation();
    for (let index = 0; index < 120; index++)
      sandbox.addComment(ticket.id, { authorId: customer.id, body: `more ${index}` });
    const comments = await createZendeskHelpdesk(clientFor()).listComments(String(ticket.id));
    expect(comments).toHaveLength(121);
    expect(comments.at(-1)?.body).toBe('more 119');
    expect(sandbox.requests.filter((request) => request.path.endsWith('/comments'))).toHaveLength(2);
  });

  it('writes an internal note with public:false sent explicitly, and a public reply', async () => {
    const { ticket } = seedConversation();
    const helpdesk = createZendeskHelpdesk(clientFor());
    await helpdesk.addInternalNote(String(ticket.id), {
      body: 'Draft for the agent [ai-triage:evt-1]',
      tags: ['ai_draft'],
    });
    const afterNote = await helpdesk.addPublicReply(String(ticket.id), {
      body: 'We refunded the duplicate charge.',
      tags: ['ai_replied'],
      status: 'pending',
    });

    const puts = sandbox.requests.filter(
      (request) => request.method === 'PUT' && request.operationId === 'UpdateTicket',
    );
    expect(
      puts.map((request) => (request.body as { ticket: { comment: { public: unknown } } }).ticket.comment.public),
    ).toEqual([false, true]);
    const stored = sandbox.comments(ticket.id);
    expect(stored.map((comment) => comment.public)).toEqual([true, false, true]);
    expect(stored[1]?.body).toContain('[ai-triage:evt-1]');
    expect(afterNote.status).toBe('pending');
    expect(afterNote.tags).toEqual(['billing', 'ai_draft', 'ai_replied']);
  });

  it('the sandbox reproduces why public:false must be explicit', async () => {
    const { ticket } = seedConversation();
    // A raw request without `public`: Zendesk copies the first comment's visibility (public).
    await clientFor().request('PUT', `/api/v2/tickets/${ticket.id}`, {
      body: { ticket: { comment: { body: 'meant to be internal' } } },
      schema: (await import('../../integration/zendesk/schemas.ts')).ticketResponseSchema,
    });
    expect(sandbox.comments(ticket.id).at(-1)?.public).toBe(true);
  });

  it('sets group, priority, tags and custom fields; tag endpoints add and remove', async () => {
    const { group, ticket } = seedConversation();
    const intentField = sandbox.seedTicketField({ type: 'text', title: 'AI intent' });
    const client = clientFor();
    const helpdesk = createZendeskHelpdesk(client);
    const updated = await helpdesk.updateTicket(String(ticket.id), {
      groupId: String(group.id),
      priority: 'high',
      customFields: [{ id: String(intentField.id), value: 'billing_query' }],
      comment: { body: 'Handoff package', public: false },
    });
    expect(updated).toMatchObject({ groupId: String(group.id), priority: 'high' });
    expect(updated.customFields[String(intentField.id)]).toBe('billing_query');

    expect(await helpdesk.addTags(String(ticket.id), ['ai_tier_2'])).toEqual(['billing', 'ai_tier_2']);
    expect(await client.removeTags(ticket.id, ['billing'])).toEqual(['ai_tier_2']);
    expect(await client.setTags(ticket.id, ['x', 'y'])).toEqual(['x', 'y']);
    expect(sandbox.ticket(ticket.id)?.tags).toEqual(['x', 'y']);
  });

  it('safe_update with a stale stamp is a CONFLICT (409) and is not retried', async () => {
    const { agent, ticket } = seedConversation();
    const helpdesk = createZendeskHelpdesk(clientFor());
    const before = await helpdesk.getTicket(String(ticket.id));
    // A human agent answers between our read and our write.
    sandbox.addComment(ticket.id, { authorId: agent.id, body: 'I will handle this one.' });
    const write = helpdesk.updateTicket(String(ticket.id), {
      comment: { body: 'AI note', public: false },
      ifUnmodifiedSince: before.updatedAt,
    });
    await expect(write).rejects.toMatchObject({ code: 'CONFLICT', status: 409, retryable: false });
    expect(sandbox.comments(ticket.id).some((comment) => comment.body === 'AI note')).toBe(false);
    expect(retries).toEqual([]);

    const fresh = await helpdesk.getTicket(String(ticket.id));
    await helpdesk.updateTicket(String(ticket.id), {
      comment: { body: 'AI note', public: false },
      ifUnmodifiedSince: fresh.updatedAt,
    });
    expect(sandbox.comments(ticket.id).at(-1)?.body).toBe('AI note');
  });

  it('maps errors to AppError without leaking the token', async () => {
    const helpdesk = createZendeskHelpdesk(clientFor());
    const missing = await helpdesk.getTicket('999999').catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(AppError);
    expect(missing).toMatchObject({ code: 'NOT_FOUND' });

    const badAuth = createZendeskHelpdesk(clientFor({ apiToken: 'wrong-token-value' }));
    const unauthorized = await badAuth.getTicket('1').catch((error: unknown) => error);
    expect(unauthorized).toMatchObject({ code: 'UNAUTHORIZED' });
    const text = JSON.stringify({
      message: (unauthorized as AppError).message,
      details: (unauthorized as AppError).details,
    });
    expect(text).not.toContain('wrong-token-value');
    expect(text).not.toContain(sandbox.apiToken);
    expect(text).not.toContain(Buffer.from(`${sandbox.email}/token:wrong-token-value`).toString('base64'));

    await expect(helpdesk.getTicket('12abc')).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('retries 429 after Retry-After and 500 with backoff: every ticket written exactly once', async () => {
    const customer = sandbox.seedUser({ name: 'C', role: 'end-user' });
    const tickets = Array.from({ length: 10 }, (_, index) =>
      sandbox.seedTicket({ subject: `Ticket ${index}`, requesterId: customer.id }),
    );
    sandbox.setFaultPlan({ rateLimitFraction: 0.3, serverErrorFraction: 0.1, retryAfterSeconds: [1, 2], seed: 4 });
    const helpdesk = createZendeskHelpdesk(clientFor({ maxAttempts: 8 }));

    await Promise.all(
      tickets.map((ticket) => helpdesk.addInternalNote(String(ticket.id), { body: `note for ${ticket.id}` })),
    );

    for (const ticket of tickets) {
      expect(sandbox.comments(ticket.id).filter((comment) => comment.body === `note for ${ticket.id}`)).toHaveLength(1);
    }
    const limited = sandbox.requests.filter((request) => request.fault === 'rate-limited');
    const failed = sandbox.requests.filter((request) => request.fault === 'server-error');
    expect(limited.length).toBeGreaterThan(0);
    expect(failed.length).toBeGreaterThan(0);
    // Each retry after a 429 came no earlier than Retry-After (10 ms slack for timer rounding).
    for (const rejected of limited) {
      const retry = sandbox.requests.find(
        (request) =>
          request.at >= rejected.at &&
          request !== rejected &&
          request.path === rejected.path &&
          request.method === 'PUT',
      );
      expect(retry).toBeDefined();
      expect(retry!.at - rejected.at).toBeGreaterThanOrEqual((rejected.retryAfterSeconds ?? 0) * 1000 - 10);
    }
    expect(retries.filter((event) => event.reason === 'rate-limited')).toHaveLength(limited.length);
    expect(retries.filter((event) => event.reason === 'server-error')).toHaveLength(failed.length);
  });

  it('gives up after maxAttempts with a retryable UPSTREAM_ERROR, and RATE_LIMITED carries Retry-After', async () => {
    const { ticket } = seedConversation();
    sandbox.setFaultPlan({ rateLimitFraction: 0, serverErrorFraction: 1 });
    const helpdesk = createZendeskHelpdesk(clientFor({ maxAttempts: 3 }));
    await expect(helpdesk.addInternalNote(String(ticket.id), { body: 'x' })).rejects.toMatchObject({
      code: 'UPSTREAM_ERROR',
      retryable: true,
    });
    expect(sandbox.requests.filter((request) => request.method === 'PUT')).toHaveLength(3);

    sandbox.setFaultPlan({ rateLimitFraction: 1, serverErrorFraction: 0, retryAfterSeconds: [30, 30] });
    // A Retry-After beyond what we are willing to wait goes back to the caller (the queue).
    const limited = createZendeskHelpdesk(clientFor({ maxRetryAfterSeconds: 5 }));
    await expect(limited.addInternalNote(String(ticket.id), { body: 'x' })).rejects.toMatchObject({
      code: 'RATE_LIMITED',
      retryAfterSeconds: 30,
    });
  });

  it('times out with UPSTREAM_TIMEOUT', async () => {
    const { ticket } = seedConversation();
    const hanging: typeof fetch = (_input, init) =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      });
    const client = clientFor({ fetch: hanging, timeoutMs: 50, maxAttempts: 2 });
    await expect(client.getTicket(ticket.id)).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    expect(retries.map((event) => event.reason)).toEqual(['timeout']);
  });

  it('imports the Help Center in full with cursor pages, then syncs incrementally', async () => {
    const billing = sandbox.seedSection({ name: 'Billing' });
    const account = sandbox.seedSection({ name: 'Account' });
    const base = Date.parse('2025-01-01T00:00:00Z');
    const seeded = Array.from({ length: 7 }, (_, index) =>
      sandbox.seedArticle({
        title: `Article ${index}`,
        body: `<h2>Step ${index}</h2><p>Open <b>Settings</b> &amp; choose&nbsp;Plan.</p><ul><li>One</li><li>Two</li></ul>`,
        sectionId: index % 2 === 0 ? billing.id : account.id,
        updatedAt: new Date(base + index * 60_000).toISOString(),
      }),
    );
    const draft = sandbox.seedArticle({
      title: 'Unpublished',
      body: '<p>wip</p>',
      sectionId: billing.id,
      draft: true,
      updatedAt: new Date(base + 600_000).toISOString(),
    });
    const client = clientFor();

    const full = await importHelpCenter(client, { pageSize: 3, knownIds: ['42424242'], now: () => base + 3_600_000 });
    expect(full.upserted.map((article) => article.id).sort()).toEqual(
      seeded.map((article) => String(article.id)).sort(),
    );
    expect(full.removed.sort()).toEqual([String(draft.id), '42424242'].sort());
    expect(full.nextStartTime).toBe(Math.floor((base + 3_600_000) / 1000));
    const first = full.upserted.find((article) => article.id === String(seeded[0]!.id));
    expect(first).toMatchObject({
      title: 'Article 0',
      productArea: 'Billing',
      updatedAt: seeded[0]!.updated_at,
      body: 'Step 0\nOpen Settings & choose Plan.\n- One\n- Two',
    });
    const articlePages = sandbox.requests.filter((request) => request.path === '/api/v2/help_center/articles');
    expect(articlePages).toHaveLength(3);
    expect(articlePages.every((request) => request.query['page[size]'] === '3')).toBe(true);

    // Changes after the import: one edit, one article turned back into a draft, one archived.
    const later = base + 2 * 3_600_000;
    sandbox.editArticle(seeded[1]!.id, { title: 'Article 1 (revised)', updatedAt: new Date(later).toISOString() });
    sandbox.editArticle(seeded[2]!.id, { draft: true, updatedAt: new Date(later + 1000).toISOString() });
    sandbox.archiveArticle(seeded[3]!.id);

    const incremental = await syncHelpCenterIncremental(client, { startTime: full.nextStartTime });
    expect(incremental.upserted.map((article) => article.title)).toEqual(['Article 1 (revised)']);
    expect(incremental.removed).toEqual([String(seeded[2]!.id)]);
    expect(incremental.nextStartTime).toBe(Math.floor((later + 1000) / 1000));
    expect(sandbox.requests.at(-1)?.query.start_time).toBe(String(full.nextStartTime));

    // The archived article is caught by the next full import against the KB's ids.
    const reimport = await importHelpCenter(client, { knownIds: seeded.map((article) => String(article.id)) });
    expect(reimport.removed).toContain(String(seeded[3]!.id));
  });

  it('follows incremental export pages by end_time', async () => {
    await sandbox.close();
    sandbox = await startZendeskSandbox({ incrementalPageSize: 2 });
    const section = sandbox.seedSection({ name: 'General' });
    const base = Date.parse('2025-02-01T00:00:00Z');
    for (let index = 0; index < 5; index++) {
      sandbox.seedArticle({
        title: `A${index}`,
        body: '<p>x</p>',
        sectionId: section.id,
        updatedAt: new Date(base + index * 1000).toISOString(),
      });
    }
    const result = await syncHelpCenterIncremental(clientFor(), { startTime: base / 1000 });
    expect(result.upserted.map((article) => article.title).sort()).toEqual(['A0', 'A1', 'A2', 'A3', 'A4']);
    expect(result.nextStartTime).toBe(base / 1000 + 4);
    const pages = sandbox.requests.filter((request) => request.path === '/api/v2/help_center/incremental/articles');
    expect(pages.map((request) => request.query.start_time)).toEqual([
      String(base / 1000),
      String(base / 1000 + 1),
      String(base / 1000 + 2),
      String(base / 1000 + 3),
    ]);
  });

  it('connects an account idempotently', async () => {
    const client = clientFor();
    const first = await connectZendeskAccount({ client, serviceUrl: 'https://agent.example.com' });
    expect(first.created.sort()).toEqual(
      [
        'webhook',
        'trigger:ticket_created',
        'trigger:comment_added',
        'ticket_field:ai_intent',
        'ticket_field:ai_confidence',
        'ticket_field:ai_tier',
      ].sort(),
    );
    expect(first.signingSecret).toBe(sandbox.signingSecret(first.webhookId));
    const [webhook] = sandbox.webhooks();
    expect(webhook).toMatchObject({
      endpoint: 'https://agent.example.com/webhooks/zendesk',
      http_method: 'POST',
      request_format: 'json',
      subscriptions: ['conditional_ticket_events'],
    });
    const created = sandbox.triggers().find((trigger) => trigger.title === TRIGGER_TITLES.ticket_created);
    expect(created?.actions).toEqual([
      {
        field: 'notification_webhook',
        value: [first.webhookId, '{"ticket_id":"{{ticket.id}}","event":"ticket_created"}'],
      },
    ]);
    expect(JSON.parse(triggerPayload('comment_added'))).toEqual({ ticket_id: '{{ticket.id}}', event: 'comment_added' });

    const second = await connectZendeskAccount({ client, serviceUrl: 'https://agent.example.com' });
    expect(second.created).toEqual([]);
    expect(second).toMatchObject({
      webhookId: first.webhookId,
      triggerIds: first.triggerIds,
      ticketFieldIds: first.ticketFieldIds,
    });
    expect(sandbox.webhooks()).toHaveLength(1);
    expect(sandbox.triggers()).toHaveLength(2);
    expect(sandbox.ticketFields()).toHaveLength(3);
  });
});

describe.skipIf(!specsPresent)('the sandbox rejects what the spec does not allow', () => {
  it('answers 400 and records a violation for off-spec requests', async () => {
    const sandbox = await startZendeskSandbox();
    try {
      const customer = sandbox.seedUser({ name: 'C', role: 'end-user' });
      const ticket = sandbox.seedTicket({ subject: 'S', requesterId: customer.id });
      const headers = {
        authorization: `Basic ${Buffer.from(`${sandbox.email}/token:${sandbox.apiToken}`).toString('base64')}`,
        'content-type': 'application/json',
      };
      const put = (body: unknown) =>
        fetch(`${sandbox.url}/api/v2/tickets/${ticket.id}`, { method: 'PUT', headers, body: JSON.stringify(body) });

      expect((await put({ ticket: { priority: 'critical' } })).status).toBe(400);
      expect((await put({ ticket: { comment: { body: 'x', public: 'false' } } })).status).toBe(400);
      expect((await put({ ticket: { comment: { body: 'x', is_public: false } } })).status).toBe(400);
      expect((await fetch(`${sandbox.url}/api/v2/tickets/${ticket.id}/frobnicate`, { headers })).status).toBe(400);
      expect((await fetch(`${sandbox.url}/api/v2/help_center/articles?page[size]=500`, { headers })).status).toBe(400);
      const webhook = await fetch(`${sandbox.url}/api/v2/webhooks`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ webhook: { name: 'x', endpoint: 'https://e.example' } }),
      });
      expect(webhook.status).toBe(400);

      expect(sandbox.violations.map((violation) => violation.errors.join('; '))).toEqual([
        expect.stringContaining('/ticket/priority'),
        expect.stringContaining('/ticket/comment/public'),
        expect.stringContaining('/ticket/comment/is_public'),
        expect.stringContaining('no such operation'),
        expect.stringContaining('page[size]'),
        expect.stringContaining('required property'),
      ]);
      expect(sandbox.ticket(ticket.id)?.priority).toBeNull();
      expect(sandbox.comments(ticket.id)).toHaveLength(1);
      // Wrong credentials are a 401, not a violation.
      const unauthorized = await fetch(`${sandbox.url}/api/v2/tickets/${ticket.id}`, {
        headers: { authorization: `Basic ${Buffer.from('bot@example.com/token:nope').toString('base64')}` },
      });
      expect(unauthorized.status).toBe(401);
      expect(sandbox.violations).toHaveLength(6);
    } finally {
      await sandbox.close();
    }
  });
});
