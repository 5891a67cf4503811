import { describe, expect, it } from 'vitest';
import { chunkArticle, splitSections } from '../../server/triage/knowledge/chunk.ts';
import { analyze, estimateTokens, stem } from '../../server/triage/knowledge/text.ts';
import { estimateTokens as sharedEstimate } from '../../server/triage/tokens.ts';
import type { Article } from '../../server/triage/types.ts';

function words(count: number, seed: string): string {
  return Array.from({ length: count }, (_, index) => `${seed}${index % 97}`).join(' ');
}

describe('text analysis', () => {
  it('lowercases, drops stopwords and stems plurals and verb forms alike', () => {
    expect(analyze('How do I export the Invoices?')).toEqual(['export', 'invoic']);
    expect(stem('invoicing')).toBe(stem('invoice'));
    expect(stem('policies')).toBe('policy');
    expect(stem('running')).toBe('run');
    expect(stem('billing')).toBe('bill');
    expect(stem('status')).toBe('status');
    expect(stem('2fa')).toBe('2fa');
  });

  it('estimates tokens on the high side of the shared estimate', () => {
    for (const text of ['Plain English text about invoices.', 'Größe und Übergröße — ça va', words(300, 'w')]) {
      expect(estimateTokens(text)).toBeGreaterThanOrEqual(sharedEstimate(text));
      expect(estimateTokens(text)).toBeGreaterThanOrEqual(Math.ceil(text.length / 4));
    }
    expect(estimateTokens('')).toBe(0);
  });
});

describe('chunkArticle', () => {
  const article: Article = {
    id: 'big',
    title: 'A long article',
    body: [
      'Intro paragraph about the product.',
      '## Section one',
      words(120, 'alpha'),
      words(120, 'beta'),
      '## Section two',
      // One paragraph far above the cap, with sentences.
      Array.from({ length: 200 }, (_, index) => `Sentence number ${index} explains something useful.`).join(' '),
      '## Section three',
      // One "sentence" above the cap: must be split by words.
      words(2000, 'gamma'),
    ].join('\n\n'),
  };

  it('never exceeds the hard cap, title included', () => {
    const options = { targetTokens: 200, maxTokens: 300 };
    const passages = chunkArticle(article, options);
    expect(passages.length).toBeGreaterThan(10);
    for (const passage of passages) {
      expect(estimateTokens(`${passage.title}\n${passage.text}`)).toBeLessThanOrEqual(options.maxTokens);
      expect(passage.tokens).toBeLessThanOrEqual(options.maxTokens);
    }
  });

  it('keeps every word, the title and the section heading with each passage', () => {
    const passages = chunkArticle(article, { targetTokens: 200, maxTokens: 300 });
    expect(passages.every((passage) => passage.title === 'A long article')).toBe(true);
    expect(passages.map((passage) => passage.passageId)).toEqual(passages.map((_, index) => `big#${index}`));
    const sectionTwo = passages.filter((passage) => passage.heading === 'Section two');
    expect(sectionTwo.length).toBeGreaterThan(1);
    for (const passage of sectionTwo) expect(passage.text.startsWith('Section two\n')).toBe(true);
    const bodyWords = article.body
      .replace(/^#+ .*$/gm, '')
      .split(/\s+/)
      .filter(Boolean);
    const passageWords = passages
      .map((passage) => (passage.heading ? passage.text.slice(passage.heading.length + 1) : passage.text))
      .join(' ')
      .split(/\s+/)
      .filter(Boolean);
    expect(passageWords).toEqual(bodyWords);
  });

  it('packs small paragraphs of a section together up to the target', () => {
    const small: Article = {
      id: 's',
      title: 'Small',
      body: ['## Only', 'one.', 'two.', 'three.'].join('\n\n'),
    };
    const passages = chunkArticle(small);
    expect(passages).toHaveLength(1);
    expect(passages[0]?.text).toBe('Only\none.\n\ntwo.\n\nthree.');
  });

  it('splits sections on headings and rejects impossible options', () => {
    expect(splitSections('intro\n\n# A\n\ntext a\n\n## B\ntext b').map((section) => section.heading)).toEqual([
      undefined,
      'A',
      'B',
    ]);
    expect(() => chunkArticle(article, { targetTokens: 500, maxTokens: 100 })).toThrow(/targetTokens/);
  });
});
