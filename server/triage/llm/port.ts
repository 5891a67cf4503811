/**
 * The LLM port: only what the triage pipeline calls. Implementations: Anthropic (anthropic.ts),
 * offline extractive (offline.ts), and the resilient wrapper that falls back from one to the other.
 */

import type { Usage } from '../tokens.ts';
import type { RetrievedPassage, Sentiment, Urgency } from '../types.ts';

export type { Usage } from '../tokens.ts';

export type ProviderName = 'anthropic' | 'offline';
export type Tone = 'formal' | 'casual';

export interface ClassifyRequest {
  /** The ticket text (subject and body). Treated as untrusted data. */
  text: string;
  /** Allowed intents; the model may also answer OUT_OF_SCOPE ('oos'). */
  intents: readonly string[];
}

/**
 * The model's classification. The caller merges it into a `Classification` (types.ts) by adding
 * `source: 'llm'` and `alternatives: []`.
 */
export interface LlmClassification {
  intent: string;
  confidence: number;
  outOfScope: boolean;
  urgency: Urgency;
  language: string;
  sentiment: Sentiment;
  usage: Usage;
  model: string;
  promptVersion: string;
}

export interface GenerationRequest {
  /** Retrieved KB passages, best first. The only allowed source of facts and citations. */
  passages: readonly RetrievedPassage[];
  /** Customer context already rendered and budgeted by the caller (account data, recent interactions). */
  customerContextText?: string;
  /** The customer's message (untrusted data). */
  customerMessage: string;
  /** Used in the greeting; optional. */
  customerName?: string;
  tone: Tone;
  /** ISO 639-1 code of the customer's language. */
  language: string;
  /** The customer is frustrated (repeat contact or negative sentiment): the reply acknowledges it. */
  frustrated: boolean;
  /** Overrides the default stable system prompt (tenant-specific prompts). Keep it stable for caching. */
  systemPrompt?: string;
}

export interface GenerationResult {
  reply: string;
  /** Article ids the reply relies on, as claimed by the provider (the grounding guard verifies them). */
  citations: string[];
  escalate: { needed: boolean; reason: string };
  usage: Usage;
  model: string;
  promptVersion: string;
  provider: ProviderName;
  /** Set when the primary provider failed and this draft came from the fallback: never auto-send. */
  fallbackReason?: string;
}

export interface SummarizeRequest {
  text: string;
  maxSentences: number;
}

export interface SummarizeResult {
  summary: string;
  usage: Usage;
  provider: ProviderName;
  fallbackReason?: string;
}

export interface CountTokensRequest {
  text: string;
  /** Model whose tokenizer to use (defaults to the provider's large model). */
  model?: string;
}

export interface TokenCount {
  tokens: number;
  /** 'api' when counted by the provider's token-counting endpoint; 'estimate' is an offline upper-side guess. */
  method: 'api' | 'estimate';
}

export interface LlmPort {
  readonly provider: ProviderName;
  /** null when the provider does not classify (offline): the local classifier's answer stands. */
  classify(request: ClassifyRequest): Promise<LlmClassification | null>;
  generate(request: GenerationRequest): Promise<GenerationResult>;
  summarize(request: SummarizeRequest): Promise<SummarizeResult>;
  countTokens(request: CountTokensRequest): Promise<TokenCount>;
}
