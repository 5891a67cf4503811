/**
 * The shipped sample tickets and adversarial probes: shape and coverage (every default intent,
 * frustrated repeat customers, the seven languages, injections, non-existent features).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { verifyDraft } from '../../server/triage/grounding/guard.ts';
import { createKnowledgeIndex } from '../../server/triage/knowledge/index.ts';
import { loadArticles } from '../../server/triage/knowledge/sources.ts';
import { createOfflineLlm } from '../../server/triage/llm/offline.ts';
import { DEFAULT_INTENTS, LANGUAGES } from '../../server/triage/types.ts';

const SAMPLES = new URL('../../samples/', import.meta.url);

const ticketSchema = z
  .object({
    id: z.string().regex(/^t\d{3}$/),
    subject: z.string().min(1),
    body: z.string().min(10),
    expected_intent: z.enum(DEFAULT_INTENTS),
    customer: z
      .object({
        name: z.string().min(1),
        plan: z.enum(['Free', 'Team', 'Business']),
        tone: z.enum(['formal', 'casual']),
        priorTicketsSameIssue: z.number().int().min(0).optional(),
      })
      .strict()
      .optional(),
    language: z.enum(LANGUAGES).optional(),
    tags: z
      .array(
        z.enum([
          'frustrated',
          'non_english',
          'prompt_injection',
          'nonexistent_feature',
          'disguised_refund',
          'invented_price',
        ]),
      )
      .optional(),
  })
  .strict();

const probeSchema = z
  .object({
    id: z.string().regex(/^adv\d{2}$/),
    category: z.enum(['prompt_injection', 'nonexistent_feature', 'disguised_refund', 'invented_price']),
    subject: z.string().min(1),
    body: z.string().min(10),
    expected_intent: z.enum(DEFAULT_INTENTS),
    must_not: z.array(z.string()).min(1),
    notes: z.string().min(1),
    unsafe_reply: z.string().min(10),
    customer: z.unknown().optional(),
    language: z.enum(LANGUAGES).optional(),
  })
  .strict();

function readJsonl(name: string): unknown[] {
  return readFileSync(new URL(name, SAMPLES), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line));
}

describe('samples/tickets.jsonl', () => {
  const tickets = readJsonl('tickets.jsonl').map((line) => ticketSchema.parse(line));

  it('has at least 60 tickets with unique ids', () => {
    expect(tickets.length).toBeGreaterThanOrEqual(60);
    expect(new Set(tickets.map((ticket) => ticket.id)).size).toBe(tickets.length);
  });

  it('covers every default intent at least 4 times', () => {
    for (const intent of DEFAULT_INTENTS) {
      expect(tickets.filter((ticket) => ticket.expected_intent === intent).length, intent).toBeGreaterThanOrEqual(4);
    }
  });

  it('covers every supported language besides English', () => {
    const languages = new Set(tickets.map((ticket) => ticket.language ?? 'en'));
    for (const language of LANGUAGES) expect(languages.has(language), language).toBe(true);
    for (const ticket of tickets) {
      expect(ticket.tags?.includes('non_english') ?? false, ticket.id).toBe((ticket.language ?? 'en') !== 'en');
    }
  });

  it('has frustrated repeat customers, injections and questions about features that do not exist', () => {
    const tagged = (tag: string) => tickets.filter((ticket) => ticket.tags?.includes(tag as never));
    expect(tagged('frustrated').length).toBeGreaterThanOrEqual(4);
    expect(tagged('prompt_injection').length).toBeGreaterThanOrEqual(3);
    expect(tagged('invented_price').length).toBeGreaterThanOrEqual(2);
    const features = tagged('nonexistent_feature')
      .map((ticket) => `${ticket.subject} ${ticket.body}`.toLowerCase())
      .join(' ');
    for (const feature of ['gantt', 'jira', 'linux', 'offline', 'white-label'])
      expect(features, feature).toContain(feature);
    // A repeat customer (more than one prior ticket on the issue) is tagged frustrated.
    for (const ticket of tickets.filter((item) => (item.customer?.priorTicketsSameIssue ?? 0) > 1)) {
      expect(ticket.tags, ticket.id).toContain('frustrated');
    }
  });
});

describe('samples/adversarial.jsonl', () => {
  const probes = readJsonl('adversarial.jsonl').map((line) => probeSchema.parse(line));

  it('has at least 25 probes across the four categories, each forbidding Tier 0', () => {
    expect(probes.length).toBeGreaterThanOrEqual(25);
    expect(new Set(probes.map((probe) => probe.id)).size).toBe(probes.length);
    for (const category of ['prompt_injection', 'nonexistent_feature', 'disguised_refund', 'invented_price']) {
      expect(probes.filter((probe) => probe.category === category).length, category).toBeGreaterThanOrEqual(5);
    }
    for (const probe of probes) expect(probe.must_not, probe.id).toContain('tier0');
  });
});

describe('offline drafts for every sample ticket, retrieved from the sample KB', () => {
  const tickets = readJsonl('tickets.jsonl').map((line) => ticketSchema.parse(line));
  const index = createKnowledgeIndex(loadArticles(fileURLToPath(new URL('kb', SAMPLES))));
  const offline = createOfflineLlm({ signature: 'The Tandem support team' });

  it('pass the grounding guard whenever a passage was retrieved, and escalate otherwise', async () => {
    let answered = 0;
    for (const ticket of tickets) {
      const question = `${ticket.subject}\n${ticket.body}`;
      const passages = index.search(question, 3);
      const draft = await offline.generate({
        passages,
        customerMessage: question,
        ...(ticket.customer ? { customerName: ticket.customer.name } : {}),
        tone: ticket.customer?.tone ?? 'formal',
        language: ticket.language ?? 'en',
        frustrated: ticket.tags?.includes('frustrated') ?? false,
      });
      if (passages.length === 0) {
        expect(draft.escalate.needed, ticket.id).toBe(true);
        continue;
      }
      answered += 1;
      const verdict = verifyDraft({ reply: draft.reply, citations: draft.citations, passages, knownNames: ['Tandem'] });
      expect(
        verdict.checks.filter((check) => !check.passed),
        ticket.id,
      ).toEqual([]);
    }
    console.log(
      `offline drafts: ${answered}/${tickets.length} sample tickets had passages; all of those passed the guard`,
    );
    expect(answered).toBeGreaterThanOrEqual(tickets.length * 0.8);
  });
});
