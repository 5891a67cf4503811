/**
 * Figure 2, pipeline overhead: engine.triage end to end in this process with the zero-latency
 * in-process LLM fake (answers at once, provider 'anthropic' so the cascade, token count and
 * summary paths run) and the 2,000-article KB. Everything but LLM and helpdesk time: local
 * classification, policy, retrieval and the gate, context budgets, grounding checks, handoff.
 * No classification cache (it would be a store round trip the fake makes pointless).
 */
import type { LocalClassifier } from '../../server/triage/engine.ts';
import type { KnowledgeIndex } from '../../server/triage/knowledge/index.ts';
import type { BenchTicket } from '../data/tickets.ts';
import { benchEngine, triageInput } from '../lib/engine.ts';
import { createFakeLlm } from '../lib/llm-fakes.ts';
import { progress } from '../lib/progress.ts';
import { type LatencySummary, percentile, summarize } from '../lib/stats.ts';

export interface OverheadResult {
  latency: LatencySummary;
  tiers: Record<string, number>;
  generated: number;
  /** p50/p99 per engine step (the record's own timings), to show what dominates. */
  steps: Record<string, { p50: number; p99: number }>;
}

export async function measureOverhead(args: {
  classifier: LocalClassifier;
  index: KnowledgeIndex;
  tickets: BenchTicket[];
  count: number;
  warmup: number;
}): Promise<OverheadResult> {
  const llm = createFakeLlm({
    draft: 'quote',
    classifyAs: (text) => ({ intent: args.classifier.classify(text).intent, confidence: 0.9 }),
  });
  const engine = benchEngine({ classifier: args.classifier, index: args.index, llm });
  const ticketAt = (position: number) => args.tickets[position % args.tickets.length] as BenchTicket;
  for (let position = 0; position < args.warmup; position += 1) await engine.triage(triageInput(ticketAt(position), 0));
  const samples: number[] = [];
  const tiers: Record<string, number> = {};
  let generated = 0;
  const stepSamples = new Map<string, number[]>();
  for (let position = 0; position < args.count; position += 1) {
    const input = triageInput(ticketAt(position), 1 + Math.floor(position / args.tickets.length));
    const started = performance.now();
    const record = await engine.triage(input);
    samples.push(performance.now() - started);
    tiers[`tier${record.tier}`] = (tiers[`tier${record.tier}`] ?? 0) + 1;
    if (record.draft !== null) generated += 1;
    for (const [step, ms] of Object.entries(record.timings))
      stepSamples.set(step, [...(stepSamples.get(step) ?? []), ms]);
  }
  const steps = Object.fromEntries(
    [...stepSamples].map(([step, values]) => [step, { p50: percentile(values, 50), p99: percentile(values, 99) }]),
  );
  const latency = summarize(samples);
  progress(
    `overhead: ${latency.count} tickets, p50 ${latency.p50.toFixed(2)} ms, p99 ${latency.p99.toFixed(2)} ms (${generated} with a draft)`,
  );
  progress(
    `overhead: per step p99 ${Object.entries(steps)
      .map(([step, { p99 }]) => `${step} ${p99.toFixed(2)} ms`)
      .join(', ')}`,
  );
  return { latency, tiers, generated, steps };
}
