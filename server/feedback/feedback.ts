/**
 * The feedback loop: a reviewer approves or corrects a draft (and customers rate replies). Each
 * verdict updates the per-intent accuracy that gates Tier 0, flags the KB articles cited in a
 * wrong answer, appends to the correction log (exportable as a fine-tuning dataset), and keeps
 * the case as a regression case for the evaluation harness.
 *
 * Counters are read-modify-write in the store: two reviews of the same intent in the same
 * millisecond on two processes can lose one increment. Reviews are human-paced, so this is
 * accepted; the correction log itself is append-only and loses nothing.
 */
import { z } from 'zod';
import { AppError } from '../errors.ts';
import type { Store } from '../store/port.ts';
import type { TicketRecord } from '../triage/record.ts';

export const feedbackSchema = z
  .object({
    ticketId: z.string().min(1).max(100),
    /** The ticket event reviewed; defaults to the ticket's latest triaged event. */
    eventId: z.string().min(1).max(200).optional(),
    verdict: z.enum(['approved', 'corrected', 'rejected']),
    /** What the intent should have been, when the classification was wrong. */
    correctIntent: z.string().min(1).max(100).optional(),
    /** The reply the reviewer actually sent, when they edited the draft. */
    correctedReply: z.string().max(20_000).optional(),
    note: z.string().max(2_000).optional(),
    reviewer: z.string().max(200).optional(),
  })
  .strict();
export type FeedbackInput = z.infer<typeof feedbackSchema>;

export interface Correction {
  at: string;
  ticketId: string;
  eventId: string;
  verdict: FeedbackInput['verdict'];
  text: string;
  predictedIntent: string;
  correctIntent: string;
  tier: number;
  draft: string | null;
  correctedReply?: string;
  citedArticles: string[];
  note?: string;
  reviewer?: string;
}

export interface RegressionCase {
  id: string;
  tenantId: string;
  text: string;
  expectedIntent: string;
  /** A reviewer rejected the automated answer: this ticket must never be Tier 0 again. */
  neverTier0: boolean;
  createdAt: string;
}

const ACCURACY_KEY = 'accuracy';

interface AccuracyCounter {
  reviews: number;
  accurate: number;
}

export interface FeedbackService {
  record(tenantId: string, input: FeedbackInput): Promise<{ correction: Correction; regressionCase?: RegressionCase }>;
  intentAccuracy(tenantId: string): Promise<Record<string, { accuracy: number; reviews: number }>>;
  corrections(tenantId: string): Promise<Correction[]>;
  regressionCases(tenantId: string): Promise<RegressionCase[]>;
  flaggedArticles(tenantId: string): Promise<Record<string, number>>;
  /** One chat-format training example per corrected reply. */
  fineTuningLines(tenantId: string): Promise<string[]>;
}

async function collect<T>(entries: AsyncIterable<[string, unknown]>, prefix: string): Promise<Array<[string, T]>> {
  const found: Array<[string, T]> = [];
  for await (const [key, value] of entries)
    if (key.startsWith(prefix)) found.push([key.slice(prefix.length), value as T]);
  return found;
}

export function createFeedbackService(store: Store): FeedbackService {
  const feedback = (tenantId: string) => store.forTenant(tenantId).namespace<unknown>('feedback');
  const tickets = (tenantId: string) => store.forTenant(tenantId).namespace<unknown>('tickets');

  async function findRecord(tenantId: string, input: FeedbackInput): Promise<TicketRecord> {
    let eventId = input.eventId;
    if (eventId === undefined) {
      const latest = (await tickets(tenantId).get(`latest:${input.ticketId}`)) as { eventId?: string } | undefined;
      eventId = latest?.eventId;
    }
    const record =
      eventId === undefined ? undefined : ((await tickets(tenantId).get(eventId)) as TicketRecord | undefined);
    if (record === undefined || record.ticketId !== input.ticketId) {
      throw new AppError(
        'NOT_FOUND',
        `No triage record for ticket ${input.ticketId}${input.eventId ? ` event ${input.eventId}` : ''}`,
      );
    }
    return record;
  }

  return {
    async record(tenantId, input) {
      const record = await findRecord(tenantId, input);
      const kv = feedback(tenantId);
      const accurate = input.verdict === 'approved' && input.correctIntent === undefined;
      const predictedIntent = record.classification.intent;
      const correctIntent = input.correctIntent ?? predictedIntent;
      const at = new Date().toISOString();
      const correction: Correction = {
        at,
        ticketId: record.ticketId,
        eventId: record.eventId,
        verdict: input.verdict,
        text: record.text ?? '',
        predictedIntent,
        correctIntent,
        tier: record.tier,
        draft: record.draft?.text ?? null,
        citedArticles: record.citations.map((citation) => citation.articleId),
        ...(input.correctedReply === undefined ? {} : { correctedReply: input.correctedReply }),
        ...(input.note === undefined ? {} : { note: input.note }),
        ...(input.reviewer === undefined ? {} : { reviewer: input.reviewer }),
      };
      await kv.set(`correction:${at}:${record.eventId}`, correction);

      // One record holds every intent's counters: the engine reads it on every ticket.
      const counters = ((await kv.get(ACCURACY_KEY)) as Record<string, AccuracyCounter> | undefined) ?? {};
      const counter = counters[predictedIntent] ?? { reviews: 0, accurate: 0 };
      counters[predictedIntent] = { reviews: counter.reviews + 1, accurate: counter.accurate + (accurate ? 1 : 0) };
      await kv.set(ACCURACY_KEY, counters);

      if (accurate || correction.text === '') return { correction };
      for (const articleId of correction.citedArticles) {
        const flagKey = `kb-flag:${articleId}`;
        const flags = ((await kv.get(flagKey)) as number | undefined) ?? 0;
        await kv.set(flagKey, flags + 1);
      }
      const regressionCase: RegressionCase = {
        id: record.eventId,
        tenantId,
        text: correction.text,
        expectedIntent: correctIntent,
        neverTier0: input.verdict === 'rejected',
        createdAt: at,
      };
      await kv.set(`regression:${record.eventId}`, regressionCase);
      return { correction, regressionCase };
    },
    async intentAccuracy(tenantId) {
      const counters =
        ((await feedback(tenantId).get(ACCURACY_KEY)) as Record<string, AccuracyCounter> | undefined) ?? {};
      return Object.fromEntries(
        Object.entries(counters).map(([intent, counter]) => [
          intent,
          { reviews: counter.reviews, accuracy: counter.reviews === 0 ? 0 : counter.accurate / counter.reviews },
        ]),
      );
    },
    async corrections(tenantId) {
      const found = await collect<Correction>(feedback(tenantId).entries(), 'correction:');
      return found.map(([, correction]) => correction).sort((a, b) => a.at.localeCompare(b.at));
    },
    async regressionCases(tenantId) {
      return (await collect<RegressionCase>(feedback(tenantId).entries(), 'regression:')).map(([, item]) => item);
    },
    async flaggedArticles(tenantId) {
      return Object.fromEntries(await collect<number>(feedback(tenantId).entries(), 'kb-flag:'));
    },
    async fineTuningLines(tenantId) {
      const corrections = await this.corrections(tenantId);
      return corrections
        .filter((correction) => correction.correctedReply !== undefined)
        .map((correction) =>
          JSON.stringify({
            messages: [
              { role: 'user', content: correction.text },
              { role: 'assistant', content: correction.correctedReply },
            ],
            metadata: { intent: correction.correctIntent, ticketId: correction.ticketId, eventId: correction.eventId },
          }),
        );
    },
  };
}
