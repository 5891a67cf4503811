import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createKnowledgeIndex } from '../../server/triage/knowledge/index.ts';
import { loadArticles } from '../../server/triage/knowledge/sources.ts';
import { isStale } from '../../server/triage/knowledge/staleness.ts';
import type { Article } from '../../server/triage/types.ts';

const SAMPLE_KB = fileURLToPath(new URL('../../samples/kb', import.meta.url));
const NOW = new Date('2026-11-24T12:00:00Z');
const sampleArticles = loadArticles(SAMPLE_KB);
const sample = createKnowledgeIndex(sampleArticles, { now: () => NOW });

describe('retrieval on the sample KB', () => {
  // Phrasings written for this test, not taken from samples/kb/questions.jsonl.
  const cases: Array<[string, string]> = [
    ['my reset email never showed up, I need to get back into my account', 'reset-your-password'],
    ['can we connect Okta to log in', 'single-sign-on-saml'],
    ['do you charge VAT for a company in France', 'vat-and-tax'],
    ['we want to move from the Team plan to Free, when does that happen', 'downgrade-your-plan'],
    ['how many API calls per minute can one token make', 'rest-api-and-rate-limits'],
    ['biggest file I can attach to a card on a paid plan', 'attachments-and-storage'],
    ['the timesheet export as PDF for a client', 'timesheets-export'],
    ['turn tracked hours into an invoice for my customer', 'invoicing-from-tracked-time'],
    ['HMAC signature header on webhook requests', 'webhooks'],
    ['card that repeats every month', 'recurring-tasks'],
  ];
  it.each(cases)('"%s" finds %s in the top 3 articles', (question, articleId) => {
    const hits = sample.searchArticles(question, 3).map((hit) => hit.articleId);
    expect(hits).toContain(articleId);
  });

  it('returns passages with ids, urls, titles and descending scores', () => {
    const passages = sample.search('authenticator app recovery codes', 5);
    expect(passages.length).toBe(5);
    for (const passage of passages) {
      expect(passage.passageId.startsWith(`${passage.articleId}#`)).toBe(true);
      expect(passage.url).toBe(`https://help.tandem.example/articles/${passage.articleId}`);
      expect(passage.title.length).toBeGreaterThan(0);
    }
    const scores = passages.map((passage) => passage.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    expect(sample.search('', 3)).toEqual([]);
    expect(() => sample.search('x', 0)).toThrow(/positive integer/);
  });

  it('uses earlier turns of a conversation for a vague follow-up', () => {
    const followUp = 'and what does it cost?';
    const conversation = ['we need single sign-on with SAML for our company', followUp];
    const withContext = sample.searchArticles(conversation, 3).map((hit) => hit.articleId);
    expect(withContext.some((id) => id === 'single-sign-on-saml' || id === 'plans-and-pricing')).toBe(true);
    // With the earlier turns switched off, the follow-up alone has nothing to go on.
    const alone = sample.searchArticles(conversation, 3, { previousTurnWeight: 0, decay: 0, maxPreviousTurns: 0 });
    expect(alone.map((hit) => hit.articleId)).not.toContain('single-sign-on-saml');
  });
});

describe('staleness', () => {
  it('uses reviewed_at, falls back to updated_at, and is false without dates', () => {
    expect(isStale({ reviewedAt: '2026-09-24T00:00:00Z' }, NOW)).toBe(true);
    expect(isStale({ reviewedAt: '2026-10-01T00:00:00Z' }, NOW)).toBe(false);
    expect(isStale({ reviewedAt: '2026-11-01T00:00:00Z', updatedAt: '2025-01-01T00:00:00Z' }, NOW)).toBe(false);
    expect(isStale({ updatedAt: '2026-01-01T00:00:00Z' }, NOW)).toBe(true);
    expect(isStale({}, NOW)).toBe(false);
    expect(isStale({ reviewedAt: '2026-11-01T00:00:00Z' }, NOW, 10)).toBe(true);
  });

  it('flags passages of stale sample articles', () => {
    const status = sample.search('status page incident history', 1)[0];
    expect(status?.articleId).toBe('status-page-and-outages');
    expect(status?.stale).toBe(true);
    const reset = sample.search('reset link expired password', 1)[0];
    expect(reset?.articleId).toBe('reset-your-password');
    expect(reset?.stale).toBe(false);
    const staleCount = sampleArticles.filter((article) => isStale(article, NOW)).length;
    expect(staleCount).toBeGreaterThan(0);
    expect(staleCount).toBeLessThan(sampleArticles.length);
  });
});

describe('answerability gate with the default threshold', () => {
  it('declines off-topic and non-existent features, accepts clear questions', () => {
    expect(sample.answerability('What is the best recipe for banana bread?').answerable).toBe(false);
    expect(sample.answerability('Do you have a Gantt chart view?').answerable).toBe(false);
    const clear = sample.answerability('How long is the password reset link valid?');
    expect(clear.answerable).toBe(true);
    expect(clear.score).toBeGreaterThanOrEqual(clear.threshold);
    expect(sample.answerability('   ').answerable).toBe(false);
  });

  it('computes features in [0, 1] and uses given results when passed', () => {
    const query = 'export timesheet to CSV';
    const features = sample.gateFeatures(query);
    for (const value of Object.values(features)) {
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThanOrEqual(1);
    }
    expect(sample.gateFeatures(query, [])).toEqual({ coverage: 0, strength: 0, margin: 0 });
  });
});

describe('upsert and remove', () => {
  const base: Article[] = [
    { id: 'one', title: 'Kayak rental', body: 'Rent a kayak by the hour at the lake dock.' },
    { id: 'two', title: 'Bike repair', body: 'We fix flat tyres and brakes the same day.' },
  ];

  it('adds, replaces and removes articles and their passages', () => {
    const index = createKnowledgeIndex(base);
    expect(index.size).toBe(2);
    expect(index.search('kayak', 1)[0]?.articleId).toBe('one');

    index.upsert([{ id: 'one', title: 'Canoe rental', body: 'Rent a canoe by the day.' }]);
    expect(index.size).toBe(2);
    expect(index.search('kayak', 5)).toEqual([]);
    expect(index.search('canoe', 1)[0]?.articleId).toBe('one');
    expect(index.getArticle('one')?.title).toBe('Canoe rental');

    index.remove(['two', 'missing']);
    expect(index.size).toBe(1);
    expect(index.search('tyres brakes', 5)).toEqual([]);
    expect(index.articles().map((article) => article.id)).toEqual(['one']);

    index.upsert([{ id: 'three', title: 'Bike repair', body: 'Flat tyres fixed.' }]);
    expect(index.search('tyres', 1)[0]?.articleId).toBe('three');
  });

  it('keeps gate statistics in step after removal', () => {
    const index = createKnowledgeIndex(base);
    const before = index.gateFeatures('kayak rental');
    index.remove(['one']);
    expect(index.gateFeatures('kayak rental').coverage).toBe(0);
    expect(before.coverage).toBe(1);
  });

  it('rejects duplicate ids in one upsert and invalid options', () => {
    const index = createKnowledgeIndex();
    expect(() => index.upsert([base[0] as Article, base[0] as Article])).toThrow(/duplicate/);
    expect(() => createKnowledgeIndex([], { titleBoost: 0 })).toThrow(/titleBoost/);
  });
});
