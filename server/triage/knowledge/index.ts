/**
 * The knowledge index: BM25 over article passages (title and text fields, see bm25.ts), with the
 * answerability gate and staleness on top. Pure in-memory; rebuilt from the sources or updated
 * with upsert/remove.
 */
import { AppError } from '../../errors.ts';
import type { Article, RetrievedPassage } from '../types.ts';
import { createBm25Index, type FieldTerms, type ScoredSlots } from './bm25.ts';
import { type ChunkOptions, chunkArticle, DEFAULT_CHUNK_OPTIONS, type Passage } from './chunk.ts';
import { DEFAULT_GATE } from './default-gate.ts';
import { decideAnswerable, type GateConfig, type GateDecision, type GateFeatures } from './gate.ts';
import { isStale, STALE_AFTER_DAYS } from './staleness.ts';
import { normalizeTerm, splitWords } from './text.ts';

export interface ConversationWeights {
  /** Weight of the user turn just before the last one (the last has weight 1). */
  previousTurnWeight: number;
  /** Each older turn gets this factor more (0.5: halves per turn). */
  decay: number;
  /** How many earlier turns to use at most. */
  maxPreviousTurns: number;
}

export const DEFAULT_CONVERSATION_WEIGHTS: ConversationWeights = {
  previousTurnWeight: 0.5,
  decay: 0.5,
  maxPreviousTurns: 3,
};

export interface KnowledgeIndexOptions {
  chunk: ChunkOptions;
  /** BM25 boost of the title field over the passage text. */
  titleBoost: number;
  /**
   * Prefix and fuzzy matching stay off: on short support questions they add noise, and the index
   * does not implement them (anything but false is rejected).
   */
  prefix: boolean;
  fuzzy: false | number;
  conversation: ConversationWeights;
  gate: GateConfig;
  staleAfterDays: number;
  /** Clock for the stale flag (tests pin it). */
  now: () => Date;
}

export const DEFAULT_INDEX_OPTIONS: KnowledgeIndexOptions = {
  chunk: DEFAULT_CHUNK_OPTIONS,
  titleBoost: 2,
  prefix: false,
  fuzzy: false,
  conversation: DEFAULT_CONVERSATION_WEIGHTS,
  gate: DEFAULT_GATE,
  staleAfterDays: STALE_AFTER_DAYS,
  now: () => new Date(),
};

/** Passages collapsed to their article: recall is counted per article (document) id. */
export interface ArticleHit {
  articleId: string;
  title: string;
  url?: string;
  /** The best passage score of the article. */
  score: number;
  stale: boolean;
  passages: RetrievedPassage[];
}

export interface AnswerabilityResult extends GateDecision {}

export interface KnowledgeIndex {
  readonly options: KnowledgeIndexOptions;
  /** Number of articles. */
  readonly size: number;
  readonly passageCount: number;
  search(query: string, k?: number): RetrievedPassage[];
  /** User turns in order, the current question last; `weights` overrides the index's conversation weights. */
  searchConversation(turns: string[], k?: number, weights?: ConversationWeights): RetrievedPassage[];
  /** Top-k distinct articles (best passage score each); a string[] is a conversation. */
  searchArticles(query: string | string[], k?: number, weights?: ConversationWeights): ArticleHit[];
  /** Retrieval evidence for the gate; a string[] is a conversation (current question last). */
  gateFeatures(query: string | string[], results?: RetrievedPassage[]): GateFeatures;
  answerability(query: string | string[], results?: RetrievedPassage[]): AnswerabilityResult;
  upsert(articles: Article[]): void;
  remove(articleIds: string[]): void;
  articles(): Article[];
  getArticle(id: string): Article | undefined;
}

interface IndexedPassage extends Passage {
  /** Distinct index terms of title and text: the gate's coverage and document frequencies. */
  terms: Set<string>;
  slot: number;
  /** The article's distinct section headings, shared by its passages (absent below two). */
  sectionHeadings?: readonly string[];
}

/** Analyzed queries kept: the engine analyzes the last turn twice (search, then the gate). */
const QUERY_CACHE_SIZE = 256;
/** Raw word -> index term; bounded so an endless stream of new words cannot grow it forever. */
const TERM_CACHE_SIZE = 200_000;

function validateOptions(options: KnowledgeIndexOptions): void {
  const conversation = options.conversation;
  if (!(options.titleBoost > 0) || !(options.staleAfterDays > 0)) {
    throw new AppError('CONFIG_INVALID', 'titleBoost and staleAfterDays must be positive');
  }
  if (options.prefix || options.fuzzy !== false) {
    throw new AppError('CONFIG_INVALID', 'prefix and fuzzy matching are not supported by the index');
  }
  if (
    !(conversation.previousTurnWeight >= 0) ||
    !(conversation.decay >= 0) ||
    !(Number.isInteger(conversation.maxPreviousTurns) && conversation.maxPreviousTurns >= 0)
  ) {
    throw new AppError('CONFIG_INVALID', 'conversation weights must be non-negative', { details: conversation });
  }
}

export function createKnowledgeIndex(
  initialArticles: Article[] = [],
  overrides: Partial<KnowledgeIndexOptions> = {},
): KnowledgeIndex {
  const options: KnowledgeIndexOptions = { ...DEFAULT_INDEX_OPTIONS, ...overrides };
  validateOptions(options);
  const articleById = new Map<string, Article>();
  const passageById = new Map<string, IndexedPassage>();
  const passageIdsByArticle = new Map<string, string[]>();
  // Passage-level document frequency over title and text together, for the gate's IDF weights.
  const documentFrequency = new Map<string, number>();
  const bm25 = createBm25Index([options.titleBoost, 1]);
  let passageBySlot: Array<IndexedPassage | undefined> = [];
  bm25.onCompact((remap) => {
    const next: Array<IndexedPassage | undefined> = [];
    for (const passage of passageBySlot) {
      if (passage === undefined) continue;
      const slot = remap[passage.slot] ?? -1;
      if (slot < 0) continue;
      passage.slot = slot;
      next[slot] = passage;
    }
    passageBySlot = next;
  });

  const termCache = new Map<string, string | null>();
  function termOf(word: string): string | null {
    let term = termCache.get(word);
    if (term === undefined) {
      if (termCache.size >= TERM_CACHE_SIZE) termCache.clear();
      term = normalizeTerm(word);
      termCache.set(word, term);
    }
    return term;
  }

  /** What MiniSearch stored per field: distinct raw tokens, and processed term frequencies. */
  function fieldTerms(text: string): FieldTerms {
    const words = splitWords(text);
    const frequencies = new Map<string, number>();
    for (const word of words) {
      const term = termOf(word);
      if (term) frequencies.set(term, (frequencies.get(term) ?? 0) + 1);
    }
    return { length: new Set(words).size, frequencies };
  }

  const queryCache = new Map<string, string[]>();
  /** The terms of a query (same tokenizer and term processing as the index), cached. */
  function queryTerms(text: string): string[] {
    const cached = queryCache.get(text);
    if (cached !== undefined) return cached;
    const terms: string[] = [];
    for (const word of splitWords(text)) {
      const term = termOf(word);
      if (term) terms.push(term);
    }
    if (queryCache.size >= QUERY_CACHE_SIZE) {
      const oldest = queryCache.keys().next();
      if (!oldest.done) queryCache.delete(oldest.value);
    }
    queryCache.set(text, terms);
    return terms;
  }

  function addArticle(article: Article): void {
    const passages = chunkArticle(article, options.chunk);
    const ids: string[] = [];
    const headings = [...new Set(passages.flatMap((passage) => (passage.heading ? [passage.heading] : [])))];
    const sectionHeadings = headings.length >= 2 ? headings : undefined;
    // Every passage carries the article title.
    const title = fieldTerms(article.title);
    for (const passage of passages) {
      if (passageById.has(passage.passageId)) {
        throw new AppError('CONFLICT', `duplicate passage id "${passage.passageId}"`, {
          details: { id: passage.passageId },
        });
      }
      const titleTerms = passage.title === article.title ? title : fieldTerms(passage.title);
      const text = fieldTerms(passage.text);
      const terms = new Set<string>(titleTerms.frequencies.keys());
      for (const term of text.frequencies.keys()) terms.add(term);
      const slot = bm25.add(passage.passageId, [titleTerms, text]);
      const indexed: IndexedPassage = { ...passage, terms, slot, ...(sectionHeadings ? { sectionHeadings } : {}) };
      passageById.set(passage.passageId, indexed);
      passageBySlot[slot] = indexed;
      for (const term of terms) documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1);
      ids.push(passage.passageId);
    }
    articleById.set(article.id, article);
    passageIdsByArticle.set(article.id, ids);
  }

  function removeArticle(id: string): void {
    for (const passageId of passageIdsByArticle.get(id) ?? []) {
      const passage = passageById.get(passageId);
      if (passage === undefined) continue;
      for (const term of passage.terms) {
        const count = (documentFrequency.get(term) ?? 1) - 1;
        if (count <= 0) documentFrequency.delete(term);
        else documentFrequency.set(term, count);
      }
      passageBySlot[passage.slot] = undefined;
      bm25.discard(passageId);
      passageById.delete(passageId);
    }
    passageIdsByArticle.delete(id);
    articleById.delete(id);
  }

  function upsert(articles: Article[]): void {
    const seen = new Set<string>();
    for (const article of articles) {
      if (seen.has(article.id)) {
        throw new AppError('CONFLICT', `duplicate article id "${article.id}" in one upsert`, {
          details: { id: article.id },
        });
      }
      seen.add(article.id);
    }
    for (const article of articles) {
      if (articleById.has(article.id)) removeArticle(article.id);
      addArticle(article);
    }
  }

  function toRetrieved(passage: IndexedPassage, score: number, now: Date): RetrievedPassage | undefined {
    const article = articleById.get(passage.articleId);
    if (article === undefined) return undefined;
    return {
      passageId: passage.passageId,
      articleId: passage.articleId,
      title: passage.title,
      ...(passage.heading !== undefined ? { heading: passage.heading } : {}),
      ...(passage.sectionHeadings !== undefined ? { sectionHeadings: passage.sectionHeadings } : {}),
      ...(article.url !== undefined ? { url: article.url } : {}),
      text: passage.text,
      score,
      stale: isStale(article, now, options.staleAfterDays),
    };
  }

  /** Higher score first; equal scores by passage id, so the order never depends on insertion. */
  function ranksBefore(a: number, b: number, scores: Float64Array): boolean {
    const scoreA = scores[a] as number;
    const scoreB = scores[b] as number;
    if (scoreA !== scoreB) return scoreA > scoreB;
    return (passageBySlot[a]?.passageId ?? '') < (passageBySlot[b]?.passageId ?? '');
  }

  /** The best k slots in rank order: one pass with a small sorted buffer, no full sort. */
  function topSlots(scored: ScoredSlots, k: number): number[] {
    const best: number[] = [];
    const { slots, scores } = scored;
    for (let position = 0; position < scored.count; position++) {
      const slot = slots[position] as number;
      if (best.length === k && !ranksBefore(slot, best[k - 1] as number, scores)) continue;
      let insertAt = best.length === k ? k - 1 : best.length;
      while (insertAt > 0 && ranksBefore(slot, best[insertAt - 1] as number, scores)) insertAt--;
      if (best.length === k) best.pop();
      best.splice(insertAt, 0, slot);
    }
    return best;
  }

  function toResults(slots: readonly number[], scores: Float64Array): RetrievedPassage[] {
    const now = options.now();
    const results: RetrievedPassage[] = [];
    for (const slot of slots) {
      const passage = passageBySlot[slot];
      const retrieved = passage && toRetrieved(passage, scores[slot] as number, now);
      if (retrieved) results.push(retrieved);
    }
    return results;
  }

  function checkK(k: number): void {
    if (!(Number.isInteger(k) && k >= 1)) throw new AppError('BAD_REQUEST', `k must be a positive integer, got ${k}`);
  }

  function queryScores(query: string): ScoredSlots {
    return bm25.score(query.trim().length === 0 ? [] : queryTerms(query));
  }

  /** Last turn at weight 1; earlier turns add their BM25 scores at decaying lower weights. */
  function conversationScores(turns: string[], weights = options.conversation): ScoredSlots {
    const { previousTurnWeight, decay, maxPreviousTurns } = weights;
    const termsOf = (turn: string | undefined) =>
      turn === undefined || turn.trim().length === 0 ? [] : queryTerms(turn);
    bm25.startConversation();
    bm25.addToConversation(termsOf(turns.at(-1)), 1, true);
    let weight = previousTurnWeight;
    for (let back = 2; back <= maxPreviousTurns + 1 && back <= turns.length && weight > 0; back++) {
      bm25.addToConversation(termsOf(turns.at(-back)), weight, false);
      weight *= decay;
    }
    return bm25.conversation();
  }

  function search(query: string, k = 5): RetrievedPassage[] {
    checkK(k);
    const scored = queryScores(query);
    return toResults(topSlots(scored, k), scored.scores);
  }

  function searchConversation(turns: string[], k = 5, weights?: ConversationWeights): RetrievedPassage[] {
    checkK(k);
    const scored = conversationScores(turns, weights);
    return toResults(topSlots(scored, k), scored.scores);
  }

  function searchArticles(query: string | string[], k = 5, weights?: ConversationWeights): ArticleHit[] {
    checkK(k);
    const scored = typeof query === 'string' ? queryScores(query) : conversationScores(query, weights);
    const { slots, scores } = scored;
    // Each article ranks by its best passage; its hit lists all its matching passages in rank order.
    const passagesByArticle = new Map<string, number[]>();
    const bestSlots: number[] = [];
    for (let position = 0; position < scored.count; position++) {
      const slot = slots[position] as number;
      const articleId = passageBySlot[slot]?.articleId;
      if (articleId === undefined) continue;
      const group = passagesByArticle.get(articleId);
      if (group === undefined) passagesByArticle.set(articleId, [slot]);
      else group.push(slot);
    }
    for (const group of passagesByArticle.values()) {
      let best = group[0] as number;
      for (const slot of group) if (ranksBefore(slot, best, scores)) best = slot;
      bestSlots.push(best);
    }
    const topArticles = topSlots({ slots: bestSlots, count: bestSlots.length, scores }, k);
    const hits: ArticleHit[] = [];
    for (const bestSlot of topArticles) {
      const articleId = passageBySlot[bestSlot]?.articleId ?? '';
      const group = [...(passagesByArticle.get(articleId) ?? [])].sort((a, b) =>
        a === b ? 0 : ranksBefore(a, b, scores) ? -1 : 1,
      );
      const passages = toResults(group, scores);
      const first = passages[0];
      if (first === undefined) continue;
      hits.push({
        articleId: first.articleId,
        title: first.title,
        ...(first.url !== undefined ? { url: first.url } : {}),
        score: first.score,
        stale: first.stale,
        passages,
      });
    }
    return hits;
  }

  function idf(term: string): number {
    const total = passageById.size;
    const frequency = documentFrequency.get(term) ?? 0;
    return Math.log(1 + (total - frequency + 0.5) / (frequency + 0.5));
  }

  function gateFeatures(query: string | string[], results?: RetrievedPassage[]): GateFeatures {
    const question = typeof query === 'string' ? query : (query.at(-1) ?? '');
    const retrieved = results ?? (typeof query === 'string' ? search(query, 10) : searchConversation(query, 10));
    const uniqueTerms = [...new Set(queryTerms(question))];
    const top = retrieved[0];
    if (uniqueTerms.length === 0 || top === undefined) return { coverage: 0, strength: 0, margin: 0 };
    const topTerms = passageById.get(top.passageId)?.terms ?? new Set(queryTermsOfPassage(top));
    let totalIdf = 0;
    let coveredIdf = 0;
    for (const term of uniqueTerms) {
      const weight = idf(term);
      totalIdf += weight;
      if (topTerms.has(term)) coveredIdf += weight;
    }
    const coverage = totalIdf > 0 ? coveredIdf / totalIdf : 0;
    // BM25 per matched term is about idf x (tf saturation <= k1 + 1) x field boost: divide by the
    // query's total IDF and squash, so the figure does not grow with query length or KB size.
    const relative = totalIdf > 0 ? top.score / totalIdf : 0;
    const strength = relative / (relative + 1);
    const runnerUp = retrieved.find((passage) => passage.articleId !== top.articleId);
    const margin = top.score > 0 && runnerUp ? Math.max(0, (top.score - runnerUp.score) / top.score) : 1;
    return { coverage, strength, margin };
  }

  /** A passage the caller passed that is not (or no longer) in the index. */
  function queryTermsOfPassage(passage: RetrievedPassage): string[] {
    const terms: string[] = [];
    for (const word of splitWords(`${passage.title}\n${passage.text}`)) {
      const term = termOf(word);
      if (term) terms.push(term);
    }
    return terms;
  }

  function answerability(query: string | string[], results?: RetrievedPassage[]): AnswerabilityResult {
    return decideAnswerable(gateFeatures(query, results), options.gate);
  }

  upsert(initialArticles);

  return {
    options,
    get size() {
      return articleById.size;
    },
    get passageCount() {
      return passageById.size;
    },
    search,
    searchConversation,
    searchArticles,
    gateFeatures,
    answerability,
    upsert,
    remove(articleIds: string[]) {
      for (const id of articleIds) removeArticle(id);
    },
    articles: () => [...articleById.values()],
    getArticle: (id: string) => articleById.get(id),
  };
}
