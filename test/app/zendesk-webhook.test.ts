/**
 * POST /webhooks/zendesk and the ticket-event job, in one process against the OAS-validating
 * sandbox with the real triage engine (offline LLM, sample KB).
 * Acceptance 1 (signatures), 5 (a human reply between webhook and job), 6 (no spec violations),
 * and the write-back per tier, exactly once across a crash window and a concurrent change.
 */
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { TicketRecord, TriageEngine } from '../../server/triage/record.ts';
import type { LatestPointer, WriteRecord } from '../../server/zendesk/job.ts';
import { sharedSpecPath } from '../fakes/openapi-validator.ts';
import {
  type Harness,
  markedComments,
  rfc3339,
  seedCustomerTicket,
  startHarness,
  webhookBody,
} from '../fixtures/zendesk-harness.ts';
import { waitFor } from '../helpers/backends.ts';
import { memoryLogger } from '../helpers/logger.ts';

const specsPresent = existsSync(fileURLToPath(sharedSpecPath('zendesk-support-oas.yaml')));

const RESET_TEXT = 'How do I reset my password? I forgot it and cannot log in.';
const REFUND_TEXT = 'I was charged twice this month, please refund the second payment.';

async function jobsInStore(harness: Harness): Promise<number> {
  let count = 0;
  for await (const _entry of harness.store.namespace('jobs').entries()) count += 1;
  return count;
}

async function deliveryCount(harness: Harness, outcome: string): Promise<number> {
  const metric = await harness.metrics.webhookDeliveries.get();
  return metric.values.filter((value) => value.labels.outcome === outcome).reduce((sum, value) => sum + value.value, 0);
}

describe.skipIf(!specsPresent)('Zendesk webhook and job (requires ../shared/specs)', () => {
  let harness: Harness | undefined;

  afterEach(async () => {
    if (harness === undefined) return;
    const violations = harness.sandbox.violations;
    await harness.close();
    harness = undefined;
    expect(violations).toEqual([]);
  });

  describe('signatures (acceptance 1)', () => {
    it('answers 202 with a job id to a valid delivery, at once', async () => {
      harness = await startHarness({ startQueue: false });
      const { ticket } = seedCustomerTicket(harness.sandbox, RESET_TEXT);
      const response = await harness.deliver({ body: webhookBody(ticket.id, 'ticket_created'), invocationId: 'inv-1' });
      expect(response.status).toBe(202);
      expect(response.json).toMatchObject({
        accepted: true,
        jobId: `zendesk:acme:${ticket.id}:inv-1`,
        duplicate: false,
      });
      expect((await harness.queue.counts()).waiting).toBe(1);
      expect(await jobsInStore(harness)).toBe(1); // persisted before the 202
    });

    const tampered: Array<{ name: string; code: string; make: (body: string, secret: string, ts: string) => object }> =
      [
        {
          name: 'a tampered body',
          code: 'WEBHOOK_SIGNATURE_INVALID',
          make: (body, secret, ts) => ({
            body: body.replace('"ticket_created"', '"comment_added"'),
            signature: createHmac('sha256', secret).update(ts).update(body).digest('base64'),
          }),
        },
        {
          name: 'a wrong secret',
          code: 'WEBHOOK_SIGNATURE_INVALID',
          make: (body, _secret, ts) => ({
            body,
            signature: createHmac('sha256', 'not-the-secret').update(ts).update(body).digest('base64'),
          }),
        },
        {
          name: 'hex instead of base64',
          code: 'WEBHOOK_SIGNATURE_INVALID',
          make: (body, secret, ts) => ({
            body,
            signature: createHmac('sha256', secret).update(ts).update(body).digest('hex'),
          }),
        },
        {
          name: 'a "." between timestamp and body',
          code: 'WEBHOOK_SIGNATURE_INVALID',
          make: (body, secret, ts) => ({
            body,
            signature: createHmac('sha256', secret).update(`${ts}.${body}`).digest('base64'),
          }),
        },
      ];

    it.each(tampered)('rejects $name with 401 and enqueues nothing', async ({ code, make }) => {
      harness = await startHarness({ startQueue: false });
      const { ticket } = seedCustomerTicket(harness.sandbox, RESET_TEXT);
      const signedAt = Date.now();
      const ts = rfc3339(signedAt);
      const variant = make(webhookBody(ticket.id, 'ticket_created'), harness.secret, ts) as {
        body: string;
        signature: string;
      };
      const response = await harness.deliver({ ...variant, signedAt });
      expect(response.status).toBe(401);
      expect((response.json.error as { code: string }).code).toBe(code);
      expect(await harness.queue.counts()).toEqual({ waiting: 0, active: 0, dead: 0 });
      expect(await jobsInStore(harness)).toBe(0);
    });

    it('rejects a stale timestamp (6 minutes old, correctly signed) with WEBHOOK_TIMESTAMP_STALE', async () => {
      harness = await startHarness({ startQueue: false });
      const { ticket } = seedCustomerTicket(harness.sandbox, RESET_TEXT);
      const response = await harness.deliver({
        body: webhookBody(ticket.id, 'ticket_created'),
        signedAt: Date.now() - 6 * 60 * 1000,
      });
      expect(response.status).toBe(401);
      expect((response.json.error as { code: string }).code).toBe('WEBHOOK_TIMESTAMP_STALE');
      // 4 minutes old is inside the window.
      const fresh = await harness.deliver({
        body: webhookBody(ticket.id, 'ticket_created'),
        signedAt: Date.now() - 4 * 60 * 1000,
      });
      expect(fresh.status, JSON.stringify(fresh.json)).toBe(202);
      expect((await harness.queue.counts()).waiting).toBe(1);
    });

    it.each([
      ['the signature', ['signature']],
      ['the timestamp', ['timestamp']],
      ['both signature headers', ['signature', 'timestamp']],
    ] as const)('rejects a delivery missing %s with 401', async (_label, omit) => {
      harness = await startHarness({ startQueue: false });
      const { ticket } = seedCustomerTicket(harness.sandbox, RESET_TEXT);
      const response = await harness.deliver({ body: webhookBody(ticket.id), omit: [...omit] });
      expect(response.status).toBe(401);
      expect((response.json.error as { code: string }).code).toBe('WEBHOOK_SIGNATURE_INVALID');
      expect(await jobsInStore(harness)).toBe(0);
      expect(await deliveryCount(harness, 'rejected_missing')).toBe(1);
    });

    it('answers 400 with the JSON error shape to signed bad JSON and bad shapes, enqueueing nothing', async () => {
      harness = await startHarness({ startQueue: false });
      const bodies = [
        '{"ticket_id": "12"',
        '[]',
        '{"ticket": "12"}',
        '{"ticket_id": "abc"}',
        '{"ticket_id": "12", "event": "ticket_deleted"}',
        '{"ticket_id": "-4"}',
      ];
      for (const body of bodies) {
        const response = await harness.deliver({ body });
        expect(response.status, body).toBe(400);
        const error = response.json.error as { code: string; message: string; requestId: string };
        expect(['INVALID_JSON', 'BAD_REQUEST']).toContain(error.code);
        expect(error.requestId).toBeTruthy();
      }
      expect(await jobsInStore(harness)).toBe(0);
      expect(await deliveryCount(harness, 'bad_request')).toBe(bodies.length);
    });

    it('de-duplicates on the invocation id, serves unknown accounts with the one tenant, and never logs secrets', async () => {
      const { logger, output } = memoryLogger({ level: 'debug' });
      harness = await startHarness({ startQueue: false, logger });
      const { ticket } = seedCustomerTicket(harness.sandbox, RESET_TEXT);
      const body = webhookBody(ticket.id, 'ticket_created');
      const first = await harness.deliver({ body, invocationId: 'inv-dup' });
      const again = await harness.deliver({ body, invocationId: 'inv-dup' });
      const otherAccount = await harness.deliver({ body, invocationId: 'inv-other', accountId: '424242' });
      expect([first.status, again.status, otherAccount.status]).toEqual([202, 202, 202]);
      expect(again.json).toMatchObject({ duplicate: true, jobId: first.json.jobId });
      expect((await harness.queue.counts()).waiting).toBe(2);
      expect(await deliveryCount(harness, 'accepted')).toBe(2);
      expect(await deliveryCount(harness, 'duplicate')).toBe(1);
      await harness.deliver({ body, secret: 'wrong' });
      expect(output()).not.toContain(harness.secret);
      expect(output()).not.toContain(harness.sandbox.apiToken);
    });

    it('answers 404 TENANT_UNKNOWN when several Zendesk tenants exist and none has the account id', async () => {
      harness = await startHarness({ startQueue: false });
      await harness.tenants.put({
        id: 'globex',
        helpdesk: 'zendesk',
        zendesk: { subdomain: 'globex', email: 'a@globex.test', apiToken: 'x', webhookSecret: 'y', accountId: '77' },
      });
      const { ticket } = seedCustomerTicket(harness.sandbox, RESET_TEXT);
      const unknown = await harness.deliver({ body: webhookBody(ticket.id), accountId: '424242' });
      expect(unknown.status).toBe(404);
      const known = await harness.deliver({ body: webhookBody(ticket.id) });
      expect(known.status).toBe(202);
      expect(known.json.jobId).toMatch(/^zendesk:acme:/);
    });
  });

  describe('the job', () => {
    it('Tier 1: an internal note (public: false) with the draft, citations, reasons and marker; fields and tags', async () => {
      harness = await startHarness({ startQueue: false });
      const { sandbox } = harness;
      const fields = {
        intent: sandbox.seedTicketField({ type: 'text', title: 'AI intent' }).id,
        confidence: sandbox.seedTicketField({ type: 'decimal', title: 'AI confidence' }).id,
        tier: sandbox.seedTicketField({ type: 'integer', title: 'AI tier' }).id,
      };
      await harness.tenants.put({
        ...harness.tenant,
        settings: { ...harness.tenant.settings, customFieldIds: fields },
      });
      await harness.startQueue();
      const { ticket } = seedCustomerTicket(sandbox, RESET_TEXT);
      expect((await harness.deliver({ body: webhookBody(ticket.id, 'ticket_created') })).status).toBe(202);
      await waitFor(() => harness!.outcomes.length === 1, 'job done');

      const eventId = `${ticket.id}:${sandbox.comments(ticket.id)[0]!.id}`;
      expect(harness.outcomes[0]!.outcome).toEqual({ kind: 'written', eventId, write: 'internal_note' });
      const notes = markedComments(sandbox, ticket.id);
      expect(notes).toHaveLength(1);
      expect(notes[0]!.public).toBe(false);
      expect(notes[0]!.body).toContain(`[ai-triage event ${eventId}]`);
      expect(notes[0]!.body).toContain('AI draft reply');
      expect(notes[0]!.body).toMatch(/Sources:\n- .+https:\/\//);
      // The request itself said public: false (not inherited from the first comment).
      const put = sandbox.requests.find((request) => request.method === 'PUT' && request.status === 200);
      expect(put).toBeDefined();
      const sent = (put!.body as { ticket: { comment: { public: boolean }; safe_update: boolean } }).ticket;
      expect(sent.comment.public).toBe(false);
      expect(sent.safe_update).toBe(true);

      const after = sandbox.ticket(ticket.id)!;
      expect(after.tags).toEqual(expect.arrayContaining(['ai_tier1', 'ai_intent_password_reset']));
      const byId = new Map(after.custom_fields.map((field) => [field.id, field.value]));
      expect(byId.get(fields.intent)).toBe('password_reset');
      expect(byId.get(fields.tier)).toBe(1);
      expect(byId.get(fields.confidence)).toEqual(expect.any(Number));

      const tickets = harness.store.forTenant('acme').namespace<TicketRecord | WriteRecord | LatestPointer>('tickets');
      const record = (await tickets.get(eventId)) as TicketRecord;
      expect(record).toMatchObject({ tier: 1, action: 'internal_note', eventId, ticketId: String(ticket.id) });
      expect(await tickets.get(`write:${eventId}`)).toMatchObject({ kind: 'internal_note', recovered: false });
      expect(await tickets.get(`latest:${ticket.id}`)).toMatchObject({ eventId, key: eventId, outcome: 'written' });
    });

    it('Tier 3: a handoff note with group, priority and escalation tags', async () => {
      harness = await startHarness({ startQueue: false });
      const { sandbox } = harness;
      const billing = sandbox.seedGroup({ name: 'Billing' });
      await harness.tenants.put({
        ...harness.tenant,
        settings: { ...harness.tenant.settings, teamGroupIds: { billing: billing.id } },
      });
      await harness.startQueue();
      const { ticket } = seedCustomerTicket(sandbox, REFUND_TEXT);
      await harness.deliver({ body: webhookBody(ticket.id, 'ticket_created') });
      await waitFor(() => harness!.outcomes.length === 1, 'job done');
      expect(harness.outcomes[0]!.outcome).toMatchObject({ kind: 'written', write: 'escalation_note' });
      const [note] = markedComments(sandbox, ticket.id);
      expect(note?.public).toBe(false);
      expect(note?.body).toMatch(/AI triage: escalated \(tier 3\) to billing/);
      expect(note?.body).toContain('Summary:');
      expect(note?.body).toContain('Suggested action:');
      const after = sandbox.ticket(ticket.id)!;
      expect(after.group_id).toBe(billing.id);
      expect(after.priority).not.toBeNull();
      expect(after.tags).toEqual(expect.arrayContaining(['ai_escalated', 'ai_tier3', 'ai_intent_refund_request']));
    });

    it('Tier 0: a public reply with article links, the tier-0 status and tags', async () => {
      const replyEngine: TriageEngine = {
        async triage(input) {
          return tier0Record(input.tenantId, input.ticketId, input.eventId);
        },
      };
      harness = await startHarness({ engine: replyEngine, settings: { tier0Status: 'solved' } });
      const { sandbox } = harness;
      const { ticket } = seedCustomerTicket(sandbox, RESET_TEXT);
      await harness.deliver({ body: webhookBody(ticket.id, 'ticket_created') });
      await waitFor(() => harness!.outcomes.length === 1, 'job done');
      const reply = sandbox.comments(ticket.id).at(-1)!;
      expect(reply.public).toBe(true);
      expect(reply.html_body).toContain('<a href="https://help.example.com/articles/1">Reset your password</a>');
      expect(reply.html_body).toContain(`<!-- ai-triage event ${ticket.id}:`);
      expect(reply.body).not.toContain('ai-triage'); // the customer never sees the marker
      const after = sandbox.ticket(ticket.id)!;
      expect(after.status).toBe('solved');
      expect(after.tags).toEqual(expect.arrayContaining(['ai_tier0', 'ai_intent_password_reset']));
    });

    it('a human reply between the webhook and the job: no AI note (acceptance 5)', async () => {
      harness = await startHarness({ startQueue: false });
      const { sandbox } = harness;
      const agent = sandbox.seedUser({ name: 'Alex Agent', role: 'agent' });
      const { ticket } = seedCustomerTicket(sandbox, RESET_TEXT);
      expect((await harness.deliver({ body: webhookBody(ticket.id, 'ticket_created') })).status).toBe(202);
      sandbox.addComment(ticket.id, { authorId: agent.id, body: 'Hi Casey, I am on it.', public: true });
      await harness.startQueue();
      await waitFor(() => harness!.outcomes.length === 1, 'job done');
      expect(harness.outcomes[0]!.outcome).toMatchObject({ kind: 'skipped', reason: 'human_replied' });
      expect(markedComments(sandbox, ticket.id)).toHaveLength(0);
      expect(sandbox.requests.filter((request) => request.method !== 'GET')).toHaveLength(0);
      console.log(
        `[acceptance 5] human reply before the job: outcome ${JSON.stringify(harness.outcomes[0]!.outcome)}, writes 0`,
      );
    });

    it('a human reply that lands while triage runs: the safe update conflicts, the guard re-runs, no note', async () => {
      let harnessRef: Harness | undefined;
      let agentId = 0;
      const inner: { engine?: TriageEngine } = {};
      const racingEngine: TriageEngine = {
        async triage(input) {
          harnessRef!.sandbox.addComment(Number(input.ticketId), { authorId: agentId, body: 'Taking this one.' });
          return inner.engine!.triage(input);
        },
      };
      inner.engine = { triage: async (input) => tier1Record(input.tenantId, input.ticketId, input.eventId) };
      harness = await startHarness({ engine: racingEngine });
      harnessRef = harness;
      agentId = harness.sandbox.seedUser({ name: 'Alex Agent', role: 'agent' }).id;
      const { ticket } = seedCustomerTicket(harness.sandbox, RESET_TEXT);
      await harness.deliver({ body: webhookBody(ticket.id) });
      await waitFor(() => harness!.outcomes.length === 1, 'job done');
      expect(harness.outcomes[0]!.outcome).toMatchObject({ kind: 'skipped', reason: 'human_replied' });
      expect(markedComments(harness.sandbox, ticket.id)).toHaveLength(0);
      const conflicts = harness.sandbox.requests.filter(
        (request) => request.method === 'PUT' && request.status === 409,
      );
      expect(conflicts).toHaveLength(1);
    });

    it('a crash between "written" and "recorded" never yields a second note: the marker is found', async () => {
      harness = await startHarness();
      const { sandbox } = harness;
      const { ticket, customer } = seedCustomerTicket(sandbox, RESET_TEXT);
      await harness.deliver({ body: webhookBody(ticket.id, 'ticket_created') });
      await waitFor(() => harness!.outcomes.length === 1, 'first job');
      const eventId = (harness.outcomes[0]!.outcome as { eventId: string }).eventId;
      // Forget the write record, as if the process died right after the PUT, then deliver again.
      const tickets = harness.store.forTenant('acme').namespace('tickets');
      expect(await tickets.delete(`write:${eventId}`)).toBe(true);
      await harness.deliver({ body: webhookBody(ticket.id, 'ticket_created') });
      await waitFor(() => harness!.outcomes.length === 2, 'second job');
      expect(harness.outcomes[1]!.outcome).toEqual({ kind: 'already_written', eventId });
      expect(markedComments(sandbox, ticket.id)).toHaveLength(1);
      expect(await tickets.get(`write:${eventId}`)).toMatchObject({ recovered: true });

      // A customer follow-up is a new event: one more note, with its own marker.
      sandbox.addComment(ticket.id, { authorId: customer.id, body: 'It still does not work, the link expired.' });
      await harness.deliver({ body: webhookBody(ticket.id, 'comment_added') });
      await waitFor(() => harness!.outcomes.length === 3, 'third job');
      expect(harness.outcomes[2]!.outcome).toMatchObject({ kind: 'written' });
      expect(markedComments(sandbox, ticket.id)).toHaveLength(2);
    });

    it.each([
      ['a solved ticket', { status: 'solved' as const }, RESET_TEXT, 'ticket_closed'],
      ['an out-of-office reply', {}, 'Automatic reply: I am out of the office until Monday.', 'auto_responder'],
    ])('skips %s', async (_label, ticketOptions, text, reason) => {
      harness = await startHarness();
      const customer = harness.sandbox.seedUser({ name: 'C', role: 'end-user' });
      const ticket = harness.sandbox.seedTicket({
        subject: text,
        description: text,
        requesterId: customer.id,
        ...ticketOptions,
      });
      await harness.deliver({ body: webhookBody(ticket.id) });
      await waitFor(() => harness!.outcomes.length === 1, 'job done');
      expect(harness.outcomes[0]!.outcome).toMatchObject({ kind: 'skipped', reason });
      expect(markedComments(harness.sandbox, ticket.id)).toHaveLength(0);
    });

    it('skips a ticket that no longer exists without dead-lettering the job', async () => {
      harness = await startHarness();
      await harness.deliver({ body: webhookBody(987654) });
      await waitFor(() => harness!.outcomes.length === 1, 'job done');
      expect(harness.outcomes[0]!.outcome).toEqual({ kind: 'skipped', reason: 'ticket_not_found' });
      expect((await harness.queue.counts()).dead).toBe(0);
    });
  });
});

function baseRecord(tenantId: string, ticketId: string, eventId: string): TicketRecord {
  return {
    tenantId,
    ticketId,
    eventId,
    createdAt: new Date().toISOString(),
    language: 'en',
    classification: {
      intent: 'password_reset',
      confidence: 0.97,
      outOfScope: false,
      urgency: 'low',
      language: 'en',
      sentiment: { score: 0, frustrated: false },
      source: 'local',
      alternatives: [],
    },
    frustrated: false,
    injection: { suspected: false, markers: [] },
    tier: 1,
    priority: 'low',
    tierReasons: ['test engine'],
    action: 'internal_note',
    retrieval: { answerable: true, gateScore: 0.9, passagesConsidered: 3 },
    citations: [
      {
        articleId: '1',
        title: 'Reset your password',
        url: 'https://help.example.com/articles/1',
        stale: false,
        score: 0.9,
      },
    ],
    draft: {
      text: 'You can reset your password from the sign-in page.\n\nChoose "Forgot password" and follow the email.',
      provider: 'offline',
      model: 'offline',
      grounding: { passed: true, checks: [], unsupportedSentences: [] },
    },
    escalation: null,
    budget: null,
    cost: {
      inputTokens: 0,
      outputTokens: 0,
      cacheCreationInputTokens: 0,
      cacheReadInputTokens: 0,
      costUsd: 0,
      calls: [],
    },
    timings: {},
    versions: { engine: 'test', prompt: 'test', classifierModel: 'test', llmProvider: 'offline' },
  };
}

function tier1Record(tenantId: string, ticketId: string, eventId: string): TicketRecord {
  return baseRecord(tenantId, ticketId, eventId);
}

function tier0Record(tenantId: string, ticketId: string, eventId: string): TicketRecord {
  return { ...baseRecord(tenantId, ticketId, eventId), tier: 0, action: 'public_reply', tierReasons: ['all met'] };
}
