/**
 * The knowledge index: BM25 (MiniSearch) over article passages, with the answerability gate and
 * staleness on top. Pure in-memory; rebuilt from the sources or updated with upsert/remove.
 */
import MiniSearch from 'minisearch';
import { AppError } from '../../errors.ts';
import type { Article, RetrievedPassage } from '../types.ts';
import { type ChunkOptions, chunkArticle, DEFAULT_CHUNK_OPTIONS, type Passage } from './chunk.ts';
import { DEFAULT_GATE } from './default-gate.ts';
import { decideAnswerable, type GateConfig, type GateDecision, type GateFeatures } from './gate.ts';
import { isStale, STALE_AFTER_DAYS } from './staleness.ts';
import { analyze, normalizeTerm, splitWords } from './text.ts';

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
  /** Prefix and fuzzy matching are off by default: on short support questions they add noise. */
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
  terms: Set<string>;
}

interface SearchDocument {
  id: string;
  title: string;
  text: string;
}

function passageScoresFrom(results: Array<{ id: unknown; score: number }>): Map<string, number> {
  const scores = new Map<string, number>();
  for (const result of results) scores.set(String(result.id), result.score);
  return scores;
}

function validateOptions(options: KnowledgeIndexOptions): void {
  const conversation = options.conversation;
  if (!(options.titleBoost > 0) || !(options.staleAfterDays > 0)) {
    throw new AppError('CONFIG_INVALID', 'titleBoost and staleAfterDays must be positive');
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
  // Passage-level document frequency, for the gate's IDF weights.
  const documentFrequency = new Map<string, number>();

  const miniSearch = new MiniSearch<SearchDocument>({
    fields: ['title', 'text'],
    storeFields: [],
    tokenize: (text) => splitWords(text),
    processTerm: (term) => normalizeTerm(term),
    searchOptions: {
      boost: { title: options.titleBoost },
      prefix: options.prefix,
      fuzzy: options.fuzzy,
      combineWith: 'OR',
    },
  });

  function addArticle(article: Article): void {
    const passages = chunkArticle(article, options.chunk);
    const ids: string[] = [];
    for (const passage of passages) {
      const terms = new Set(analyze(`${passage.title}\n${passage.text}`));
      passageById.set(passage.passageId, { ...passage, terms });
      for (const term of terms) documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1);
      miniSearch.add({ id: passage.passageId, title: passage.title, text: passage.text });
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
      miniSearch.discard(passageId);
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

  function toRetrieved(passageId: string, score: number, now: Date): RetrievedPassage | undefined {
    const passage = passageById.get(passageId);
    const article = passage && articleById.get(passage.articleId);
    if (passage === undefined || article === undefined) return undefined;
    return {
      passageId,
      articleId: passage.articleId,
      title: passage.title,
      ...(article.url !== undefined ? { url: article.url } : {}),
      text: passage.text,
      score,
      stale: isStale(article, now, options.staleAfterDays),
    };
  }

  function rawScores(query: string): Map<string, number> {
    if (query.trim().length === 0) return new Map();
    return passageScoresFrom(miniSearch.search(query));
  }

  function ranked(scores: Map<string, number>, k: number): RetrievedPassage[] {
    const now = options.now();
    const entries = [...scores.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const results: RetrievedPassage[] = [];
    for (const [passageId, score] of entries) {
      if (results.length >= k) break;
      const retrieved = toRetrieved(passageId, score, now);
      if (retrieved) results.push(retrieved);
    }
    return results;
  }

  function checkK(k: number): void {
    if (!(Number.isInteger(k) && k >= 1)) throw new AppError('BAD_REQUEST', `k must be a positive integer, got ${k}`);
  }

  /** Last turn at weight 1; earlier turns add their BM25 scores at decaying lower weights. */
  function conversationScores(turns: string[], weights = options.conversation): Map<string, number> {
    const { previousTurnWeight, decay, maxPreviousTurns } = weights;
    const scores = rawScores(turns.at(-1) ?? '');
    let weight = previousTurnWeight;
    for (let back = 2; back <= maxPreviousTurns + 1 && back <= turns.length && weight > 0; back++) {
      for (const [passageId, score] of rawScores(turns.at(-back) ?? '')) {
        scores.set(passageId, (scores.get(passageId) ?? 0) + weight * score);
      }
      weight *= decay;
    }
    return scores;
  }

  function search(query: string, k = 5): RetrievedPassage[] {
    checkK(k);
    return ranked(rawScores(query), k);
  }

  function searchConversation(turns: string[], k = 5, weights?: ConversationWeights): RetrievedPassage[] {
    checkK(k);
    return ranked(conversationScores(turns, weights), k);
  }

  function searchArticles(query: string | string[], k = 5, weights?: ConversationWeights): ArticleHit[] {
    checkK(k);
    const scores = typeof query === 'string' ? rawScores(query) : conversationScores(query, weights);
    const passages = ranked(scores, scores.size);
    const hits = new Map<string, ArticleHit>();
    for (const passage of passages) {
      const hit = hits.get(passage.articleId);
      if (hit) {
        hit.passages.push(passage);
        continue;
      }
      if (hits.size >= k) continue;
      hits.set(passage.articleId, {
        articleId: passage.articleId,
        title: passage.title,
        ...(passage.url !== undefined ? { url: passage.url } : {}),
        score: passage.score,
        stale: passage.stale,
        passages: [passage],
      });
    }
    return [...hits.values()];
  }

  function idf(term: string): number {
    const total = passageById.size;
    const frequency = documentFrequency.get(term) ?? 0;
    return Math.log(1 + (total - frequency + 0.5) / (frequency + 0.5));
  }

  function gateFeatures(query: string | string[], results?: RetrievedPassage[]): GateFeatures {
    const question = typeof query === 'string' ? query : (query.at(-1) ?? '');
    const retrieved = results ?? (typeof query === 'string' ? search(query, 10) : searchConversation(query, 10));
    const queryTerms = [...new Set(analyze(question))];
    const top = retrieved[0];
    if (queryTerms.length === 0 || top === undefined) return { coverage: 0, strength: 0, margin: 0 };
    const topTerms = passageById.get(top.passageId)?.terms ?? new Set(analyze(`${top.title}\n${top.text}`));
    let totalIdf = 0;
    let coveredIdf = 0;
    for (const term of queryTerms) {
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
