/** The feedback loop through the admin API: verdicts update accuracy, flag articles, log corrections, keep regression cases. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultSettings } from '../../server/tenants/settings.ts';
import { type RunningService, startService } from '../helpers/service.ts';

const TOKEN = 'admin-token-feedback-test';

describe('feedback loop', () => {
  let service: RunningService;
  const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

  async function triageAndStore(ticketId: string, body: string) {
    const record = await service.services.triage.engine.triage({
      tenantId: 'acme',
      ticketId,
      eventId: `${ticketId}:1`,
      body,
      settings: defaultSettings(),
    });
    // As the helpdesk job does: the record under its event id and a pointer to the latest event.
    const tickets = service.runtime.store.forTenant('acme').namespace('tickets');
    await tickets.set(record.eventId, record);
    await tickets.set(`latest:${ticketId}`, { eventId: record.eventId, key: record.eventId, outcome: 'written' });
    return record;
  }

  beforeAll(async () => {
    service = await startService({
      ADMIN_TOKEN: TOKEN,
      ZENDESK_SUBDOMAIN: 'acme',
      ZENDESK_EMAIL: 'ops@acme.example',
      ZENDESK_API_TOKEN: 'zendesk-token-for-test',
      ZENDESK_API_URL: 'http://127.0.0.1:9',
    });
  });
  afterAll(async () => {
    await service.close();
  });

  it('records an approval and counts it toward the intent’s measured accuracy', async () => {
    const record = await triageAndStore('101', 'I forgot my password, how do I reset it?');
    const response = await fetch(`${service.url}/admin/tenants/acme/feedback`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ ticketId: '101', verdict: 'approved', reviewer: 'sam' }),
    });
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ recorded: true, eventId: record.eventId, regressionCase: null });
    const accuracyResponse = await fetch(`${service.url}/admin/tenants/acme/feedback/accuracy`, { headers: auth });
    const accuracy = (await accuracyResponse.json()) as { intents: Record<string, unknown> };
    expect(accuracy.intents[record.classification.intent]).toEqual({ reviews: 1, accuracy: 1 });
    expect(await service.services.feedback.intentAccuracy('acme')).toEqual(accuracy.intents);
  });

  it('turns a correction into a regression case, flags the cited articles and exports a training line', async () => {
    const record = await triageAndStore('102', 'How long is the password reset link valid?');
    expect(record.citations.length).toBeGreaterThan(0);
    const response = await fetch(`${service.url}/admin/tenants/acme/feedback`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        ticketId: '102',
        verdict: 'corrected',
        correctIntent: 'password_reset',
        correctedReply: 'The reset link is valid for 60 minutes and can be used once.',
        note: 'Answer the question asked first.',
      }),
    });
    expect(response.status).toBe(201);
    expect(((await response.json()) as { regressionCase: string }).regressionCase).toBe(record.eventId);
    const cases = await service.services.feedback.regressionCases('acme');
    expect(cases).toContainEqual(
      expect.objectContaining({
        id: record.eventId,
        expectedIntent: 'password_reset',
        text: record.text,
        neverTier0: false,
      }),
    );
    const flaggedResponse = await fetch(`${service.url}/admin/tenants/acme/feedback/flagged-articles`, {
      headers: auth,
    });
    const flagged = (await flaggedResponse.json()) as { articles: Record<string, number> };
    for (const citation of record.citations) expect(flagged.articles[citation.articleId]).toBe(1);
    const exported = await (
      await fetch(`${service.url}/admin/tenants/acme/feedback/fine-tuning.jsonl`, { headers: auth })
    ).text();
    const lines = exported
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(1);
    expect(lines[0].messages[1]).toEqual({
      role: 'assistant',
      content: 'The reset link is valid for 60 minutes and can be used once.',
    });
    const accuracy = await service.services.feedback.intentAccuracy('acme');
    expect(accuracy[record.classification.intent]?.reviews).toBeGreaterThanOrEqual(1);
  });

  it('retrains the tenant’s intent model on its corrections, and the engine uses it', async () => {
    const text = 'The quarterly flux reticulator keeps spinning forever on the gantry screen';
    const before = await triageAndStore('103', text);
    expect(before.classification.intent).not.toBe('billing_query');
    for (const verdict of ['corrected', 'corrected', 'corrected']) {
      const recorded = await fetch(`${service.url}/admin/tenants/acme/feedback`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ ticketId: '103', verdict, correctIntent: 'billing_query' }),
      });
      expect(recorded.status).toBe(201);
    }
    const retrain = await fetch(`${service.url}/admin/tenants/acme/model/retrain`, { method: 'POST', headers: auth });
    expect(retrain.status).toBe(201);
    const report = (await retrain.json()) as { corrections: number; version: number; trainExamples: number };
    expect(report.corrections).toBeGreaterThanOrEqual(3);
    expect(report.version).toBe(1);
    const after = await triageAndStore('104', text);
    expect(after.classification.intent).toBe('billing_query');
    expect(after.versions.classifierModel).not.toBe(before.versions.classifierModel);
    // Another tenant still runs on the default model.
    const other = await service.services.triage.engine.triage({
      tenantId: 'globex',
      ticketId: '1',
      eventId: '1:1',
      body: text,
      settings: defaultSettings(),
    });
    expect(other.versions.classifierModel).toBe(before.versions.classifierModel);
  });

  it('rejects bad input, unknown tickets and tenants, and missing tokens, storing nothing', async () => {
    const before = (await service.services.feedback.corrections('acme')).length;
    const bad = await fetch(`${service.url}/admin/tenants/acme/feedback`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ ticketId: '101', verdict: 'maybe' }),
    });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('VALIDATION_FAILED');
    const unknownTicket = await fetch(`${service.url}/admin/tenants/acme/feedback`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ ticketId: '999', verdict: 'approved' }),
    });
    expect(unknownTicket.status).toBe(404);
    const unknownTenant = await fetch(`${service.url}/admin/tenants/globex/feedback`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ ticketId: '101', verdict: 'approved' }),
    });
    expect(unknownTenant.status).toBe(404);
    const noToken = await fetch(`${service.url}/admin/tenants/acme/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ticketId: '101', verdict: 'approved' }),
    });
    expect(noToken.status).toBe(401);
    expect((await service.services.feedback.corrections('acme')).length).toBe(before);
  });
});
