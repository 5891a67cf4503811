/**
 * Shapes shared by the triage engine's parts. Each part (classifier, knowledge base, LLM
 * providers, grounding guard, pipeline) depends on these and not on each other's internals.
 */
import { z } from 'zod';

export const DEFAULT_INTENTS = [
  'password_reset',
  'billing_query',
  'feature_question',
  'bug_report',
  'account_deletion',
  'refund_request',
  'abuse_report',
  'general_question',
] as const;

/** The label used for "none of the known intents". */
export const OUT_OF_SCOPE = 'oos';

export const LANGUAGES = ['en', 'de', 'fr', 'es', 'pt', 'it', 'nl'] as const;

export const urgencySchema = z.enum(['low', 'medium', 'high']);
export type Urgency = z.infer<typeof urgencySchema>;

export const sentimentSchema = z.object({
  /** -1 (very negative) .. 1 (very positive). */
  score: z.number().min(-1).max(1),
  frustrated: z.boolean(),
});
export type Sentiment = z.infer<typeof sentimentSchema>;

/** What both the local classifier and the LLM cascade return. */
export const classificationSchema = z.object({
  intent: z.string(),
  /** Calibrated probability that `intent` is right. */
  confidence: z.number().min(0).max(1),
  outOfScope: z.boolean(),
  urgency: urgencySchema,
  /** ISO 639-1 code, or 'unknown'. */
  language: z.string(),
  sentiment: sentimentSchema,
  source: z.enum(['local', 'llm', 'cache']),
  /** The next best intents, best first (may be empty). */
  alternatives: z.array(z.object({ intent: z.string(), confidence: z.number() })),
});
export type Classification = z.infer<typeof classificationSchema>;

export interface LabelledExample {
  text: string;
  label: string;
  team?: string;
}

export interface Article {
  id: string;
  title: string;
  body: string;
  url?: string;
  productArea?: string;
  /** ISO timestamps. */
  updatedAt?: string;
  reviewedAt?: string;
}

export interface RetrievedPassage {
  /** `${articleId}#${index}` */
  passageId: string;
  articleId: string;
  title: string;
  /** The section heading the passage came from (also the first line of `text`), when it had one. */
  heading?: string;
  /** Every section heading of the passage's article, in order (absent when it has fewer than two). */
  sectionHeadings?: readonly string[];
  url?: string;
  text: string;
  score: number;
  stale: boolean;
}

/** Account and history context the customer brings with the ticket. */
export interface CustomerContext {
  name?: string;
  plan?: string;
  accountAgeDays?: number;
  ticketsThisMonth?: number;
  /** Prior tickets on the same issue (more than one flags frustration). */
  priorTicketsSameIssue?: number;
  lastInteractionSummary?: string;
  /** 'formal' for B2B, 'casual' for consumers. */
  tone?: 'formal' | 'casual';
  /** Most recent last. */
  interactions?: Array<{ author: 'customer' | 'agent'; text: string; at?: string }>;
}
