/**
 * The LLM port on the Anthropic Messages API (the real @anthropic-ai/sdk). Structured output
 * comes from a forced tool call validated with zod; the stable system prompt and the KB blocks
 * carry cache_control; every failure becomes an AppError (see errors.ts).
 */
import Anthropic from '@anthropic-ai/sdk';
import type { z } from 'zod';
import { AppError } from '../../errors.ts';
import { type TokenCounts, usageFor } from '../tokens.ts';
import { OUT_OF_SCOPE } from '../types.ts';
import { mapAnthropicError } from './errors.ts';
import type {
  ClassifyRequest,
  CountTokensRequest,
  GenerationRequest,
  GenerationResult,
  LlmClassification,
  LlmPort,
  SummarizeRequest,
  SummarizeResult,
  TokenCount,
} from './port.ts';
import {
  CLASSIFY_SYSTEM_PROMPT,
  CLASSIFY_TOOL_NAME,
  classificationOutputSchema,
  classificationToolSchema,
  DRAFT_TOOL_NAME,
  DRAFT_TOOL_SCHEMA,
  draftOutputSchema,
  GENERATION_SYSTEM_PROMPT,
  PROMPT_VERSION,
  renderGenerationInstructions,
  renderKbBlock,
  SUMMARY_SYSTEM_PROMPT,
  SUMMARY_TOOL_NAME,
  SUMMARY_TOOL_SCHEMA,
  summaryOutputSchema,
  wrapUntrusted,
} from './prompts.ts';

export const DEFAULT_SMALL_MODEL = 'claude-haiku-4-5';
export const DEFAULT_LARGE_MODEL = 'claude-sonnet-4-6';

export interface AnthropicLlmOptions {
  apiKey: string;
  /** Loopback fake in tests; the SDK default otherwise. */
  baseURL?: string;
  /** Per-request timeout in ms. Set explicitly so it does not stack with the queue's own retries. */
  timeoutMs: number;
  /** SDK retries on 408/409/429/5xx (honouring retry-after). */
  maxRetries: number;
  smallModel?: string;
  largeModel?: string;
  /** max_tokens per call kind. */
  maxTokens?: { classify?: number; generate?: number; summarize?: number };
}

type ToolInput = Anthropic.Messages.Tool['input_schema'];
type TextBlock = Anthropic.Messages.TextBlockParam;

const EPHEMERAL = { type: 'ephemeral' } as const;

function countsFrom(usage: Anthropic.Messages.Usage): TokenCounts {
  return {
    inputTokens: usage.input_tokens,
    outputTokens: usage.output_tokens,
    cacheCreationInputTokens: usage.cache_creation_input_tokens ?? 0,
    cacheReadInputTokens: usage.cache_read_input_tokens ?? 0,
  };
}

/** Finds the forced tool call and validates its input; anything else is LLM_OUTPUT_INVALID. */
function parseToolInput<T>(message: Anthropic.Messages.Message, toolName: string, schema: z.ZodType<T>): T {
  const block = message.content.find(
    (item): item is Anthropic.Messages.ToolUseBlock => item.type === 'tool_use' && item.name === toolName,
  );
  if (!block) {
    throw new AppError('LLM_OUTPUT_INVALID', `the model did not call the ${toolName} tool`, {
      details: { provider: 'anthropic', stopReason: message.stop_reason },
    });
  }
  const parsed = schema.safeParse(block.input);
  if (!parsed.success) {
    throw new AppError('LLM_OUTPUT_INVALID', `the ${toolName} tool input does not match its schema`, {
      details: {
        provider: 'anthropic',
        issues: parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
      },
    });
  }
  return parsed.data;
}

export function createAnthropicLlm(options: AnthropicLlmOptions): LlmPort {
  if (!options.apiKey) throw new AppError('CONFIG_INVALID', 'the Anthropic provider needs an API key');
  const client = new Anthropic({
    apiKey: options.apiKey,
    ...(options.baseURL === undefined ? {} : { baseURL: options.baseURL }),
    timeout: options.timeoutMs,
    maxRetries: options.maxRetries,
  });
  const smallModel = options.smallModel ?? DEFAULT_SMALL_MODEL;
  const largeModel = options.largeModel ?? DEFAULT_LARGE_MODEL;
  const maxTokens = { classify: 300, generate: 1024, summarize: 300, ...options.maxTokens };

  async function callTool<T>(args: {
    operation: string;
    model: string;
    maxTokens: number;
    system: TextBlock[];
    userContent: TextBlock[];
    toolName: string;
    toolDescription: string;
    inputSchema: ToolInput;
    outputSchema: z.ZodType<T>;
  }): Promise<{ output: T; counts: TokenCounts; model: string }> {
    let message: Anthropic.Messages.Message;
    try {
      message = await client.messages.create({
        model: args.model,
        max_tokens: args.maxTokens,
        system: args.system,
        messages: [{ role: 'user', content: args.userContent }],
        tools: [{ name: args.toolName, description: args.toolDescription, input_schema: args.inputSchema }],
        tool_choice: { type: 'tool', name: args.toolName },
      });
    } catch (error) {
      throw mapAnthropicError(error, args.operation);
    }
    return {
      output: parseToolInput(message, args.toolName, args.outputSchema),
      counts: countsFrom(message.usage),
      model: message.model || args.model,
    };
  }

  return {
    provider: 'anthropic',

    async classify(request: ClassifyRequest): Promise<LlmClassification> {
      if (request.intents.length === 0) throw new AppError('BAD_REQUEST', 'classify needs at least one intent');
      const { output, counts, model } = await callTool({
        operation: 'classify',
        model: smallModel,
        maxTokens: maxTokens.classify,
        system: [{ type: 'text', text: CLASSIFY_SYSTEM_PROMPT, cache_control: EPHEMERAL }],
        userContent: [
          { type: 'text', text: `Allowed intents: ${request.intents.join(', ')}, ${OUT_OF_SCOPE}.` },
          { type: 'text', text: wrapUntrusted('customer_message', request.text) },
        ],
        toolName: CLASSIFY_TOOL_NAME,
        toolDescription: 'Record the classification of the support ticket.',
        inputSchema: classificationToolSchema(request.intents),
        outputSchema: classificationOutputSchema,
      });
      const allowed = new Set([...request.intents, OUT_OF_SCOPE]);
      if (!allowed.has(output.intent)) {
        throw new AppError('LLM_OUTPUT_INVALID', 'the model chose an intent outside the allowed list', {
          details: { provider: 'anthropic', intent: output.intent },
        });
      }
      return {
        intent: output.intent,
        confidence: output.confidence,
        outOfScope: output.intent === OUT_OF_SCOPE,
        urgency: output.urgency,
        language: output.language.toLowerCase(),
        sentiment: output.sentiment,
        usage: usageFor(model, counts),
        model,
        promptVersion: PROMPT_VERSION,
      };
    },

    async generate(request: GenerationRequest): Promise<GenerationResult> {
      const kbBlocks: TextBlock[] = request.passages.map((passage) => ({ type: 'text', text: renderKbBlock(passage) }));
      // One breakpoint after the last KB block caches system prompt + all KB blocks as a prefix;
      // the API allows at most 4 breakpoints, so one per passage would not scale.
      const lastKb = kbBlocks.at(-1);
      if (lastKb) lastKb.cache_control = EPHEMERAL;
      const system: TextBlock[] = [
        { type: 'text', text: request.systemPrompt ?? GENERATION_SYSTEM_PROMPT, cache_control: EPHEMERAL },
        ...kbBlocks,
      ];
      const userContent: TextBlock[] = [
        ...(request.customerContextText?.trim()
          ? [{ type: 'text' as const, text: wrapUntrusted('customer_context', request.customerContextText) }]
          : []),
        { type: 'text', text: wrapUntrusted('customer_message', request.customerMessage) },
        { type: 'text', text: renderGenerationInstructions(request) },
      ];
      const { output, counts, model } = await callTool({
        operation: 'generate',
        model: largeModel,
        maxTokens: maxTokens.generate,
        system,
        userContent,
        toolName: DRAFT_TOOL_NAME,
        toolDescription: 'Submit the drafted reply with its citations and the escalation decision.',
        inputSchema: DRAFT_TOOL_SCHEMA,
        outputSchema: draftOutputSchema,
      });
      return {
        reply: output.reply,
        citations: [...new Set(output.citations)],
        escalate: output.escalate,
        usage: usageFor(model, counts),
        model,
        promptVersion: PROMPT_VERSION,
        provider: 'anthropic',
      };
    },

    async summarize(request: SummarizeRequest): Promise<SummarizeResult> {
      const { output, counts, model } = await callTool({
        operation: 'summarize',
        model: smallModel,
        maxTokens: maxTokens.summarize,
        system: [{ type: 'text', text: SUMMARY_SYSTEM_PROMPT, cache_control: EPHEMERAL }],
        userContent: [
          { type: 'text', text: `Maximum sentences: ${request.maxSentences}.` },
          { type: 'text', text: wrapUntrusted('customer_message', request.text) },
        ],
        toolName: SUMMARY_TOOL_NAME,
        toolDescription: 'Submit the handoff summary.',
        inputSchema: SUMMARY_TOOL_SCHEMA,
        outputSchema: summaryOutputSchema,
      });
      return { summary: output.summary, usage: usageFor(model, counts), provider: 'anthropic' };
    },

    async countTokens(request: CountTokensRequest): Promise<TokenCount> {
      // The API rejects empty content; nothing to count either way.
      if (request.text === '') return { tokens: 0, method: 'estimate' };
      try {
        const result = await client.messages.countTokens({
          model: request.model ?? largeModel,
          messages: [{ role: 'user', content: request.text }],
        });
        return { tokens: result.input_tokens, method: 'api' };
      } catch (error) {
        throw mapAnthropicError(error, 'count_tokens');
      }
    },
  };
}
