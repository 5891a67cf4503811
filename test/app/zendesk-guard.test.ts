/** The guard (pure, table-tested) and the write composition per tier. */
import { describe, expect, it } from 'vitest';
import type { HelpdeskComment } from '../../integration/helpdesk-port.ts';
import { defaultSettings } from '../../server/tenants/settings.ts';
import type { TicketRecord } from '../../server/triage/record.ts';
import {
  decideGuard,
  type GuardInput,
  hasEventMarker,
  looksAutomated,
  markerText,
} from '../../server/zendesk/guard.ts';
import { composeWrite, toTag } from '../../server/zendesk/write-back.ts';

const NOW = Date.parse('2025-06-01T12:00:00Z');
const minutesAgo = (minutes: number) => new Date(NOW - minutes * 60_000).toISOString();

let nextId = 100;
function comment(author: 'customer' | 'agent' | 'bot' | 'assignee', body: string, minutes = 10): HelpdeskComment {
  const ids = { customer: '1', agent: '2', bot: '9', assignee: '3' } as const;
  return {
    id: String(nextId++),
    authorId: ids[author],
    authorRole: author === 'customer' ? 'end-user' : 'agent',
    public: author !== 'bot',
    body,
    createdAt: minutesAgo(minutes),
  };
}

function input(comments: HelpdeskComment[], overrides: Partial<GuardInput> = {}): GuardInput {
  return {
    ticket: { status: 'open', subject: 'Cannot log in', requesterId: '1' },
    comments,
    requester: { email: 'casey@example.com', role: 'end-user' },
    now: NOW,
    ...overrides,
  };
}

const ourNote = (eventId: string, minutes = 5) => comment('bot', `Draft...\n\n${markerText(eventId)}`, minutes);

describe('decideGuard', () => {
  const table: Array<[string, GuardInput, string]> = [
    ['a new customer message', input([comment('customer', 'I cannot log in')]), 'act'],
    [
      'a customer reply after our note',
      input([comment('customer', 'I cannot log in', 30), ourNote('1:x', 20), comment('customer', 'Still broken', 1)]),
      'act',
    ],
    [
      'a solved ticket',
      input([comment('customer', 'hi')], { ticket: { status: 'solved', subject: 's' } }),
      'ticket_closed',
    ],
    [
      'a closed ticket',
      input([comment('customer', 'hi')], { ticket: { status: 'closed', subject: 's' } }),
      'ticket_closed',
    ],
    ['no customer message', input([comment('agent', 'Proactive notice')]), 'no_customer_message'],
    ['our note is the latest comment', input([comment('customer', 'help', 20), ourNote('1:a', 1)]), 'latest_is_ours'],
    [
      'the bot user (by id) wrote last, without a marker',
      input([comment('customer', 'help', 20), { ...comment('bot', 'Hello', 1) }], { botUserId: '9' }),
      'latest_is_ours',
    ],
    [
      'a human agent replied after the customer',
      input([comment('customer', 'help', 20), comment('agent', 'On it', 5)]),
      'human_replied',
    ],
    [
      'a human agent left an internal note after the customer',
      input([comment('customer', 'help', 20), { ...comment('agent', 'checking logs', 5), public: false }]),
      'human_replied',
    ],
    [
      'an agent replied before the customer wrote again',
      input([
        comment('customer', 'help', 30),
        comment('agent', 'Try this', 20),
        comment('customer', 'Did not work', 1),
      ]),
      'act',
    ],
    [
      'assigned to a human who has commented',
      input(
        [comment('customer', 'help', 30), comment('assignee', 'Looking', 20), comment('customer', 'Any news?', 1)],
        { ticket: { status: 'open', subject: 's', requesterId: '1', assigneeId: '3' } },
      ),
      'assignee_working',
    ],
    [
      'assigned to a human who has not commented yet',
      input([comment('customer', 'help', 1)], {
        ticket: { status: 'open', subject: 's', requesterId: '1', assigneeId: '3' },
      }),
      'act',
    ],
    [
      'assigned to the bot itself',
      input([comment('customer', 'help', 1)], {
        ticket: { status: 'open', subject: 's', requesterId: '1', assigneeId: '9' },
        botUserId: '9',
      }),
      'act',
    ],
    [
      'an out-of-office subject',
      input([comment('customer', 'Back Monday')], {
        ticket: { status: 'open', subject: 'Out of Office: Casey', requesterId: '1' },
      }),
      'auto_responder',
    ],
    [
      'a mailer-daemon requester',
      input([comment('customer', 'Your message could not be delivered')], {
        requester: { email: 'MAILER-DAEMON@mail.example.com', role: 'end-user' },
      }),
      'auto_responder',
    ],
    [
      'a noreply requester',
      input([comment('customer', 'Your order shipped')], {
        requester: { email: 'no-reply@shop.example', role: 'end-user' },
      }),
      'auto_responder',
    ],
    [
      'four AI writes in the last hour',
      input([
        comment('customer', 'a', 50),
        ourNote('1:a', 49),
        comment('customer', 'b', 40),
        ourNote('1:b', 39),
        comment('customer', 'c', 30),
        ourNote('1:c', 29),
        comment('customer', 'd', 20),
        ourNote('1:d', 19),
        comment('customer', 'e', 1),
      ]),
      'loop_limit',
    ],
    [
      'four AI writes, most over an hour ago',
      input([
        comment('customer', 'a', 200),
        ourNote('1:a', 199),
        comment('customer', 'b', 180),
        ourNote('1:b', 179),
        comment('customer', 'c', 120),
        ourNote('1:c', 119),
        comment('customer', 'd', 20),
        ourNote('1:d', 19),
        comment('customer', 'e', 1),
      ]),
      'act',
    ],
  ];

  it.each(table)('%s → %s', (_label, guardInput, expected) => {
    const decision = decideGuard(guardInput);
    expect(decision.act ? 'act' : decision.reason).toBe(expected);
  });

  it('acts on the latest customer comment (the event)', () => {
    const latest = comment('customer', 'second', 1);
    const decision = decideGuard(input([comment('customer', 'first', 30), ourNote('1:a', 20), latest]));
    expect(decision).toEqual({ act: true, trigger: latest });
  });

  it('finds the marker of one event only', () => {
    const comments = [comment('customer', 'x'), ourNote('7:100')];
    expect(hasEventMarker(comments, '7:100')).toBe(true);
    expect(hasEventMarker(comments, '7:10')).toBe(false);
    const hidden = { ...comment('bot', 'Reply'), htmlBody: '<p>Reply</p><!-- ai-triage event 7:200 -->' };
    expect(hasEventMarker([hidden], '7:200')).toBe(true);
  });

  it('does not mistake ordinary messages for auto-replies', () => {
    expect(looksAutomated('Reply to my last ticket', 'Hi, I am back with the same problem', 'casey@example.com')).toBe(
      false,
    );
    expect(looksAutomated('Delivery Status Notification (Failure)', '', 'casey@example.com')).toBe(true);
  });
});

function record(overrides: Partial<TicketRecord>): TicketRecord {
  return {
    tenantId: 't',
    ticketId: '7',
    eventId: '7:100',
    createdAt: '2025-06-01T12:00:00Z',
    language: 'en',
    classification: {
      intent: 'Billing Query',
      confidence: 0.8123,
      outOfScope: false,
      urgency: 'medium',
      language: 'en',
      sentiment: { score: 0, frustrated: false },
      source: 'local',
      alternatives: [],
    },
    frustrated: false,
    injection: { suspected: false, markers: [] },
    tier: 1,
    priority: 'normal',
    tierReasons: ['Tier 0 is not enabled'],
    action: 'internal_note',
    retrieval: { answerable: true, gateScore: 0.8, passagesConsidered: 2 },
    citations: [{ articleId: 'a', title: 'Invoices', url: 'https://help.example/a', stale: true, score: 0.7 }],
    draft: {
      text: 'Your invoice is under Billing.',
      provider: 'offline',
      model: 'o',
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
    versions: { engine: 'e', prompt: 'p', classifierModel: 'c', llmProvider: 'offline' },
    ...overrides,
  };
}

describe('composeWrite', () => {
  const ticket = { tags: ['vip'], updatedAt: '2025-06-01T11:00:00Z' };
  const settings = { ...defaultSettings(), customFieldIds: { intent: 11, tier: 13 }, teamGroupIds: { billing: 55 } };

  it('Tier 1: an explicit private note with draft, stale-marked citations, reasons and marker; tags kept', () => {
    const { kind, update } = composeWrite(record({}), ticket, settings, '7:100');
    expect(kind).toBe('internal_note');
    expect(update.comment?.public).toBe(false);
    expect(update.comment?.body).toContain('Your invoice is under Billing.');
    expect(update.comment?.body).toContain('- Invoices: https://help.example/a (may be out of date)');
    expect(update.comment?.body).toContain('- Tier 0 is not enabled');
    expect(update.comment?.body).toContain('[ai-triage event 7:100]');
    expect(update.tags).toEqual(['vip', 'ai_tier1', 'ai_intent_billing_query']);
    expect(update.customFields).toEqual([
      { id: '11', value: 'Billing Query' },
      { id: '13', value: 1 },
    ]);
    expect(update.ifUnmodifiedSince).toBe(ticket.updatedAt);
    expect(update.groupId).toBeUndefined();
  });

  it('Tier 2/3: the handoff package, the group of the team, priority and escalation tags', () => {
    const escalated = record({
      tier: 3,
      action: 'escalate',
      priority: 'high',
      escalation: {
        team: 'billing',
        priority: 'urgent',
        summary: 'Charged twice. Wants a refund.',
        whatWasTried: ['Classified as refund_request'],
        whyItFailed: ['Refunds always go to a human'],
        suggestedAction: 'Refund the duplicate charge.',
      },
    });
    const { kind, update } = composeWrite(escalated, ticket, settings, '7:100');
    expect(kind).toBe('escalation_note');
    expect(update.comment?.public).toBe(false);
    expect(update.groupId).toBe('55');
    expect(update.priority).toBe('urgent');
    expect(update.comment?.body).toMatch(/Summary:\nCharged twice/);
    expect(update.comment?.body).toContain('- Refunds always go to a human');
    expect(update.tags).toEqual(['vip', 'ai_escalated', 'ai_tier3', 'ai_intent_billing_query']);
    // An unmapped team: no group change.
    const unmapped = composeWrite(
      { ...escalated, escalation: { ...escalated.escalation!, team: 'legal' } },
      ticket,
      settings,
      '7:100',
    );
    expect(unmapped.update.groupId).toBeUndefined();
  });

  it('Tier 0: a public HTML reply with links, the hidden marker, the status and an event tag', () => {
    const { kind, update } = composeWrite(record({ tier: 0, action: 'public_reply' }), ticket, settings, '7:100');
    expect(kind).toBe('public_reply');
    expect(update.comment).toMatchObject({ public: true, html: true });
    expect(update.comment?.body).toContain('<a href="https://help.example/a">Invoices</a>');
    expect(update.comment?.body).toContain('<!-- ai-triage event 7:100 -->');
    expect(update.status).toBe('pending');
    expect(update.tags).toEqual(['vip', 'ai_tier0', 'ai_intent_billing_query', 'ai_evt_7_100']);
  });

  it('makes valid tags', () => {
    expect(toTag('ai_intent_Refund Request!')).toBe('ai_intent_refund_request');
  });
});
