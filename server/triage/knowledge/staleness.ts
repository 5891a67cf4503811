import type { Article } from '../types.ts';

export const STALE_AFTER_DAYS = 60;

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * An article is stale when its last review (or, lacking one, its last update) is more than `days`
 * old. With neither date we cannot tell, and flagging every dateless article (JSONL sources often
 * have none) would make the flag noise, so it is not stale.
 */
export function isStale(
  article: Pick<Article, 'reviewedAt' | 'updatedAt'>,
  now: Date,
  days = STALE_AFTER_DAYS,
): boolean {
  const reference = article.reviewedAt ?? article.updatedAt;
  if (reference === undefined) return false;
  const time = Date.parse(reference);
  if (Number.isNaN(time)) return false;
  return now.getTime() - time > days * DAY_MS;
}
