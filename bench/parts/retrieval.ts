/**
 * Figure 4b, retrieval: the engine's retrieval step (conversation search for the top 5 passages
 * plus the answerability gate) per ticket, on a KB of the shipped sample articles plus synthetic
 * ones up to the size measured.
 */
import type { KnowledgeIndex } from '../../server/triage/knowledge/index.ts';
import type { BenchTicket } from '../data/tickets.ts';
import { retrievalTurns } from '../lib/engine.ts';
import { progress } from '../lib/progress.ts';
import { type LatencySummary, summarize } from '../lib/stats.ts';

export interface RetrievalResult {
  articles: number;
  passages: number;
  buildSeconds: number;
  latency: LatencySummary;
}

export function measureRetrieval(args: {
  index: KnowledgeIndex;
  buildSeconds: number;
  tickets: BenchTicket[];
  count: number;
}): RetrievalResult {
  const turnsAt = (position: number) => retrievalTurns(args.tickets[position % args.tickets.length] as BenchTicket);
  for (let position = 0; position < Math.min(20, args.count); position += 1) {
    const turns = turnsAt(position);
    args.index.answerability(turns, args.index.searchConversation(turns, 5));
  }
  const samples: number[] = [];
  for (let position = 0; position < args.count; position += 1) {
    const turns = turnsAt(position);
    const started = performance.now();
    const results = args.index.searchConversation(turns, 5);
    args.index.answerability(turns, results);
    samples.push(performance.now() - started);
  }
  const latency = summarize(samples);
  progress(
    `retrieval: ${args.index.size} articles (${args.index.passageCount} passages, built in ${args.buildSeconds.toFixed(1)} s): p50 ${latency.p50.toFixed(2)} ms, p99 ${latency.p99.toFixed(2)} ms`,
  );
  return { articles: args.index.size, passages: args.index.passageCount, buildSeconds: args.buildSeconds, latency };
}
