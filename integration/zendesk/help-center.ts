/**
 * Help Center as the knowledge base: a full import (cursor pagination) and an incremental sync
 * (`/api/v2/help_center/incremental/articles?start_time=`), mapped to the triage engine's Article.
 *
 * Assumptions (PLATFORM.md leaves them open):
 * - The incremental export returns changed articles including drafts (draft: true), but no
 *   tombstones for deleted or archived articles. Those disappear only from the full listing, so
 *   removals of deleted/archived articles are found by a full import given the ids the KB holds.
 * - Pages are time-based: `end_time` of a page is the next `start_time`; an article may appear on
 *   two pages at the boundary, which an upsert by id absorbs.
 */
import type { Article } from '../../server/triage/types.ts';
import type { ZendeskClient } from './client.ts';
import type { ZendeskArticle, ZendeskSection } from './schemas.ts';

export interface HelpCenterSyncResult {
  /** Published articles to insert or replace, by id. */
  upserted: Article[];
  /** Ids of articles to drop from the KB (drafts, and with knownIds: deleted or archived). */
  removed: string[];
  /** Epoch seconds to pass as `startTime` to the next incremental sync. */
  nextStartTime: number;
}

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  ndash: '–',
  mdash: '—',
  hellip: '…',
  rsquo: '’',
  lsquo: '‘',
  rdquo: '”',
  ldquo: '“',
};

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, entity: string) => {
    if (entity[0] === '#') {
      const code =
        entity[1] === 'x' || entity[1] === 'X' ? Number.parseInt(entity.slice(2), 16) : Number(entity.slice(1));
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[entity.toLowerCase()] ?? whole;
  });
}

const BLOCK_TAGS = /<\/?(p|div|br|h[1-6]|li|ul|ol|tr|table|section|article|blockquote|pre|hr)\b[^>]*>/gi;

/** Article HTML to plain text good enough for retrieval: blocks become line breaks, lists keep bullets. */
export function htmlToPlainText(html: string): string {
  return decodeEntities(
    html
      .replace(/<(script|style)\b[^>]*>[\s\S]*?<\/\1>/gi, ' ')
      .replace(/<!--[\s\S]*?-->/g, ' ')
      .replace(/<li\b[^>]*>/gi, '\n- ')
      .replace(BLOCK_TAGS, '\n')
      .replace(/<[^>]+>/g, ''),
  )
    .replace(/[ \t\f\v\u00a0]+/g, ' ')
    .replace(/ *\n */g, '\n')
    .replace(/\n{2,}/g, '\n')
    .trim();
}

export function toArticle(article: ZendeskArticle, sectionNames: ReadonlyMap<number, string>): Article {
  const productArea = article.section_id == null ? undefined : sectionNames.get(article.section_id);
  const updatedAt = article.updated_at ?? article.edited_at ?? undefined;
  return {
    id: String(article.id),
    title: article.title,
    body: htmlToPlainText(article.body ?? ''),
    ...(article.html_url ? { url: article.html_url } : {}),
    ...(productArea ? { productArea } : {}),
    ...(updatedAt ? { updatedAt } : {}),
  };
}

export async function loadSectionNames(client: ZendeskClient): Promise<Map<number, string>> {
  const names = new Map<number, string>();
  let after: string | undefined;
  do {
    const page: { items: ZendeskSection[]; after?: string } = await client.listSectionsPage(after ? { after } : {});
    for (const section of page.items) names.set(section.id, section.name);
    after = page.after;
  } while (after);
  return names;
}

export interface FullImportOptions {
  /** Ids the KB holds now; those no longer published are returned in `removed`. */
  knownIds?: Iterable<string>;
  pageSize?: number;
  now?: () => number;
}

export async function importHelpCenter(
  client: ZendeskClient,
  options: FullImportOptions = {},
): Promise<HelpCenterSyncResult> {
  // Taken before reading so changes made during the import are picked up by the next sync.
  const startedAt = Math.floor((options.now ?? Date.now)() / 1000);
  const sectionNames = await loadSectionNames(client);
  const published = new Map<string, Article>();
  const drafts = new Set<string>();
  let after: string | undefined;
  do {
    const page = await client.listArticlesPage({ ...(after ? { after } : {}), size: options.pageSize ?? 100 });
    for (const article of page.items) {
      if (article.draft) drafts.add(String(article.id));
      else published.set(String(article.id), toArticle(article, sectionNames));
    }
    after = page.after;
  } while (after);
  const removed = new Set(drafts);
  for (const id of options.knownIds ?? []) if (!published.has(id)) removed.add(id);
  return { upserted: [...published.values()], removed: [...removed], nextStartTime: startedAt };
}

export interface IncrementalSyncOptions {
  /** Epoch seconds: the previous result's nextStartTime. */
  startTime: number;
  /** Stop after this many pages (a safety bound; the next sync continues from nextStartTime). */
  maxPages?: number;
}

export async function syncHelpCenterIncremental(
  client: ZendeskClient,
  options: IncrementalSyncOptions,
): Promise<HelpCenterSyncResult> {
  const sectionNames = await loadSectionNames(client);
  const upserted = new Map<string, Article>();
  const removed = new Set<string>();
  let startTime = options.startTime;
  const maxPages = options.maxPages ?? 50;
  for (let page = 0; page < maxPages; page++) {
    const response = await client.incrementalArticles(startTime);
    for (const article of response.articles) {
      const id = String(article.id);
      if (article.draft) {
        upserted.delete(id);
        removed.add(id);
      } else {
        removed.delete(id);
        upserted.set(id, toArticle(article, sectionNames));
      }
    }
    const endTime = response.end_time ?? startTime;
    // Stop at the end of the stream, and when time does not advance (no progress possible).
    if (!response.next_page || response.articles.length === 0 || endTime <= startTime) {
      startTime = Math.max(startTime, endTime);
      break;
    }
    startTime = endTime;
  }
  return { upserted: [...upserted.values()], removed: [...removed], nextStartTime: startTime };
}
