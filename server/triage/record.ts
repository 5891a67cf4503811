/**
 * The ticket record: everything triage decided about one ticket event, for the write-back, the
 * sidebar and analytics. One record per (tenant, ticket, event).
 */
import type { TenantSettings } from '../tenants/settings.ts';
import type { GroundingCheck } from './grounding/guard.ts';
import type { Priority, Tier } from './policy/tier.ts';
import type { Classification, CustomerContext } from './types.ts';

export interface Citation {
  articleId: string;
  title: string;
  url?: string;
  stale: boolean;
  score: number;
}

export interface BudgetLine {
  source: string;
  budgetTokens: number;
  usedTokens: number;
  /** What was left out or shortened to stay within the budget. */
  cut: string[];
}

export interface BudgetReport {
  /** 'api' when the final prompt was counted by the provider; 'estimate' is an offline upper-side count. */
  method: 'api' | 'estimate';
  totalTokens: number;
  lines: BudgetLine[];
}

export interface EscalationPackage {
  team: string;
  priority: Priority;
  /** Two sentences for the human who takes over. */
  summary: string;
  whatWasTried: string[];
  whyItFailed: string[];
  suggestedAction: string;
}

export interface CostReport {
  inputTokens: number;
  outputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
  /** null when a model's price is unknown. */
  costUsd: number | null;
  calls: Array<{ step: 'classify' | 'generate' | 'summarize'; model: string; costUsd: number | null }>;
}

export interface TicketRecord {
  tenantId: string;
  ticketId: string;
  eventId: string;
  createdAt: string;
  /** The customer's text as triaged (subject and message): kept for regression cases from corrections. */
  text?: string;
  language: string;
  classification: Classification;
  frustrated: boolean;
  injection: { suspected: boolean; markers: string[] };
  tier: Tier;
  priority: Priority;
  tierReasons: string[];
  /** What the helpdesk gets: 'public_reply' (Tier 0), 'internal_note' (Tier 1), 'escalate' (Tiers 2-3). */
  action: 'public_reply' | 'internal_note' | 'escalate';
  retrieval: { answerable: boolean | null; gateScore: number | null; passagesConsidered: number };
  citations: Citation[];
  draft: {
    text: string;
    provider: 'anthropic' | 'offline';
    model: string;
    fallbackReason?: string;
    grounding: { passed: boolean; checks: GroundingCheck[]; unsupportedSentences: string[] };
  } | null;
  escalation: EscalationPackage | null;
  budget: BudgetReport | null;
  cost: CostReport;
  /** Milliseconds spent in each step. */
  timings: Record<string, number>;
  versions: { engine: string; prompt: string; classifierModel: string; llmProvider: string };
}

export interface TriageInput {
  tenantId: string;
  ticketId: string;
  /** Identifies the ticket event (e.g. `${ticketId}:${comment id}`); records are keyed by it. */
  eventId: string;
  subject?: string;
  /** The customer's latest message. */
  body: string;
  customer?: CustomerContext;
  settings: TenantSettings;
  /** Measured per-intent accuracy from reviews (feedback loop). */
  intentAccuracy?: Record<string, { accuracy: number; reviews: number }>;
  /** Actions a tool performed for this ticket; claims of them in a draft are allowed. */
  toolConfirmations?: string[];
}

export interface TriageEngine {
  triage(input: TriageInput): Promise<TicketRecord>;
}
