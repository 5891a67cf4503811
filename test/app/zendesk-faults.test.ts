/**
 * Acceptance 3: the sandbox answers 429 (Retry-After 1-2 s) to 30% and 500 to 10% of ticket
 * writes → every ticket is written exactly once, and after each 429 the next write to that
 * ticket comes no earlier than Retry-After (read from the sandbox's request log).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedSpecPath } from '../fakes/openapi-validator.ts';
import { type Harness, markedComments, startHarness, webhookBody } from '../fixtures/zendesk-harness.ts';
import { waitFor } from '../helpers/backends.ts';

const specsPresent = existsSync(fileURLToPath(sharedSpecPath('zendesk-support-oas.yaml')));
const TICKETS = 40;

describe.skipIf(!specsPresent)('write-back under 429s and 500s (acceptance 3)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({ concurrency: 8, feature: { writesPerMinute: 1_000_000 } });
  });

  afterAll(async () => {
    await harness?.close();
  });

  it('writes every ticket once and waits as long as Retry-After asks', async () => {
    const { sandbox } = harness;
    sandbox.setFaultPlan({ rateLimitFraction: 0.3, serverErrorFraction: 0.1, retryAfterSeconds: [1, 2], seed: 20_251 });
    const customer = sandbox.seedUser({ name: 'Casey', role: 'end-user' });
    const tickets = Array.from({ length: TICKETS }, (_, index) =>
      sandbox.seedTicket({
        subject: `Password reset ${index}`,
        description: 'How do I reset my password? The reset email never arrives.',
        requesterId: customer.id,
      }),
    );
    for (const ticket of tickets) {
      expect((await harness.deliver({ body: webhookBody(ticket.id, 'ticket_created') })).status).toBe(202);
    }
    await waitFor(
      async () => harness.outcomes.length >= TICKETS && (await harness.drained()),
      'all tickets handled',
      50_000,
    );

    const writes = sandbox.requests.filter(
      (request) => request.method === 'PUT' && request.path.startsWith('/api/v2/tickets/'),
    );
    const limited = writes.filter((request) => request.status === 429);
    const failed = writes.filter((request) => request.status === 500);
    const ok = writes.filter((request) => request.status === 200);
    // For each 429: the gap to the next write of the same ticket.
    const gaps = limited.map((request) => {
      const next = writes.find((later) => later.path === request.path && later.at > request.at);
      return {
        retryAfterMs: request.retryAfterSeconds! * 1000,
        waitedMs: next === undefined ? undefined : next.at - request.at,
      };
    });
    const shortest = Math.min(...gaps.map((gap) => (gap.waitedMs ?? Number.POSITIVE_INFINITY) - gap.retryAfterMs));
    const perTicket = tickets.map((ticket) => markedComments(sandbox, ticket.id).length);

    console.log(
      `[acceptance 3] tickets ${TICKETS}, write attempts ${writes.length}: 429 ${limited.length}, 500 ${failed.length}, ` +
        `200 ${ok.length}; waits after 429: ${gaps.length}, shortest margin over Retry-After ${shortest} ms; ` +
        `jobs run ${harness.outcomes.length}, dead ${(await harness.queue.counts()).dead}, OAS violations ${sandbox.violations.length}`,
    );
    expect(limited.length).toBeGreaterThan(0);
    expect(failed.length).toBeGreaterThan(0);
    expect(perTicket.every((count) => count === 1)).toBe(true);
    expect(ok).toHaveLength(TICKETS);
    expect(gaps.every((gap) => gap.waitedMs !== undefined)).toBe(true);
    // Timers may fire a millisecond early; never earlier than Retry-After beyond that.
    for (const gap of gaps) expect(gap.waitedMs!).toBeGreaterThanOrEqual(gap.retryAfterMs - 2);
    expect((await harness.queue.counts()).dead).toBe(0);
    expect(sandbox.violations).toEqual([]);
  });
});
