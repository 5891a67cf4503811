/**
 * Retrieval metrics over ranked document ids. Recall@k is the share of a query's relevant
 * documents found in its top k (averaged over queries); MRR is the mean reciprocal rank of the
 * first relevant document (0 when none is retrieved).
 */
import { AppError } from '../../server/errors.ts';

export function recallAtK(ranked: readonly string[], relevant: ReadonlySet<string>, k: number): number {
  if (!(Number.isInteger(k) && k >= 1)) throw new AppError('BAD_REQUEST', `k must be a positive integer, got ${k}`);
  if (relevant.size === 0) throw new AppError('BAD_REQUEST', 'recall needs at least one relevant document');
  const top = new Set(ranked.slice(0, k));
  let found = 0;
  for (const id of relevant) if (top.has(id)) found++;
  return found / relevant.size;
}

export function reciprocalRank(ranked: readonly string[], relevant: ReadonlySet<string>): number {
  const index = ranked.findIndex((id) => relevant.has(id));
  return index === -1 ? 0 : 1 / (index + 1);
}

export interface RankedQuery {
  ranked: readonly string[];
  relevant: ReadonlySet<string>;
}

export interface RetrievalSummary {
  queries: number;
  recallAt: Record<number, number>;
  mrr: number;
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** Averages over queries that have at least one relevant document (others are skipped). */
export function summarizeRetrieval(
  queries: readonly RankedQuery[],
  ks: readonly number[] = [1, 3, 5],
): RetrievalSummary {
  const usable = queries.filter((query) => query.relevant.size > 0);
  const recallAt: Record<number, number> = {};
  for (const k of ks) recallAt[k] = mean(usable.map((query) => recallAtK(query.ranked, query.relevant, k)));
  return {
    queries: usable.length,
    recallAt,
    mrr: mean(usable.map((query) => reciprocalRank(query.ranked, query.relevant))),
  };
}
