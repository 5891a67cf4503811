/**
 * Acceptance 2: 1,000 webhook deliveries for 300 ticket events, with concurrent and sequential
 * duplicates of one delivery (same invocation id) and re-fired triggers (new invocation id, same
 * event) → exactly one write-back per event, counted by our marker in the sandbox's comments.
 * 200 tickets are created (200 events); after those are handled, 100 customers reply (100 more).
 * The write limiter is raised: this test is about de-duplication, not Zendesk's rate limit.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedSpecPath } from '../fakes/openapi-validator.ts';
import { type Harness, markedComments, startHarness, webhookBody } from '../fixtures/zendesk-harness.ts';
import { waitFor } from '../helpers/backends.ts';

const specsPresent = existsSync(fileURLToPath(sharedSpecPath('zendesk-support-oas.yaml')));

const TEXTS = [
  'How do I reset my password? The reset email never arrives.',
  'I was charged twice for my subscription this month.',
  'Does Tandem support exporting my calendar to Outlook?',
  'The app crashes every time I open the shared calendar.',
  'Please delete my account and all of my data.',
];

interface Planned {
  ticketId: number;
  event: 'ticket_created' | 'comment_added';
  invocationId: string;
  /** Extra copies: same invocation concurrently, same invocation afterwards, a re-fired trigger. */
  copies: number;
}

/** Sends with at most `limit` requests in flight. */
async function inBatches<T>(items: T[], limit: number, send: (item: T) => Promise<void>) {
  let next = 0;
  const workers = Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await send(item);
    }
  });
  await Promise.all(workers);
}

describe.skipIf(!specsPresent)('1,000 deliveries for 300 ticket events (acceptance 2)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({ concurrency: 8, feature: { writesPerMinute: 1_000_000 } });
  });

  afterAll(async () => {
    await harness?.close();
  });

  it('writes back exactly once per event', async () => {
    const { sandbox } = harness;
    const statuses: number[] = [];
    let duplicatesAnswered = 0;
    const deliver = async (ticketId: number, event: Planned['event'], invocationId: string) => {
      const response = await harness.deliver({ body: webhookBody(ticketId, event), invocationId });
      statuses.push(response.status);
      if (response.json.duplicate === true) duplicatesAnswered += 1;
    };

    /** Each event: the delivery plus its duplicates; 1,000 deliveries in all. */
    const sendEvents = async (events: Planned[]) => {
      await inBatches(events, 16, async (planned) => {
        const { ticketId, event, invocationId, copies } = planned;
        // A concurrent duplicate of the same delivery.
        await Promise.all([deliver(ticketId, event, invocationId), deliver(ticketId, event, invocationId)]);
        // A sequential retry of the same delivery.
        if (copies >= 2) await deliver(ticketId, event, invocationId);
        // The trigger fired again for the same event (new invocation id).
        if (copies >= 3) await deliver(ticketId, event, `${invocationId}-refired`);
      });
    };

    const customers = Array.from({ length: 5 }, (_, index) =>
      sandbox.seedUser({ name: `Customer ${index}`, role: 'end-user' }),
    );
    const tickets = Array.from({ length: 200 }, (_, index) => {
      const text = TEXTS[index % TEXTS.length]!;
      return sandbox.seedTicket({ subject: text, description: text, requesterId: customers[index % 5]!.id });
    });
    // Deliveries: 100 created events x 4 + 100 created events x 3 + 100 replies x 3 = 1,000.
    const created: Planned[] = tickets.map((ticket, index) => ({
      ticketId: ticket.id,
      event: 'ticket_created',
      invocationId: `created-${ticket.id}`,
      copies: index < 100 ? 3 : 2,
    }));
    await sendEvents(created);
    await waitFor(() => harness.outcomes.length >= 200 && harness.drained(), 'created events handled', 60_000);

    const repliers = tickets.slice(0, 100);
    for (const ticket of repliers) {
      sandbox.addComment(ticket.id, { authorId: ticket.requester_id, body: 'Any news? This is still a problem.' });
    }
    const replies: Planned[] = repliers.map((ticket) => ({
      ticketId: ticket.id,
      event: 'comment_added',
      invocationId: `reply-${ticket.id}`,
      copies: 2,
    }));
    await sendEvents(replies);
    await waitFor(async () => harness.drained(), 'reply events handled', 60_000);

    // Every ticket event has exactly one comment with its marker.
    const expectedEvents = new Map<string, number>();
    for (const ticket of tickets) {
      const customerComments = sandbox
        .comments(ticket.id)
        .filter((comment) => comment.author_id === ticket.requester_id)
        .map((comment) => `${ticket.id}:${comment.id}`);
      for (const eventId of customerComments) expectedEvents.set(eventId, 0);
    }
    let notes = 0;
    for (const ticket of tickets) {
      for (const comment of markedComments(sandbox, ticket.id)) {
        notes += 1;
        const eventId = /ai-triage event (\d+:\d+)/.exec(comment.body + comment.html_body)?.[1] ?? '';
        expectedEvents.set(eventId, (expectedEvents.get(eventId) ?? 0) + 1);
      }
    }
    const perEvent = [...expectedEvents.values()];
    const puts = sandbox.requests.filter((request) => request.method === 'PUT' && request.status === 200).length;
    const outcomeKinds = harness.outcomes.reduce<Record<string, number>>((counts, { outcome }) => {
      counts[outcome.kind] = (counts[outcome.kind] ?? 0) + 1;
      return counts;
    }, {});

    console.log(
      `[acceptance 2] deliveries ${statuses.length}, 202 answers ${statuses.filter((s) => s === 202).length}, ` +
        `answered as duplicate at the webhook ${duplicatesAnswered}, jobs run ${harness.outcomes.length} ` +
        `(${JSON.stringify(outcomeKinds)}), ticket events ${expectedEvents.size}, marked notes ${notes}, ` +
        `successful ticket PUTs ${puts}, OAS violations ${sandbox.violations.length}`,
    );
    expect(statuses).toHaveLength(1_000);
    expect(statuses.every((status) => status === 202)).toBe(true);
    expect(expectedEvents.size).toBe(300);
    expect(perEvent.every((count) => count === 1)).toBe(true);
    expect(notes).toBe(300);
    expect(puts).toBe(300);
    expect(outcomeKinds.written).toBe(300);
    expect(outcomeKinds.skipped ?? 0).toBe(0);
    expect(sandbox.violations).toEqual([]);
  });
});
