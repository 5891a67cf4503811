/**
 * The triage engine: one ticket event in, one TicketRecord out. Classify locally first (the small
 * model only when unsure and configured), decide the tier, retrieve and gate, assemble budgeted
 * context, generate, verify the draft in code, and hand off when a human must take over.
 * Nothing here knows which helpdesk, store or LLM vendor is behind the ports.
 */
import { createHash } from 'node:crypto';
import type { KeyValue } from '../store/port.ts';
import { assembleContext, type Budgets, DEFAULT_BUDGETS } from './context/budget.ts';
import { detectPromptInjection, verifyDraft } from './grounding/guard.ts';
import { buildHandoff } from './handoff.ts';
import type { KnowledgeIndex } from './knowledge/index.ts';
import type { LlmClassification, LlmPort, Tone } from './llm/port.ts';
import { PROMPT_VERSION } from './llm/prompts.ts';
import { decideTier, finalizeTier, type TierDecision } from './policy/tier.ts';
import type { Citation, CostReport, TicketRecord, TriageEngine, TriageInput } from './record.ts';
import { addUsage, type Usage, ZERO_USAGE } from './tokens.ts';
import { type Classification, OUT_OF_SCOPE, type RetrievedPassage } from './types.ts';

export const ENGINE_VERSION = 'triage-engine-1';

/** What the engine needs from the local classifier. */
export interface LocalClassifier {
  readonly modelVersion: string;
  readonly intents: readonly string[];
  classify(text: string, options?: { priorTicketsSameIssue?: number }): Classification;
}

export interface TriageEngineDeps {
  /** The default classifier. */
  classifier: LocalClassifier;
  /** A tenant's own classifier (trained on its examples and corrections), when it has one. */
  classifierFor?: (tenantId: string) => Promise<LocalClassifier>;
  /** The tenant's knowledge index (the caller picks it per tenant). */
  knowledge: (tenantId: string) => Promise<KnowledgeIndex> | KnowledgeIndex;
  llm: LlmPort;
  /** Caches small-model classifications by content hash. */
  classificationCache?: KeyValue<Omit<LlmClassification, 'usage'>>;
  /** Names the grounding guard always allows (product and company names). */
  knownNames?: string[];
  budgets?: Budgets;
  smallModel?: string;
  largeModel?: string;
  now?: () => Date;
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 1000) / 1000;
}

function chooseTone(setting: 'auto' | Tone, input: TriageInput): Tone {
  if (setting !== 'auto') return setting;
  if (input.customer?.tone) return input.customer.tone;
  // B2B plans get a formal reply; consumer plans a casual one; unknown stays formal.
  return /free|personal|starter/i.test(input.customer?.plan ?? '') ? 'casual' : 'formal';
}

function addCall(cost: CostReport, step: CostReport['calls'][number]['step'], model: string, usage: Usage): void {
  if (usage.inputTokens + usage.outputTokens === 0) return;
  cost.inputTokens += usage.inputTokens;
  cost.outputTokens += usage.outputTokens;
  cost.cacheCreationInputTokens += usage.cacheCreationInputTokens;
  cost.cacheReadInputTokens += usage.cacheReadInputTokens;
  cost.costUsd = cost.costUsd === null || usage.costUsd === null ? null : cost.costUsd + usage.costUsd;
  cost.calls.push({ step, model, costUsd: usage.costUsd });
}

export function createTriageEngine(deps: TriageEngineDeps): TriageEngine {
  const budgets = deps.budgets ?? DEFAULT_BUDGETS;
  const now = deps.now ?? (() => new Date());

  async function cascade(
    classifier: LocalClassifier,
    text: string,
    local: Classification,
    input: TriageInput,
    cost: CostReport,
  ): Promise<Classification> {
    if (deps.llm.provider === 'offline' || local.confidence >= input.settings.cascadeBelowConfidence) return local;
    const key = createHash('sha256')
      .update(`${classifier.intents.join(',')}\n${text}`)
      .digest('hex');
    const cached = await deps.classificationCache?.get(key);
    if (cached !== undefined)
      return { ...local, ...pickLlm(cached), source: 'cache', alternatives: local.alternatives };
    try {
      const answer = await deps.llm.classify({ text, intents: classifier.intents });
      if (answer === null) return local;
      addCall(cost, 'classify', answer.model, answer.usage);
      const { usage: _usage, ...withoutUsage } = answer;
      await deps.classificationCache?.set(key, withoutUsage, 7 * 24 * 3_600_000);
      return { ...local, ...pickLlm(answer), source: 'llm', alternatives: local.alternatives };
    } catch {
      // The small model is an aid, not a dependency: the local answer stands.
      return local;
    }
  }

  return {
    async triage(input) {
      const timings: Record<string, number> = {};
      const cost: CostReport = {
        inputTokens: 0,
        outputTokens: 0,
        cacheCreationInputTokens: 0,
        cacheReadInputTokens: 0,
        costUsd: 0,
        calls: [],
      };
      const text = [input.subject, input.body].filter((part) => part && part.trim() !== '').join('\n');
      const prior = input.customer?.priorTicketsSameIssue ?? 0;

      let started = performance.now();
      const classifier = (await deps.classifierFor?.(input.tenantId)) ?? deps.classifier;
      const local = classifier.classify(text, { priorTicketsSameIssue: prior });
      timings.classify_local = elapsed(started);

      started = performance.now();
      const classification = await cascade(classifier, text, local, input, cost);
      if (classification.source !== 'local') timings.classify_llm = elapsed(started);
      // Our own out-of-scope rule applies to every source.
      const outOfScope =
        classification.outOfScope ||
        classification.intent === OUT_OF_SCOPE ||
        classification.confidence < input.settings.outOfScopeBelowConfidence;
      const finalClassification: Classification = { ...classification, outOfScope };

      const injection = detectPromptInjection(text);
      const frustrated = classification.sentiment.frustrated || prior > 1;

      started = performance.now();
      const decision = decideTier(
        {
          intent: classification.intent,
          confidence: classification.confidence,
          outOfScope,
          urgency: classification.urgency,
          frustrated,
          injectionSuspected: injection.suspicious,
          intentAccuracy: input.intentAccuracy?.[classification.intent],
        },
        input.settings,
      );
      timings.policy = elapsed(started);

      const team = input.settings.routingMap[outOfScope ? OUT_OF_SCOPE : classification.intent] ?? 'general';
      const whatWasTried: string[] = [
        `Classified as "${classification.intent}" (confidence ${classification.confidence.toFixed(2)}, ${classification.source}).`,
      ];
      const whyItFailed: string[] = [];

      let passages: RetrievedPassage[] = [];
      let retrieval: TicketRecord['retrieval'] = { answerable: null, gateScore: null, passagesConsidered: 0 };
      let final: TierDecision = decision;
      let draft: TicketRecord['draft'] = null;
      let budget: TicketRecord['budget'] = null;
      let citations: Citation[] = [];

      if (decision.generate) {
        started = performance.now();
        const index = await deps.knowledge(input.tenantId);
        const customerTurns = (input.customer?.interactions ?? [])
          .filter((item) => item.author === 'customer')
          .map((item) => item.text)
          .slice(-3);
        const turns = [...customerTurns, text];
        const results = index.searchConversation(turns, 5);
        const gate = index.answerability(turns, results);
        timings.retrieve = elapsed(started);
        retrieval = { answerable: gate.answerable, gateScore: gate.score, passagesConsidered: results.length };
        whatWasTried.push(
          results.length === 0
            ? 'Searched the knowledge base: nothing matched.'
            : `Searched the knowledge base: best matches ${[...new Set(results.map((passage) => passage.articleId))].slice(0, 3).join(', ')} (gate score ${gate.score.toFixed(2)}, threshold ${gate.threshold.toFixed(2)}).`,
        );

        if (gate.answerable) {
          started = performance.now();
          const context = assembleContext(input.customer, results, budgets);
          passages = context.passages;
          let method: 'api' | 'estimate' = 'estimate';
          let totalTokens = context.totalTokens;
          if (deps.llm.provider !== 'offline') {
            const counted = await deps.llm
              .countTokens({
                text: `${context.customerContextText}\n${passages.map((p) => p.text).join('\n')}\n${text}`,
              })
              .catch(() => undefined);
            if (counted !== undefined) {
              method = counted.method;
              totalTokens = counted.tokens;
            }
          }
          budget = { method, totalTokens, lines: context.lines };
          timings.context = elapsed(started);

          started = performance.now();
          const generated = await deps.llm.generate({
            passages,
            customerContextText: context.customerContextText,
            customerMessage: text,
            ...(input.customer?.name ? { customerName: input.customer.name } : {}),
            tone: chooseTone(input.settings.tone, input),
            language: classification.language === 'unknown' ? 'en' : classification.language,
            frustrated,
          });
          timings.generate = elapsed(started);
          addCall(cost, 'generate', generated.model, generated.usage);

          started = performance.now();
          const verdict = verifyDraft({
            reply: generated.reply,
            citations: generated.citations,
            passages,
            customerContextText: context.customerContextText,
            toolConfirmations: input.toolConfirmations ?? [],
            knownNames: deps.knownNames ?? [],
          });
          timings.verify = elapsed(started);
          const failures = verdict.checks
            .filter((check) => !check.passed)
            .map((check) => `${check.name}: ${check.detail}`);
          final = finalizeTier(decision, {
            answerable: true,
            escalateRequested: generated.escalate.needed,
            escalateReason: generated.escalate.reason,
            groundingPassed: verdict.passed,
            groundingFailures: failures,
            fallback: generated.fallbackReason !== undefined,
            offline: generated.provider === 'offline',
          });
          draft = {
            text: generated.reply,
            provider: generated.provider,
            model: generated.model,
            ...(generated.fallbackReason ? { fallbackReason: generated.fallbackReason } : {}),
            grounding: {
              passed: verdict.passed,
              checks: verdict.checks,
              unsupportedSentences: verdict.unsupportedSentences,
            },
          };
          const cited = new Set(generated.citations);
          const seen = new Set<string>();
          citations = passages
            .filter(
              (passage) => cited.has(passage.articleId) && !seen.has(passage.articleId) && seen.add(passage.articleId),
            )
            .map((passage) => ({
              articleId: passage.articleId,
              title: passage.title,
              ...(passage.url ? { url: passage.url } : {}),
              stale: passage.stale,
              score: passage.score,
            }));
          whatWasTried.push(
            `Drafted a reply (${generated.provider}) citing ${citations.map((c) => c.articleId).join(', ') || 'nothing'}.`,
          );
          if (generated.escalate.needed) whyItFailed.push(`The model asked to escalate: ${generated.escalate.reason}`);
          if (!verdict.passed) whyItFailed.push(...failures);
        } else {
          final = finalizeTier(decision, {
            answerable: false,
            escalateRequested: false,
            groundingPassed: false,
            groundingFailures: [],
            fallback: false,
            offline: false,
          });
          whyItFailed.push(
            'No knowledge-base article supports an answer; the agent does not answer from general knowledge.',
          );
        }
      } else {
        whyItFailed.push(...decision.reasons);
      }

      let escalation: TicketRecord['escalation'] = null;
      if (final.tier >= 2) {
        started = performance.now();
        const { handoff, usage } = await buildHandoff(
          {
            intent: outOfScope ? OUT_OF_SCOPE : classification.intent,
            team,
            priority: final.priority,
            text,
            whatWasTried,
            whyItFailed,
          },
          deps.llm,
        );
        addCall(cost, 'summarize', deps.smallModel ?? deps.llm.provider, usage);
        escalation = handoff;
        timings.handoff = elapsed(started);
      }

      return {
        tenantId: input.tenantId,
        ticketId: input.ticketId,
        eventId: input.eventId,
        createdAt: now().toISOString(),
        text,
        language: classification.language,
        classification: finalClassification,
        frustrated,
        injection: { suspected: injection.suspicious, markers: injection.markers },
        tier: final.tier,
        priority: final.priority,
        tierReasons: final.reasons,
        action: final.tier === 0 ? 'public_reply' : final.tier === 1 ? 'internal_note' : 'escalate',
        retrieval,
        citations,
        draft: final.tier >= 2 ? (draft === null ? null : draft) : draft,
        escalation,
        budget,
        cost,
        timings,
        versions: {
          engine: ENGINE_VERSION,
          prompt: PROMPT_VERSION,
          classifierModel: classifier.modelVersion,
          llmProvider: deps.llm.provider,
        },
      };
    },
  };
}

function pickLlm(answer: Omit<LlmClassification, 'usage'>): Partial<Classification> {
  return {
    intent: answer.intent,
    confidence: answer.confidence,
    outOfScope: answer.outOfScope,
    urgency: answer.urgency,
    language: answer.language,
    sentiment: answer.sentiment,
  };
}

export { addUsage, ZERO_USAGE };
