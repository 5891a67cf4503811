/**
 * LLM ports for the benchmark, in-process (no network): they answer like the Anthropic provider
 * would (provider 'anthropic', so the engine takes its LLM paths: cascade, token count, summary),
 * after an optional sleep per model, with usage counted by the project's own token estimator on
 * the same prompt the Anthropic adapter would send, and prompt caching simulated by the API's rules.
 */
import { createOfflineLlm } from '../../server/triage/llm/offline.ts';
import type {
  ClassifyRequest,
  GenerationRequest,
  GenerationResult,
  LlmClassification,
  LlmPort,
  SummarizeRequest,
} from '../../server/triage/llm/port.ts';
import {
  CLASSIFY_SYSTEM_PROMPT,
  CLASSIFY_TOOL_NAME,
  classificationToolSchema,
  DRAFT_TOOL_NAME,
  DRAFT_TOOL_SCHEMA,
  GENERATION_SYSTEM_PROMPT,
  PROMPT_VERSION,
  renderGenerationInstructions,
  renderKbBlock,
  SUMMARY_SYSTEM_PROMPT,
  SUMMARY_TOOL_NAME,
  SUMMARY_TOOL_SCHEMA,
  wrapUntrusted,
} from '../../server/triage/llm/prompts.ts';
import {
  ESTIMATE_MESSAGE_OVERHEAD_TOKENS,
  estimateTokens,
  type TokenCounts,
  type Usage,
  usageFor,
} from '../../server/triage/tokens.ts';
import { OUT_OF_SCOPE, type RetrievedPassage } from '../../server/triage/types.ts';

export const SMALL_MODEL = 'claude-haiku-4-5';
export const LARGE_MODEL = 'claude-sonnet-4-6';

/**
 * Minimum cacheable prefix per model, from Anthropic's prompt-caching docs (as quoted in
 * anthropics/anthropic-sdk-python#1194): 1024 tokens for Sonnet 4.5, 4096 for Haiku 4.5.
 * A shorter prefix is billed as plain input even when it carries cache_control.
 */
export const MIN_CACHEABLE_TOKENS: Record<string, number> = { [SMALL_MODEL]: 4096, [LARGE_MODEL]: 1024 };

/** One prompt part in API prefix order (tools, system, messages) and whether it ends with a cache breakpoint. */
export interface PromptSegment {
  text: string;
  breakpoint: boolean;
}

export interface MeteredCall {
  step: 'classify' | 'generate' | 'summarize';
  model: string;
  usage: Usage;
}

function tool(name: string, description: string, schema: unknown): PromptSegment {
  return { text: JSON.stringify({ name, description, input_schema: schema }), breakpoint: false };
}

/** The segments of the classify request exactly as server/triage/llm/anthropic.ts builds it. */
export function classifySegments(request: ClassifyRequest, cached = true): PromptSegment[] {
  return [
    tool(
      CLASSIFY_TOOL_NAME,
      'Record the classification of the support ticket.',
      classificationToolSchema(request.intents),
    ),
    { text: CLASSIFY_SYSTEM_PROMPT, breakpoint: cached },
    { text: `Allowed intents: ${request.intents.join(', ')}, ${OUT_OF_SCOPE}.`, breakpoint: false },
    { text: wrapUntrusted('customer_message', request.text), breakpoint: false },
  ];
}

/** The generate request: system prompt and KB blocks (breakpoints on the system prompt and the last block). */
export function generateSegments(request: GenerationRequest, cached = true): PromptSegment[] {
  const kb = request.passages.map((passage: RetrievedPassage, index) => ({
    text: renderKbBlock(passage),
    breakpoint: cached && index === request.passages.length - 1,
  }));
  return [
    tool(
      DRAFT_TOOL_NAME,
      'Submit the drafted reply with its citations and the escalation decision.',
      DRAFT_TOOL_SCHEMA,
    ),
    { text: request.systemPrompt ?? GENERATION_SYSTEM_PROMPT, breakpoint: cached },
    ...kb,
    ...(request.customerContextText?.trim()
      ? [{ text: wrapUntrusted('customer_context', request.customerContextText), breakpoint: false }]
      : []),
    { text: wrapUntrusted('customer_message', request.customerMessage), breakpoint: false },
    { text: renderGenerationInstructions(request), breakpoint: false },
  ];
}

export function summarizeSegments(request: SummarizeRequest, cached = true): PromptSegment[] {
  return [
    tool(SUMMARY_TOOL_NAME, 'Submit the handoff summary.', SUMMARY_TOOL_SCHEMA),
    { text: SUMMARY_SYSTEM_PROMPT, breakpoint: cached },
    { text: `Maximum sentences: ${request.maxSentences}.`, breakpoint: false },
    { text: wrapUntrusted('customer_message', request.text), breakpoint: false },
  ];
}

/**
 * Prompt caching as the API does it: a breakpoint's prefix is written to the cache when it is at
 * least the model's minimum length; a later request whose prefix up to some breakpoint is
 * identical reads it at 0.1x. The cache never expires here (the run lasts well under 5 minutes
 * of traffic per prefix at any realistic volume).
 */
export function createPromptCache() {
  const prefixes = new Set<string>();
  return {
    count(model: string, segments: readonly PromptSegment[]): Omit<TokenCounts, 'outputTokens'> {
      const tokens = segments.map((segment) => estimateTokens(segment.text));
      // Framing per message: the system block list and the one user message.
      const total = tokens.reduce((sum, value) => sum + value, 0) + 2 * ESTIMATE_MESSAGE_OVERHEAD_TOKENS;
      const minimum = MIN_CACHEABLE_TOKENS[model] ?? 1024;
      let prefixText = model;
      let prefixTokens = 0;
      let read = 0;
      let cacheable = 0;
      const keys: string[] = [];
      segments.forEach((segment, index) => {
        prefixText += `\u0000${segment.text}`;
        prefixTokens += tokens[index] as number;
        if (!segment.breakpoint || prefixTokens < minimum) return;
        keys.push(prefixText);
        cacheable = prefixTokens;
        if (prefixes.has(prefixText)) read = prefixTokens;
      });
      for (const key of keys) prefixes.add(key);
      const written = cacheable - read;
      return { inputTokens: total - read - written, cacheCreationInputTokens: written, cacheReadInputTokens: read };
    },
    clear: () => prefixes.clear(),
  };
}

export type PromptCache = ReturnType<typeof createPromptCache>;

export interface FakeLlmOptions {
  /** Sleep before answering, per model (0 for the zero-latency fake). */
  latencyMs?: { small: number; large: number };
  /** The small model's answer (intent and confidence); the bench passes the local classifier's top intent. */
  classifyAs: (text: string, intents: readonly string[]) => { intent: string; confidence: number };
  /** 'quote': a cheap reply quoting the top passage; 'offline': the offline provider's extractive draft. */
  draft: 'quote' | 'offline';
  cache?: PromptCache;
  /** Mark the stable system prompt and KB blocks with cache_control, as the Anthropic adapter does (default true). */
  promptCaching?: boolean;
  onCall?: (call: MeteredCall) => void;
}

const sleep = (ms: number) => (ms > 0 ? new Promise<void>((resolve) => setTimeout(resolve, ms)) : Promise.resolve());

function outputTokens(toolInput: unknown): number {
  return estimateTokens(JSON.stringify(toolInput));
}

function quoteDraft(request: GenerationRequest): Pick<GenerationResult, 'reply' | 'citations' | 'escalate'> {
  const top = request.passages[0];
  if (top === undefined) {
    return {
      reply: 'I could not find this in our help center.',
      citations: [],
      escalate: { needed: true, reason: 'no passage' },
    };
  }
  const sentences = top.text.split(/(?<=[.!?])\s+/).filter((sentence) => sentence.split(' ').length >= 5);
  const quoted = sentences.slice(0, 2).join(' ') || top.title;
  const name = request.customerName?.split(' ')[0];
  return {
    reply: `Hi${name ? ` ${name}` : ''},\n\nThanks for reaching out. ${quoted}\n\nBest regards,\nThe support team`,
    citations: [top.articleId],
    escalate: { needed: false, reason: '' },
  };
}

export function createFakeLlm(options: FakeLlmOptions): LlmPort {
  const offline = createOfflineLlm();
  const latency = options.latencyMs ?? { small: 0, large: 0 };
  const cache = options.cache ?? createPromptCache();
  const cached = options.promptCaching ?? true;

  function meter(step: MeteredCall['step'], model: string, segments: PromptSegment[], output: number): Usage {
    const usage = usageFor(model, { ...cache.count(model, segments), outputTokens: output });
    options.onCall?.({ step, model, usage });
    return usage;
  }

  return {
    provider: 'anthropic',
    async classify(request): Promise<LlmClassification> {
      await sleep(latency.small);
      const answer = options.classifyAs(request.text, request.intents);
      const toolInput = {
        intent: answer.intent,
        confidence: answer.confidence,
        urgency: 'low' as const,
        language: 'en',
        sentiment: { score: 0, frustrated: false },
      };
      return {
        ...toolInput,
        outOfScope: answer.intent === OUT_OF_SCOPE,
        usage: meter('classify', SMALL_MODEL, classifySegments(request, cached), outputTokens(toolInput)),
        model: SMALL_MODEL,
        promptVersion: PROMPT_VERSION,
      };
    },
    async generate(request): Promise<GenerationResult> {
      await sleep(latency.large);
      const draft =
        options.draft === 'offline'
          ? await offline.generate(request).then(({ reply, citations, escalate }) => ({ reply, citations, escalate }))
          : quoteDraft(request);
      return {
        ...draft,
        usage: meter('generate', LARGE_MODEL, generateSegments(request, cached), outputTokens(draft)),
        model: LARGE_MODEL,
        promptVersion: PROMPT_VERSION,
        provider: 'anthropic',
      };
    },
    async summarize(request) {
      await sleep(latency.small);
      const { summary } = await offline.summarize(request);
      return {
        summary,
        usage: meter('summarize', SMALL_MODEL, summarizeSegments(request, cached), outputTokens({ summary })),
        provider: 'anthropic',
      };
    },
    async countTokens(request) {
      // The token-counting endpoint is free; its latency is not modelled.
      return { tokens: estimateTokens(request.text), method: 'api' };
    },
  };
}
