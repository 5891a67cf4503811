/**
 * Token accounting: usage per call, cost from a list-price table, and an offline token estimate
 * that errs on the high side (budgets built on it never overflow the real limit).
 */

/** What one LLM call consumed. `costUsd` is null when the model has no known price. */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
  costUsd: number | null;
}

export const ZERO_USAGE: Usage = Object.freeze({
  inputTokens: 0,
  outputTokens: 0,
  cacheCreationInputTokens: 0,
  cacheReadInputTokens: 0,
  costUsd: 0,
}) as Usage;

export interface ModelPrice {
  /** USD per million base input tokens. */
  input: number;
  /** USD per million output tokens. */
  output: number;
}

/**
 * List prices in USD per million tokens, standard (not batch) API, prompts up to 200K tokens.
 * Source: Anthropic's pricing page, https://platform.claude.com/docs/en/about-claude/pricing
 * (formerly docs.anthropic.com/en/docs/about-claude/pricing), read in 2025-2026.
 * Keys are model-name prefixes so dated snapshots ("claude-sonnet-4-5-20250929") match; longest
 * prefix wins.
 */
export const MODEL_PRICES: Readonly<Record<string, ModelPrice>> = {
  'claude-haiku-4-5': { input: 1, output: 5 },
  // Sonnet 5 and 5.5: $2 / $10 (Anthropic's list price as quoted in public release notes of
  // cost dashboards, 2026-09; not read from the pricing page itself).
  'claude-sonnet-5-5': { input: 2, output: 10 },
  'claude-sonnet-5': { input: 2, output: 10 },
  'claude-sonnet-4-6': { input: 3, output: 15 },
  'claude-sonnet-4-5': { input: 3, output: 15 },
  'claude-sonnet-4': { input: 3, output: 15 },
  'claude-opus-4-5': { input: 5, output: 25 },
  'claude-opus-4-1': { input: 15, output: 75 },
  'claude-opus-4': { input: 15, output: 75 },
  'claude-3-5-haiku': { input: 0.8, output: 4 },
  'claude-3-haiku': { input: 0.25, output: 1.25 },
};

/** Prompt-caching multipliers of the base input price (5-minute cache writes and cache hits). */
export const CACHE_WRITE_MULTIPLIER = 1.25;
export const CACHE_READ_MULTIPLIER = 0.1;

export function priceFor(model: string): ModelPrice | undefined {
  let best: { prefix: string; price: ModelPrice } | undefined;
  for (const [prefix, price] of Object.entries(MODEL_PRICES)) {
    if ((model === prefix || model.startsWith(`${prefix}-`)) && (!best || prefix.length > best.prefix.length)) {
      best = { prefix, price };
    }
  }
  return best?.price;
}

export type TokenCounts = Omit<Usage, 'costUsd'>;

/** Cost in USD of one call; null when the model is not in the price table. */
export function costUsd(model: string, tokens: TokenCounts): number | null {
  const price = priceFor(model);
  if (!price) return null;
  const perToken = (perMillion: number) => perMillion / 1_000_000;
  const cost =
    tokens.inputTokens * perToken(price.input) +
    tokens.cacheCreationInputTokens * perToken(price.input * CACHE_WRITE_MULTIPLIER) +
    tokens.cacheReadInputTokens * perToken(price.input * CACHE_READ_MULTIPLIER) +
    tokens.outputTokens * perToken(price.output);
  // Round to a millionth of a cent so sums stay readable and stable.
  return Math.round(cost * 1e8) / 1e8;
}

export function usageFor(model: string, tokens: TokenCounts): Usage {
  return { ...tokens, costUsd: costUsd(model, tokens) };
}

/** Adds usages (e.g. classification + generation + summary of one ticket). Unknown cost stays unknown. */
export function addUsage(a: Usage, b: Usage): Usage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheCreationInputTokens: a.cacheCreationInputTokens + b.cacheCreationInputTokens,
    cacheReadInputTokens: a.cacheReadInputTokens + b.cacheReadInputTokens,
    costUsd: a.costUsd === null || b.costUsd === null ? null : Math.round((a.costUsd + b.costUsd) * 1e8) / 1e8,
  };
}

/** Characters per token assumed for ASCII text; real English averages closer to 4, so this errs high. */
export const ESTIMATE_ASCII_CHARS_PER_TOKEN = 3.5;
/** Framing tokens the API adds per message (role markers and separators); an upper-side guess. */
export const ESTIMATE_MESSAGE_OVERHEAD_TOKENS = 8;

/**
 * Offline token estimate for one text. Non-ASCII characters count a whole token each because
 * accented and non-Latin characters often split into their own tokens; ASCII counts 1/3.5.
 */
export function estimateTokens(text: string): number {
  let ascii = 0;
  let other = 0;
  for (const char of text) {
    if (char.charCodeAt(0) < 128) ascii += 1;
    else other += 1;
  }
  return Math.ceil(ascii / ESTIMATE_ASCII_CHARS_PER_TOKEN) + other;
}

/** Estimate for a whole request: every part plus a per-message overhead. */
export function estimateMessageTokens(parts: readonly string[]): number {
  return parts.reduce((sum, part) => sum + estimateTokens(part) + ESTIMATE_MESSAGE_OVERHEAD_TOKENS, 0);
}
