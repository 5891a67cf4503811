/**
 * Figure 6, LLM cost per ticket, ours against the seed design, on the same 500 tickets and the
 * same 2,000-article KB, both counted with the project's token estimator (tokens.ts) on the exact
 * prompt text and priced with the same list prices (MODEL_PRICES).
 *
 * Ours: the real engine with the in-process fake (provider 'anthropic'): the small model only when
 * the local classifier is unsure, budgeted context (top 3 passages, last 3 interactions), prompt
 * caching simulated by the API's rules (prefix match at a breakpoint, minimum cacheable length).
 *
 * Seed: every ticket to the small model for classification, then to the large model with untrimmed
 * context (all 5 retrieved passages in full, the whole history, no caching), plus a small-model
 * summary for the tickets that escalate (the same tickets ours escalates).
 */
import { assembleContext, type Budgets } from '../../server/triage/context/budget.ts';
import type { LocalClassifier } from '../../server/triage/engine.ts';
import type { KnowledgeIndex } from '../../server/triage/knowledge/index.ts';
import { createOfflineLlm } from '../../server/triage/llm/offline.ts';
import type { TicketRecord } from '../../server/triage/record.ts';
import { estimateTokens, usageFor } from '../../server/triage/tokens.ts';
import type { BenchTicket } from '../data/tickets.ts';
import { benchEngine, retrievalTurns, ticketText, triageInput } from '../lib/engine.ts';
import {
  classifySegments,
  createFakeLlm,
  createPromptCache,
  generateSegments,
  LARGE_MODEL,
  SMALL_MODEL,
  summarizeSegments,
} from '../lib/llm-fakes.ts';
import { progress } from '../lib/progress.ts';

export interface DesignCost {
  perTicketUsd: number;
  classifyCalls: number;
  generateCalls: number;
  summarizeCalls: number;
  inputTokens: number;
  cacheWriteTokens: number;
  cacheReadTokens: number;
  outputTokens: number;
}

export interface CostResult {
  tickets: number;
  ours: DesignCost;
  /** Ours with no cache_control at all: what caching contributes. */
  oursWithoutCaching?: DesignCost;
  seed: DesignCost;
  ratio: number;
}

const UNTRIMMED: Budgets = {
  accountTokens: Number.MAX_SAFE_INTEGER,
  interactionsTokens: Number.MAX_SAFE_INTEGER,
  recentInteractions: Number.MAX_SAFE_INTEGER,
  passageTokens: Number.MAX_SAFE_INTEGER,
  maxPassages: 5,
};

function emptyCost(): DesignCost {
  return {
    perTicketUsd: 0,
    classifyCalls: 0,
    generateCalls: 0,
    summarizeCalls: 0,
    inputTokens: 0,
    cacheWriteTokens: 0,
    cacheReadTokens: 0,
    outputTokens: 0,
  };
}

async function runOurs(
  args: { classifier: LocalClassifier; index: KnowledgeIndex; tickets: BenchTicket[] },
  promptCaching: boolean,
): Promise<{ cost: DesignCost; records: TicketRecord[] }> {
  const cost = emptyCost();
  let totalUsd = 0;
  const llm = createFakeLlm({
    draft: 'offline',
    promptCaching,
    classifyAs: (text) => ({ intent: args.classifier.classify(text).intent, confidence: 0.9 }),
    onCall: (call) => {
      if (call.step === 'classify') cost.classifyCalls += 1;
      else if (call.step === 'generate') cost.generateCalls += 1;
      else cost.summarizeCalls += 1;
      cost.inputTokens += call.usage.inputTokens;
      cost.cacheWriteTokens += call.usage.cacheCreationInputTokens;
      cost.cacheReadTokens += call.usage.cacheReadInputTokens;
      cost.outputTokens += call.usage.outputTokens;
    },
  });
  const engine = benchEngine({ classifier: args.classifier, index: args.index, llm });
  const records: TicketRecord[] = [];
  for (const ticket of args.tickets) {
    const record = await engine.triage(triageInput(ticket));
    if (record.cost.costUsd === null) throw new Error('a model without a list price was used');
    totalUsd += record.cost.costUsd;
    records.push(record);
  }
  cost.perTicketUsd = totalUsd / args.tickets.length;
  return { cost, records };
}

async function runSeed(
  args: { classifier: LocalClassifier; index: KnowledgeIndex; tickets: BenchTicket[] },
  escalated: (position: number) => boolean,
): Promise<DesignCost> {
  const cost = emptyCost();
  const offline = createOfflineLlm();
  const meter = createPromptCache();
  let totalUsd = 0;
  const charge = (model: string, segments: ReturnType<typeof classifySegments>, output: unknown) => {
    const counts = { ...meter.count(model, segments), outputTokens: estimateTokens(JSON.stringify(output)) };
    const usage = usageFor(model, counts);
    totalUsd += usage.costUsd ?? Number.NaN;
    cost.inputTokens += usage.inputTokens;
    cost.outputTokens += usage.outputTokens;
  };
  for (const [position, ticket] of args.tickets.entries()) {
    const text = ticketText(ticket);
    const local = args.classifier.classify(text);
    cost.classifyCalls += 1;
    charge(SMALL_MODEL, classifySegments({ text, intents: args.classifier.intents }, false), {
      intent: local.intent,
      confidence: 0.9,
      urgency: 'low',
      language: 'en',
      sentiment: { score: 0, frustrated: false },
    });

    const results = args.index.searchConversation(retrievalTurns(ticket), 5);
    const context = assembleContext(ticket.customer, results, UNTRIMMED);
    const request = {
      passages: context.passages,
      customerContextText: context.customerContextText,
      customerMessage: text,
      ...(ticket.customer.name ? { customerName: ticket.customer.name } : {}),
      tone: ticket.customer.tone ?? ('formal' as const),
      language: 'en',
      frustrated: false,
    };
    const draft = await offline.generate(request);
    cost.generateCalls += 1;
    charge(LARGE_MODEL, generateSegments(request, false), {
      reply: draft.reply,
      citations: draft.citations,
      escalate: draft.escalate,
    });

    if (escalated(position)) {
      const summaryRequest = { text, maxSentences: 2 };
      const { summary } = await offline.summarize(summaryRequest);
      cost.summarizeCalls += 1;
      charge(SMALL_MODEL, summarizeSegments(summaryRequest, false), { summary });
    }
  }
  cost.perTicketUsd = totalUsd / args.tickets.length;
  return cost;
}

export async function measureCost(args: {
  classifier: LocalClassifier;
  index: KnowledgeIndex;
  tickets: BenchTicket[];
  withoutCaching: boolean;
}): Promise<CostResult> {
  const ours = await runOurs(args, true);
  const oursWithoutCaching = args.withoutCaching ? (await runOurs(args, false)).cost : undefined;
  const seed = await runSeed(args, (position) => (ours.records[position]?.tier ?? 0) >= 2);
  const ratio = ours.cost.perTicketUsd / seed.perTicketUsd;
  progress(
    `cost: ours $${ours.cost.perTicketUsd.toFixed(5)}/ticket (small model on ${ours.cost.classifyCalls}/${args.tickets.length}), seed $${seed.perTicketUsd.toFixed(5)}/ticket, ratio ${ratio.toFixed(3)}`,
  );
  return {
    tickets: args.tickets.length,
    ours: ours.cost,
    ...(oursWithoutCaching ? { oursWithoutCaching } : {}),
    seed,
    ratio,
  };
}
