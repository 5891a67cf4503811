/**
 * Text processing shared by indexing and the answerability gate: one tokenizer, so the terms the
 * index stores and the terms the gate counts are the same.
 */

/** Common English function words: they match everywhere and carry no topic. */
const STOPWORDS = new Set(
  (
    'a about above after again against all am an and any are as at be because been before being below between both but ' +
    'by can could did do does doing down during each few for from further had has have having he her here hers herself ' +
    'him himself his how i if in into is it its itself just me more most my myself no nor not now of off on once only ' +
    'or other our ours ourselves out over own same she should so some such than that the their theirs them themselves ' +
    'then there these they this those through to too under until up very was we were what when where which while who ' +
    'whom why will with would you your yours yourself yourselves im ive id youre dont doesnt cant wont isnt arent ' +
    'please hi hello thanks thank also get got let lets us may might must shall s t'
  ).split(' '),
);

/** Splits on anything that is not a letter or digit (Unicode aware). */
export function splitWords(text: string): string[] {
  return text.split(/[^\p{L}\p{N}]+/u).filter((word) => word.length > 0);
}

function endsWithDoubleConsonant(word: string): boolean {
  const last = word.at(-1);
  return word.length >= 2 && last === word.at(-2) && last !== undefined && !'aeiouylsz'.includes(last);
}

/**
 * A deliberately light English stemmer (plural, -ing, -ed, trailing e): enough to match
 * "invoices"/"invoicing"/"invoice" without Porter's over-stemming of short product words.
 */
export function stem(word: string): string {
  if (word.length <= 3 || /\d/.test(word)) return word;
  let result = word;
  if (result.endsWith('ies') && result.length > 4) result = `${result.slice(0, -3)}y`;
  else if (result.endsWith('sses')) result = result.slice(0, -2);
  else if (result.endsWith('s') && !/(ss|us|is)$/.test(result)) result = result.slice(0, -1);
  for (const suffix of ['ing', 'ed']) {
    if (result.endsWith(suffix) && result.length - suffix.length >= 3) {
      result = result.slice(0, -suffix.length);
      if (endsWithDoubleConsonant(result)) result = result.slice(0, -1);
      break;
    }
  }
  if (result.endsWith('e') && result.length > 4) result = result.slice(0, -1);
  return result;
}

/** Lowercase, stopword-free, stemmed; null drops the term (MiniSearch's processTerm contract). */
export function normalizeTerm(term: string): string | null {
  const lower = term.toLowerCase();
  if (lower.length === 0 || STOPWORDS.has(lower)) return null;
  return stem(lower);
}

/** The index terms of a text, in order, duplicates kept. */
export function analyze(text: string): string[] {
  const terms: string[] = [];
  for (const word of splitWords(text)) {
    const term = normalizeTerm(word);
    if (term !== null) terms.push(term);
  }
  return terms;
}

/**
 * Offline token estimate that errs on the high side: ASCII at 3.2 characters per token (English
 * averages about 4), every non-ASCII character a token, or 1.35 tokens per word if that is larger.
 * It is never below the engine's shared estimate (server/triage/tokens.ts, ASCII/3.5 + non-ASCII),
 * so a passage within the cap here is within it for the context budget too.
 */
export function estimateTokens(text: string): number {
  if (text.length === 0) return 0;
  let ascii = 0;
  let other = 0;
  for (const char of text) {
    if (char.charCodeAt(0) < 128) ascii++;
    else other++;
  }
  const byChars = ascii / 3.2 + other;
  const byWords = splitWords(text).length * 1.35;
  return Math.ceil(Math.max(byChars, byWords));
}
