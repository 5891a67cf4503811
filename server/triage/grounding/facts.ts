/**
 * Fact tokens a reply must not invent: numbers (prices, percentages, limits, durations) and
 * capitalised names (products, features, integrations, plans).
 */
import { isStopword, type Lookup, memoizeByText, words } from './text.ts';

/** Numbers as written, normalised: thousands separators dropped, decimal comma to point, "12.00" to "12". */
export function extractNumbers(text: string): string[] {
  const found = text.match(/\d+(?:[.,]\d+)*/g) ?? [];
  return found.map(normalizeNumber);
}

function normalizeNumber(raw: string): string {
  let value = raw;
  // "1,000" / "1.000" / "10,000,000": separators before groups of exactly three digits.
  if (/^\d{1,3}([.,]\d{3})+$/.test(value) && !/^\d{1,3}[.,]\d{3}$/.test(value)) value = value.replace(/[.,]/g, '');
  else if (/^\d{1,3},\d{3}$/.test(value)) value = value.replace(',', '');
  value = value.replace(',', '.');
  if (/^\d+\.0+$/.test(value)) value = value.replace(/\.0+$/, '');
  return value;
}

const UNIT_ALIASES: Record<string, string> = {
  percent: '%',
  prozent: '%',
  pourcent: '%',
  gb: 'gb',
  mb: 'mb',
  tb: 'tb',
  kb: 'kb',
};

/**
 * Quantities with their unit: prices ("$12", "240 €", "5 dollars") become "price:12", measures
 * ("100 GB", "14 days", "30%") become "100 gb", "14 day", "30 %". A reply's "100 GB" is only
 * grounded by a source that says "100 GB", not by one that says "100 MB" and "10 GB".
 */
export function extractQuantities(text: string): string[] {
  const quantities: string[] = [];
  const number = String.raw`\d+(?:[.,]\d+)*`;
  const pricePattern = new RegExp(
    String.raw`[$€£]\s?(${number})|(${number})\s?(?:€|\$|£|usd|eur|gbp|dollars?|euros?|dólares|dolares|reais)(?![\p{L}])`,
    'giu',
  );
  for (const match of text.matchAll(pricePattern)) {
    const raw = match[1] ?? match[2];
    if (raw) quantities.push(`price:${normalizeNumber(raw)}`);
  }
  const measurePattern = new RegExp(
    String.raw`(${number})\s?(%|percent|prozent|pourcent|gb|mb|tb|kb|days?|hours?|minutes?|weeks?|months?|years?|members?|seats?|requests?|boards?)(?![\p{L}])`,
    'giu',
  );
  for (const match of text.matchAll(measurePattern)) {
    const raw = match[1];
    const unit = match[2]?.toLowerCase();
    if (!raw || !unit) continue;
    const normalizedUnit = UNIT_ALIASES[unit] ?? unit.replace(/s$/, '');
    quantities.push(`${normalizeNumber(raw)} ${normalizedUnit}`);
  }
  return quantities;
}

/**
 * Sentence starters that are ordinary words, not names; a capitalised first word is only treated
 * as a name candidate when it is not one of these and not a stopword.
 */
const COMMON_SENTENCE_STARTERS = new Set(
  (
    'unfortunately however yes no sure also please thanks thank sorry great good currently today first next then finally ' +
    'note otherwise alternatively instead meanwhile additionally moreover once after before when while if since because ' +
    'although though unless whether until as to for in on at by from with without this that these those there here it ' +
    'we you your our they their he she i my each every all any some most many few both either neither none nothing ' +
    'everything anything something click open go select choose enter type tap press use make check find visit see ' +
    'follow add remove set change update contact reach keep try ask send let depending regarding following based ' +
    'due per within across between during under over about yes absolutely certainly of just simply only even still ' +
    'again right now soon later new unlike like what which who how why where whenever wherever whatever'
  ).split(' '),
);

export interface NameCandidate {
  name: string;
  /** Lower-cased form used for lookup. */
  key: string;
}

const GERMAN_FUNCTION_WORDS = new Set(
  'der die das den dem des ein eine einen einem einer und ist sind nicht sie ihnen ihr ihre ich wir werde werden wird bitte mit für auf zu von im auch noch kann können haben hat'.split(
    ' ',
  ),
);

/** German capitalises every noun, so capitalisation says nothing about names there. */
export function looksGerman(sentence: string): boolean {
  return words(sentence).filter((word) => GERMAN_FUNCTION_WORDS.has(word)).length >= 2;
}

/**
 * Capitalised words that may be names: inside a sentence, or at its start unless a common word.
 * In German sentences only acronyms and mixed-case words (SAML, GitHub) count.
 */
export function extractNameCandidates(sentence: string): NameCandidate[] {
  const tokens = sentence.match(/[\p{L}][\p{L}\p{N}'’.-]*[\p{L}\p{N}]|[\p{L}]/gu) ?? [];
  const german = looksGerman(sentence);
  const candidates: NameCandidate[] = [];
  tokens.forEach((token, index) => {
    if (!/^\p{Lu}/u.test(token)) return;
    if (/^I(['’](m|ve|ll|d))?$/.test(token)) return;
    if (german && !/^\p{Lu}[\p{Lu}\p{N}]+$|^\p{Lu}\p{Ll}+\p{Lu}/u.test(token)) return;
    const key = token.toLowerCase().replace(/['’](s|ll|re|ve|d|m|t)$/, '');
    if (index === 0 && (isStopword(key) || COMMON_SENTENCE_STARTERS.has(key))) return;
    candidates.push({ name: token, key });
  });
  return candidates;
}

/** The lower-cased vocabulary of a source text, for name lookup. */
export function vocabulary(text: string): Set<string> {
  const vocab = new Set(words(text));
  for (const token of text.toLowerCase().match(/[\p{L}][\p{L}\p{N}'’.-]*[\p{L}\p{N}]/gu) ?? []) vocab.add(token);
  return vocab;
}

/** vocabulary, memoised (the result is shared: do not mutate it). */
export const cachedVocabulary: (text: string) => ReadonlySet<string> = memoizeByText(vocabulary);

/** extractNumbers as a set, memoised (shared: do not mutate it). */
export const cachedNumberSet: (text: string) => ReadonlySet<string> = memoizeByText(
  (text) => new Set(extractNumbers(text)),
);

/** A name is grounded when its lower-cased form, or its singular/plural twin, is in the source vocabulary. */
export function isNameGrounded(candidate: NameCandidate, sourceVocabulary: Lookup): boolean {
  const key = candidate.key;
  return (
    sourceVocabulary.has(key) ||
    sourceVocabulary.has(key.replace(/s$/, '')) ||
    sourceVocabulary.has(`${key}s`) ||
    key.split(/[-.]/).every((part) => part === '' || sourceVocabulary.has(part))
  );
}
