/**
 * Retrieval must not change when its implementation does: rankings, scores and gate decisions are
 * compared against (1) a plain reference built here on MiniSearch with the options the index has
 * always used (BM25 via MiniSearch, full sort, features recomputed from scratch), and (2) literal
 * fingerprints of the outputs recorded from the MiniSearch-based implementation before the
 * index was rewritten for speed. Both run over the sample KB plus a deterministic synthetic KB.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import MiniSearch from 'minisearch';
import { describe, expect, it } from 'vitest';
import { createBm25Index } from '../../server/triage/knowledge/bm25.ts';
import { chunkArticle } from '../../server/triage/knowledge/chunk.ts';
import { DEFAULT_GATE } from '../../server/triage/knowledge/default-gate.ts';
import { decideAnswerable, type GateFeatures } from '../../server/triage/knowledge/gate.ts';
import {
  type ConversationWeights,
  createKnowledgeIndex,
  DEFAULT_CONVERSATION_WEIGHTS,
  type KnowledgeIndex,
} from '../../server/triage/knowledge/index.ts';
import { loadArticles } from '../../server/triage/knowledge/sources.ts';
import { analyze, normalizeTerm, splitWords } from '../../server/triage/knowledge/text.ts';
import type { Article } from '../../server/triage/types.ts';

const SAMPLE_KB = fileURLToPath(new URL('../../samples/kb', import.meta.url));
const QUESTIONS = fileURLToPath(new URL('../../samples/kb/questions.jsonl', import.meta.url));
const NOW = new Date('2026-11-24T12:00:00Z');

// ---------------------------------------------------------------------------------------------
// Deterministic synthetic KB and queries.

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

// Support words in several inflections (the stemmer folds some), a few capitalised and
// non-ASCII forms, numbers, and stopwords: everything the analyzer treats specially.
const WORDS = (
  'account accounts password passwords reset resetting invoice invoices invoicing invoiced billing payment ' +
  'payments refund refunds refunded plan plans upgrade upgrading downgrade seat seats member members invite ' +
  'invited workspace board boards card cards timer timesheet timesheets export exporting exported csv pdf ' +
  'calendar integration slack webhook webhooks api token tokens limit limits rate error errors sync mobile ' +
  'browser notification notifications setting settings profile language timezone security code codes ' +
  'recovery device session saml domain verify link links expire expired delete deletion data privacy backup ' +
  'restore archive attachment attachments file files upload storage quota folder share permission guest ' +
  'client tax vat receipt currency discount renewal cancel cancellation status outage latency ticket support ' +
  'café über Straße naïve 2fa 100 30 v2 GDPR SSO Okta Tandem'
).split(' ');
const STOP = 'the a an to of and in for on with you your it is are be can this that from by or as at if'.split(' ');

function pickFrom<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)] as T;
}

function sentence(random: () => number, topic: readonly string[]): string {
  const length = 5 + Math.floor(random() * 12);
  const parts: string[] = [];
  for (let position = 0; position < length; position++) {
    const roll = random();
    const word = roll < 0.3 ? pickFrom(STOP, random) : roll < 0.6 ? pickFrom(topic, random) : pickFrom(WORDS, random);
    parts.push(random() < 0.08 ? word.toUpperCase() : word);
  }
  const text = parts.join(' ');
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}

function syntheticArticles(count: number, seed: number): Article[] {
  const random = seeded(seed);
  const articles: Article[] = [];
  for (let index = 0; index < count; index++) {
    const topic = Array.from({ length: 5 }, () => pickFrom(WORDS, random));
    const sections: string[] = [];
    const sectionCount = 1 + Math.floor(random() * 4);
    for (let section = 0; section < sectionCount; section++) {
      const paragraphs = Array.from({ length: 1 + Math.floor(random() * 6) }, () =>
        Array.from({ length: 1 + Math.floor(random() * 8) }, () => sentence(random, topic)).join(' '),
      );
      const heading = random() < 0.7 ? `## ${sentence(random, topic).slice(0, -1)}\n\n` : '';
      sections.push(`${heading}${paragraphs.join('\n\n')}`);
    }
    articles.push({
      id: `syn-${index}`,
      title: sentence(random, topic).slice(0, -1),
      body: sections.join('\n\n'),
      ...(random() < 0.5 ? { url: `https://kb.example/${index}` } : {}),
      ...(random() < 0.3 ? { updatedAt: random() < 0.5 ? '2026-01-01T00:00:00Z' : '2026-11-01T00:00:00Z' } : {}),
    });
  }
  return articles;
}

function syntheticQueries(count: number, seed: number): string[] {
  const random = seeded(seed);
  const queries: string[] = [];
  for (let index = 0; index < count; index++) {
    const length = 1 + Math.floor(random() * 9);
    const parts = Array.from({ length }, () => (random() < 0.2 ? pickFrom(STOP, random) : pickFrom(WORDS, random)));
    // Repeated terms count twice in BM25 (once per occurrence); keep some.
    if (random() < 0.3) parts.push(parts[0] as string);
    queries.push(parts.join(random() < 0.5 ? ' ' : ', '));
  }
  return queries;
}

const sampleArticles = loadArticles(SAMPLE_KB);
const sampleQuestions = readFileSync(QUESTIONS, 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => (JSON.parse(line) as { question: string }).question);
const synthetic = syntheticArticles(300, 20261124);
const allArticles = [...sampleArticles, ...synthetic];

const EDGE_QUERIES = [
  '',
  '   ',
  'the and of',
  'zzzz-unknown qqqq',
  'password password password',
  'PASSWORD Reset',
  'invoices invoicing invoiced',
  'café über straße',
  '2fa 100 v2',
  'Okta SSO SAML',
];
const queries = [...sampleQuestions, ...syntheticQueries(60, 7), ...EDGE_QUERIES];

function conversations(): string[][] {
  const random = seeded(99);
  const result: string[][] = [];
  for (let index = 0; index < 40; index++) {
    const turns = 1 + Math.floor(random() * 5);
    result.push(Array.from({ length: turns }, () => pickFrom(queries, random)));
  }
  result.push([], [''], ['', 'password reset'], ['how do I export timesheets', 'and as pdf?']);
  return result;
}
const conversationCases = conversations();
const WEIGHTS: ConversationWeights[] = [
  DEFAULT_CONVERSATION_WEIGHTS,
  { previousTurnWeight: 0.8, decay: 0.3, maxPreviousTurns: 4 },
  { previousTurnWeight: 0, decay: 0.5, maxPreviousTurns: 3 },
];

// ---------------------------------------------------------------------------------------------
// The reference: MiniSearch with the index's historical options, every search from scratch.

interface Scored {
  passageId: string;
  articleId: string;
  score: number;
}

function createReference(articles: Article[]) {
  const mini = new MiniSearch<{ id: string; title: string; text: string }>({
    fields: ['title', 'text'],
    storeFields: [],
    tokenize: (text) => splitWords(text),
    processTerm: (term) => normalizeTerm(term),
    searchOptions: { boost: { title: 2 }, prefix: false, fuzzy: false, combineWith: 'OR' },
    autoVacuum: false,
  });
  const passages = new Map<string, { articleId: string; terms: Set<string> }>();
  const byArticle = new Map<string, string[]>();
  const add = (article: Article) => {
    const ids: string[] = [];
    for (const passage of chunkArticle(article)) {
      passages.set(passage.passageId, {
        articleId: article.id,
        terms: new Set(analyze(`${passage.title}\n${passage.text}`)),
      });
      mini.add({ id: passage.passageId, title: passage.title, text: passage.text });
      ids.push(passage.passageId);
    }
    byArticle.set(article.id, ids);
  };
  const remove = (id: string) => {
    for (const passageId of byArticle.get(id) ?? []) {
      mini.discard(passageId);
      passages.delete(passageId);
    }
    byArticle.delete(id);
  };
  for (const article of articles) add(article);

  const raw = (query: string): Map<string, number> => {
    const scores = new Map<string, number>();
    if (query.trim() === '') return scores;
    for (const result of mini.search(query)) scores.set(String(result.id), result.score);
    return scores;
  };
  const conversation = (turns: string[], weights: ConversationWeights): Map<string, number> => {
    const scores = raw(turns.at(-1) ?? '');
    let weight = weights.previousTurnWeight;
    for (let back = 2; back <= weights.maxPreviousTurns + 1 && back <= turns.length && weight > 0; back++) {
      for (const [id, score] of raw(turns.at(-back) ?? '')) scores.set(id, (scores.get(id) ?? 0) + weight * score);
      weight *= weights.decay;
    }
    return scores;
  };
  const sorted = (scores: Map<string, number>): Scored[] =>
    [...scores]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .map(([passageId, score]) => ({ passageId, score, articleId: passages.get(passageId)?.articleId ?? '?' }));
  const articlesOf = (ranked: Scored[], k: number) => {
    const hits = new Map<string, { articleId: string; score: number; passages: string[] }>();
    for (const passage of ranked) {
      const hit = hits.get(passage.articleId);
      if (hit) hit.passages.push(passage.passageId);
      else if (hits.size < k)
        hits.set(passage.articleId, {
          articleId: passage.articleId,
          score: passage.score,
          passages: [passage.passageId],
        });
    }
    return [...hits.values()];
  };
  const features = (question: string, retrieved: Scored[]): GateFeatures => {
    const terms = [...new Set(analyze(question))];
    const top = retrieved[0];
    if (terms.length === 0 || top === undefined) return { coverage: 0, strength: 0, margin: 0 };
    const frequency = new Map<string, number>();
    for (const passage of passages.values())
      for (const term of passage.terms) frequency.set(term, (frequency.get(term) ?? 0) + 1);
    const topTerms = passages.get(top.passageId)?.terms ?? new Set<string>();
    let total = 0;
    let covered = 0;
    for (const term of terms) {
      const count = frequency.get(term) ?? 0;
      const weight = Math.log(1 + (passages.size - count + 0.5) / (count + 0.5));
      total += weight;
      if (topTerms.has(term)) covered += weight;
    }
    const relative = total > 0 ? top.score / total : 0;
    const runnerUp = retrieved.find((passage) => passage.articleId !== top.articleId);
    return {
      coverage: total > 0 ? covered / total : 0,
      strength: relative / (relative + 1),
      margin: top.score > 0 && runnerUp ? Math.max(0, (top.score - runnerUp.score) / top.score) : 1,
    };
  };
  return {
    search: (query: string, k: number) => sorted(raw(query)).slice(0, k),
    searchConversation: (turns: string[], k: number, weights = DEFAULT_CONVERSATION_WEIGHTS) =>
      sorted(conversation(turns, weights)).slice(0, k),
    searchArticles: (query: string | string[], k: number, weights = DEFAULT_CONVERSATION_WEIGHTS) =>
      articlesOf(sorted(typeof query === 'string' ? raw(query) : conversation(query, weights)), k),
    features,
    upsert(list: Article[]) {
      for (const article of list) {
        if (byArticle.has(article.id)) remove(article.id);
        add(article);
      }
    },
    remove(ids: string[]) {
      for (const id of ids) remove(id);
    },
    /** Discarded documents linger in MiniSearch until vacuumed; scores are defined on a clean index. */
    vacuum: () => mini.vacuum(),
  };
}

type Reference = ReturnType<typeof createReference>;

const strip = (passages: Array<{ passageId: string; articleId: string; score: number }>): Scored[] =>
  passages.map(({ passageId, articleId, score }) => ({ passageId, articleId, score }));

function expectSameAsReference(index: KnowledgeIndex, reference: Reference): void {
  for (const query of queries) {
    const expected = reference.search(query, 10);
    const actual = index.search(query, 10);
    expect(strip(actual), query).toEqual(expected);
    expect(index.gateFeatures(query), query).toEqual(reference.features(query, expected));
    const articles = index
      .searchArticles(query, 5)
      .map((hit) => ({ articleId: hit.articleId, score: hit.score, passages: hit.passages.map((p) => p.passageId) }));
    expect(articles, query).toEqual(reference.searchArticles(query, 5));
  }
  for (const turns of conversationCases) {
    for (const weights of WEIGHTS) {
      const expected = reference.searchConversation(turns, 5, weights);
      expect(strip(index.searchConversation(turns, 5, weights)), turns.join(' | ')).toEqual(expected);
    }
    const results = index.searchConversation(turns, 5);
    const expectedFeatures = reference.features(turns.at(-1) ?? '', reference.searchConversation(turns, 5));
    // The engine's call: the results it already has are passed in.
    expect(index.gateFeatures(turns, results), turns.join(' | ')).toEqual(expectedFeatures);
    expect(index.answerability(turns, results)).toEqual(decideAnswerable(expectedFeatures, DEFAULT_GATE));
    // Without results, the gate searches the top 10 itself.
    expect(index.gateFeatures(turns)).toEqual(
      reference.features(turns.at(-1) ?? '', reference.searchConversation(turns, 10)),
    );
    const articles = index.searchArticles(turns, 3).map((hit) => ({
      articleId: hit.articleId,
      score: hit.score,
      passages: hit.passages.map((p) => p.passageId),
    }));
    expect(articles, turns.join(' | ')).toEqual(reference.searchArticles(turns, 3));
  }
}

// ---------------------------------------------------------------------------------------------
// Fingerprints of the outputs, recorded from the MiniSearch-based implementation (commit 594a93c).

function fingerprint(index: KnowledgeIndex): string {
  const hash = createHash('sha256');
  for (const query of queries) {
    hash.update(JSON.stringify([query, strip(index.search(query, 10)), index.gateFeatures(query)]));
    hash.update(
      JSON.stringify(index.searchArticles(query, 5).map((hit) => [hit.articleId, hit.score, hit.passages.length])),
    );
  }
  for (const turns of conversationCases) {
    const results = index.searchConversation(turns, 5);
    hash.update(JSON.stringify([turns, strip(results), index.answerability(turns, results)]));
  }
  return hash.digest('hex');
}

/** Top 3 of a few sample questions, exactly as the MiniSearch-based implementation ranked them. */
const RECORDED_TOP3: Record<string, Array<[string, number]>> = {
  'I forgot my password, how do I reset it?': [
    ['reset-your-password#0', 93.58211679711754],
    ['reset-your-password#1', 90.18546085402222],
    ['reset-your-password#2', 39.88084779565175],
  ],
  'The password reset link says it has expired': [
    ['reset-your-password#3', 158.3958853448236],
    ['syn-6#0', 100.15301349290769],
    ['syn-294#3', 87.60690359048344],
  ],
  'How long is the reset link valid?': [
    ['reset-your-password#1', 60.75467544880222],
    ['syn-23#0', 39.77713099708522],
    ['syn-23#1', 39.750214444604076],
  ],
  'How do I enable two-factor authentication with an authenticator app?': [
    ['two-factor-authentication#1', 641.9710099514461],
    ['two-factor-authentication#0', 521.5199986146114],
    ['recovery-codes#0', 516.276174740336],
  ],
  'Can I get 2FA codes by SMS?': [
    ['two-factor-authentication#1', 69.6696927937191],
    ['syn-148#2', 35.02174910932244],
    ['syn-82#0', 32.879335627089134],
  ],
  "I lost my phone and can't get my 2FA code": [
    ['two-factor-authentication#3', 133.19352408259735],
    ['recovery-codes#3', 117.88235012784489],
    ['recovery-codes#1', 58.51044505518282],
  ],
  'How do I regenerate my recovery codes?': [
    ['recovery-codes#2', 93.66545803921392],
    ['syn-39#0', 40.20048825449648],
    ['recovery-codes#0', 37.07201661549467],
  ],
  'How do we set up SAML single sign-on with Okta?': [
    ['single-sign-on-saml#0', 288.7746567220787],
    ['single-sign-on-saml#2', 267.5952280640903],
    ['single-sign-on-saml#1', 265.84136905780474],
  ],
};
const RECORDED_FINGERPRINT = 'cd1dcce1ff3339edebcaf0bcfa89ac60795ede11a91df30f4bdfc41c4ac6b897';

describe('retrieval is unchanged by how it is computed', () => {
  const index = createKnowledgeIndex(allArticles, { now: () => NOW });

  it('indexes the sample and synthetic articles', () => {
    expect(index.size).toBe(allArticles.length);
    expect(index.passageCount).toBeGreaterThan(allArticles.length);
  });

  it('ranks, scores and gates exactly like the MiniSearch reference', () => {
    expectSameAsReference(index, createReference(allArticles));
  });

  it('matches the outputs recorded before the rewrite', () => {
    for (const [question, expected] of Object.entries(RECORDED_TOP3)) {
      expect(
        index.search(question, 3).map((passage) => [passage.passageId, passage.score]),
        question,
      ).toEqual(expected);
    }
    expect(fingerprint(index)).toBe(RECORDED_FINGERPRINT);
  });

  it('stays equal to the reference after upserts and removals', async () => {
    const changed = createKnowledgeIndex(allArticles, { now: () => NOW });
    const reference = createReference(allArticles);
    const replacements = syntheticArticles(40, 5).map((article, position) => ({
      ...article,
      id: `syn-${position * 3}`,
    }));
    const added = syntheticArticles(20, 6).map((article) => ({ ...article, id: `new-${article.id}` }));
    const removed = ['syn-1', 'syn-4', 'reset-your-password', 'missing-id'];
    for (const target of [changed, reference]) {
      target.upsert([...replacements, ...added]);
      target.remove(removed);
    }
    await reference.vacuum();
    expect(changed.size).toBe(allArticles.length + added.length - 3);
    expectSameAsReference(changed, reference);
  });
  it('stays equal to the reference when most passages are removed (slots compacted)', async () => {
    // Short one-passage articles, enough that dead slots pass the compaction point.
    const small = syntheticArticles(1600, 11).map((article) => ({ ...article, body: article.title }));
    const changed = createKnowledgeIndex([...sampleArticles, ...small], { now: () => NOW });
    const reference = createReference([...sampleArticles, ...small]);
    const removed = small.filter((_, position) => position % 8 !== 0).map((article) => article.id);
    for (const target of [changed, reference]) {
      target.remove(removed.slice(0, 700));
      target.upsert(small.slice(0, 50).map((article) => ({ ...article, title: `${article.title} updated` })));
      target.remove(removed.slice(700));
    }
    await reference.vacuum();
    // 200 kept, plus 43 of the first 50 that were removed and upserted again.
    expect(changed.size).toBe(sampleArticles.length + 200 + 43);
    expectSameAsReference(changed, reference);
  });

  it('compacts dead slots away once they outnumber live ones', () => {
    const bm25 = createBm25Index([2, 1]);
    const field = (word: string) => ({ length: 1, frequencies: new Map([[word, 1]]) });
    for (let position = 0; position < 2100; position++) bm25.add(`p${position}`, [field('a'), field(`w${position}`)]);
    for (let position = 0; position < 2000; position++) bm25.discard(`p${position}`);
    bm25.discard('p0');
    bm25.discard('unknown');
    expect(bm25.documentCount).toBe(100);
    expect(bm25.capacity).toBeLessThan(2100);
    const scored = bm25.score(['a']);
    expect(scored.count).toBe(100);
    expect(
      new Set(Array.from({ length: scored.count }, (_, position) => bm25.idOf(scored.slots[position] as number))),
    ).toEqual(new Set(Array.from({ length: 100 }, (_, position) => `p${2000 + position}`)));
  });
});
