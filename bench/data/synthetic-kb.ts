/**
 * Synthetic help-center articles, generated deterministically from a vocabulary written here (no
 * dataset text): support-domain words plus made-up product words, drawn with a Zipf-like
 * distribution, each article with its own topic words so articles differ like real ones do.
 * Function words are mixed in because real text has them (the index drops them; prompts pay for them).
 */
import type { Article } from '../../server/triage/types.ts';
import { between, pick, seededRandom } from '../lib/random.ts';

const DOMAIN_WORDS = (
  'account password reset login sign email address invoice billing payment card refund charge plan upgrade ' +
  'downgrade subscription trial seat member invite role admin owner workspace project board list card task ' +
  'timer tracker timesheet report export import csv pdf calendar integration slack github zapier webhook api ' +
  'token key limit rate request error sync offline mobile app desktop browser extension notification alert ' +
  'setting preference profile avatar language timezone security two factor code recovery device session ' +
  'single sign identity provider saml domain verify verification link expire delete deletion data privacy ' +
  'gdpr retention backup restore archive attachment file upload storage quota space folder share permission ' +
  'guest client customer vendor tax vat receipt currency discount coupon renewal cancel cancellation period ' +
  'status outage incident maintenance latency performance slow crash bug issue ticket support contact chat ' +
  'phone hour weekday holiday region server database search filter label tag color theme dashboard widget ' +
  'chart metric goal milestone deadline reminder recurring template automation rule trigger action schedule ' +
  'approve review comment mention thread message inbox feed history log audit activity change version update ' +
  'release feature beta preview roadmap feedback vote request limit usage overage pricing tier annual monthly'
).split(' ');

const FUNCTION_WORDS = (
  'the a an to of and in for on with you your it is are be can this that from by or as at if when will not ' +
  'we our after before then each any all more only also into'
).split(' ');

const SYLLABLES = (
  'ka lo mi ra te su vo ne pa di go ba ri to me la fi zo ru sa ve ko ni pe da lu mo ta ge bi no ra ' +
  'wen dor kal mir tas vel quin bor sel tran fen gar lis mon dra cel vin'
).split(' ');

/**
 * Word-frequency shape: Zipf's exponent near 1 as in natural text; the offset flattens the head so
 * the most frequent content word is in roughly a third of the passages, not in nearly all of them.
 */
const ZIPF_EXPONENT = 1.05;
const ZIPF_OFFSET = 10;

export interface VocabularyOptions {
  madeUpWords: number;
  seed: number;
}

/** Domain words first (most frequent), then made-up product and feature words. */
export function buildVocabulary(options: VocabularyOptions = { madeUpWords: 6000, seed: 7 }): string[] {
  const random = seededRandom(options.seed);
  // Domain words in a seeded order, so which of them are most frequent is arbitrary, not hand-picked.
  const domain = [...DOMAIN_WORDS];
  for (let index = domain.length - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    [domain[index], domain[other]] = [domain[other] as string, domain[index] as string];
  }
  const words = new Set(domain);
  while (words.size < DOMAIN_WORDS.length + options.madeUpWords) {
    const syllables = between(2, 4, random);
    let word = '';
    for (let index = 0; index < syllables; index += 1) word += pick(SYLLABLES, random);
    words.add(word);
  }
  return [...words];
}

/** Draws ranks 0..n-1 with probability proportional to 1/(rank+offset)^exponent. */
function zipfSampler(size: number, exponent: number, offset: number, random: () => number): () => number {
  const cumulative = new Float64Array(size);
  let total = 0;
  for (let rank = 0; rank < size; rank += 1) {
    total += 1 / (rank + offset) ** exponent;
    cumulative[rank] = total;
  }
  return () => {
    const target = random() * total;
    let low = 0;
    let high = size - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((cumulative[middle] as number) < target) low = middle + 1;
      else high = middle;
    }
    return low;
  };
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

export interface SyntheticKbOptions {
  count: number;
  seed?: number;
  idPrefix?: string;
}

export function generateArticles(options: SyntheticKbOptions): Article[] {
  const random = seededRandom(options.seed ?? 42);
  const vocabulary = buildVocabulary();
  const nextRank = zipfSampler(vocabulary.length, ZIPF_EXPONENT, ZIPF_OFFSET, random);
  const word = () => vocabulary[nextRank()] as string;
  const prefix = options.idPrefix ?? 'syn';
  const articles: Article[] = [];
  for (let index = 0; index < options.count; index += 1) {
    // Topic words come from the long tail so each article has terms of its own.
    const topic = Array.from(
      { length: 6 },
      () => vocabulary[between(DOMAIN_WORDS.length, vocabulary.length - 1, random)] as string,
    );
    const topicWord = () => (random() < 0.5 ? pick(topic, random) : pick(DOMAIN_WORDS, random));
    const sentence = () => {
      const length = between(8, 18, random);
      const parts: string[] = [];
      for (let position = 0; position < length; position += 1) {
        const roll = random();
        parts.push(roll < 0.35 ? pick(FUNCTION_WORDS, random) : roll < 0.55 ? topicWord() : word());
      }
      return `${capitalize(parts.join(' '))}.`;
    };
    const sections: string[] = [];
    const sectionCount = between(2, 4, random);
    for (let section = 0; section < sectionCount; section += 1) {
      const heading = `## ${capitalize(topicWord())} ${topicWord()} ${word()}`;
      const sentences = Array.from({ length: between(3, 6, random) }, sentence);
      sections.push(`${heading}\n\n${sentences.join(' ')}`);
    }
    const id = `${prefix}-${String(index + 1).padStart(5, '0')}`;
    articles.push({
      id,
      title: `${capitalize(topic[0] as string)} ${topicWord()} ${pick(topic, random)} ${topicWord()}`,
      body: sections.join('\n\n'),
      url: `https://help.bench.example/articles/${id}`,
      updatedAt: '2026-01-15T00:00:00.000Z',
    });
  }
  return articles;
}
