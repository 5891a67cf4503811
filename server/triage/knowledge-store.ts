/**
 * Knowledge bases per tenant. A tenant's articles live in the store (synced from its help
 * center); a tenant without any uses the default KB (KB_PATH, the shipped sample for the demo).
 * Indexes are built in memory and rebuilt when the tenant's KB version changes.
 */
import type { Store } from '../store/port.ts';
import { createKnowledgeIndex, type KnowledgeIndex } from './knowledge/index.ts';
import type { Article } from './types.ts';

const VERSION_KEY = 'meta:version';
const ARTICLE_PREFIX = 'article:';
/** How long a cached index is trusted before the version is checked again (other processes may sync). */
const RECHECK_MS = 30_000;

export interface KnowledgeProvider {
  forTenant(tenantId: string): Promise<KnowledgeIndex>;
  upsert(tenantId: string, articles: Article[]): Promise<void>;
  remove(tenantId: string, articleIds: string[]): Promise<void>;
  list(tenantId: string): Promise<Article[]>;
}

export function createKnowledgeProvider(options: {
  store: Store;
  defaultArticles: Article[];
  staleAfterDays?: number;
  now?: () => Date;
}): KnowledgeProvider {
  const indexOptions = {
    ...(options.staleAfterDays === undefined ? {} : { staleAfterDays: options.staleAfterDays }),
    ...(options.now === undefined ? {} : { now: options.now }),
  };
  let defaultIndex: KnowledgeIndex | undefined;
  const cache = new Map<string, { version: number; checkedAt: number; index: KnowledgeIndex }>();
  const kv = (tenantId: string) => options.store.forTenant(tenantId).namespace<Article | number>('knowledge');

  async function list(tenantId: string): Promise<Article[]> {
    const articles: Article[] = [];
    for await (const [key, value] of kv(tenantId).entries()) {
      if (key.startsWith(ARTICLE_PREFIX) && typeof value === 'object') articles.push(value);
    }
    return articles;
  }

  async function bump(tenantId: string): Promise<void> {
    const current = (await kv(tenantId).get(VERSION_KEY)) as number | undefined;
    await kv(tenantId).set(VERSION_KEY, (current ?? 0) + 1);
    cache.delete(tenantId);
  }

  return {
    async forTenant(tenantId) {
      const cached = cache.get(tenantId);
      if (cached && Date.now() - cached.checkedAt < RECHECK_MS) return cached.index;
      const version = ((await kv(tenantId).get(VERSION_KEY)) as number | undefined) ?? 0;
      if (cached && cached.version === version) {
        cached.checkedAt = Date.now();
        return cached.index;
      }
      const articles = version === 0 ? [] : await list(tenantId);
      defaultIndex ??= articles.length > 0 ? undefined : createKnowledgeIndex(options.defaultArticles, indexOptions);
      const index = articles.length > 0 ? createKnowledgeIndex(articles, indexOptions) : defaultIndex!;
      cache.set(tenantId, { version, checkedAt: Date.now(), index });
      return index;
    },
    async upsert(tenantId, articles) {
      const store = kv(tenantId);
      for (const article of articles) await store.set(`${ARTICLE_PREFIX}${article.id}`, article);
      await bump(tenantId);
    },
    async remove(tenantId, articleIds) {
      const store = kv(tenantId);
      for (const id of articleIds) await store.delete(`${ARTICLE_PREFIX}${id}`);
      await bump(tenantId);
    },
    list,
  };
}
