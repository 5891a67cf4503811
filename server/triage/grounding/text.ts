/**
 * Small text tools shared by the grounding guard and the offline provider: sentence splitting,
 * content-word extraction with a light stemmer, and overlap measures. Deliberately simple and
 * deterministic so the guard's decisions can be explained sentence by sentence.
 */

const STOPWORDS = new Set(
  [
    // English
    'a an the and or but if then else of to in on at by for from with without into onto about as is are was were be been being',
    'am do does did done doing have has had having can could will would shall should may might must not no nor so than too very',
    'it its it’s this that these those there here what which who whom whose when where why how all any both each few more most',
    'other some such only own same just also again further once i me my mine we us our ours you your yours he him his she her',
    'they them their theirs myself yourself ourselves themselves up down out off over under above below between through during',
    'before after until while because i’m i’ve i’ll we’ll we’re we’ve you’re you’ll you’ve it’ll don’t doesn’t can’t won’t',
    'im ive ill youre youll dont doesnt cant wont isnt arent wasnt please thanks thank hi hello hey dear regards yes ok okay',
    'get got gets getting let lets one two via per etc e.g i.e',
    // German
    'der die das den dem des ein eine einen einem einer und oder aber ich du sie wir ihr es ist sind war waren bin hat haben',
    'mit von zu zum zur im in auf für nicht kein keine bitte danke wie was wo wann warum mein meine ihr ihre unser unsere dass',
    // French
    'le la les un une des et ou mais je tu il elle nous vous ils elles est sont été avoir être de du au aux en dans pour par',
    'sur avec sans pas ne ce cette ces mon ma mes votre vos notre nos que qui quoi merci bonjour svp',
    // Spanish / Portuguese / Italian
    'el los las uno una y o pero yo tú él ella nosotros ustedes es son fue ser estar de del al en para por con sin no mi mis su sus',
    'que qué quien gracias hola por favor o os um uma e eu ele ela nós você é são foi do da dos das no na nos nas com sem meu minha',
    'obrigado olá il lo gli uno ed io lui lei noi voi loro è sono di del della dei con senza non mio mia grazie ciao',
    // Dutch
    'de het een en of maar ik jij je hij zij wij we jullie is zijn was waren van voor met zonder niet geen mijn uw ons onze dat',
    'wat hoe waarom bedankt hallo alstublieft',
  ]
    .join(' ')
    .split(/\s+/),
);

export function isStopword(word: string): boolean {
  return STOPWORDS.has(word.toLowerCase());
}

/** Lower-cased word tokens (letters, digits, and inner apostrophes or hyphens kept together). */
export function words(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}]+(?:['’][\p{L}]+)*/gu) ?? []).map((word) => word.replace(/'/g, '’'));
}

const SUFFIXES: ReadonlyArray<readonly [string, string]> = [
  ['ations', ''],
  ['ation', ''],
  ['ments', ''],
  ['ment', ''],
  ['ings', ''],
  ['ing', ''],
  ['ions', ''],
  ['ion', ''],
  ['ies', 'y'],
  ['ied', 'y'],
  ['ers', ''],
  ['er', ''],
  ['ed', ''],
  ['es', ''],
  ['ly', ''],
  ['s', ''],
];

/**
 * A light English suffix stripper: enough to match "invoices/invoiced/invoice" and
 * "cancelled/cancellation/cancel". Other languages pass through mostly unchanged, which only
 * makes the guard stricter for them.
 */
export function stem(word: string): string {
  let stemmed = word.toLowerCase();
  if (stemmed.length <= 3 || /\d/.test(stemmed)) return stemmed;
  for (const [suffix, replacement] of SUFFIXES) {
    if (stemmed.endsWith(suffix) && stemmed.length - suffix.length >= 3) {
      stemmed = stemmed.slice(0, stemmed.length - suffix.length) + replacement;
      break;
    }
  }
  if (stemmed.length > 3 && stemmed.endsWith('e')) stemmed = stemmed.slice(0, -1);
  // "resett" (from resetting) and "cancell" (from cancelled) back to one consonant.
  const last = stemmed.at(-1);
  if (stemmed.length > 3 && last && last === stemmed.at(-2) && !/[aeiou]/.test(last)) stemmed = stemmed.slice(0, -1);
  return stemmed;
}

/** Stems of the content words (stopwords and one-letter tokens dropped; numbers kept). */
export function contentStems(text: string): string[] {
  return words(text)
    .filter((word) => (word.length > 1 || /\d/.test(word)) && !isStopword(word))
    .map(stem);
}

export function contentStemSet(text: string): Set<string> {
  return new Set(contentStems(text));
}

/** What the guard asks of a set of stems or words: a plain Set, or a view over several. */
export interface Lookup {
  has(item: string): boolean;
}

/** A lookup over the union of several sets, without copying them into one. */
export function unionLookup(sets: readonly Lookup[]): Lookup {
  return { has: (item) => sets.some((set) => set.has(item)) };
}

/**
 * Memoises a pure per-text analysis, least recently used first out. KB passages come back ticket
 * after ticket, so the guard analyses each passage's text once, not once per draft. Returned values
 * are shared: callers must not mutate them.
 */
export function memoizeByText<T>(compute: (text: string) => T, limit = 512): (text: string) => T {
  return memoizeByKey((text: string) => text, compute, limit);
}

/** memoizeByText for an argument that is not itself the key: `keyOf` must capture all `compute` reads. */
export function memoizeByKey<A, T>(keyOf: (argument: A) => string, compute: (argument: A) => T, limit = 512) {
  const cache = new Map<string, T>();
  return (argument: A): T => {
    const key = keyOf(argument);
    const cached = cache.get(key);
    if (cached !== undefined) {
      cache.delete(key);
      cache.set(key, cached);
      return cached;
    }
    const value = compute(argument);
    if (cache.size >= limit) {
      const oldest = cache.keys().next();
      if (!oldest.done) cache.delete(oldest.value);
    }
    cache.set(key, value);
    return value;
  };
}

/** contentStemSet, memoised (the result is shared: do not mutate it). */
export const cachedContentStemSet: (text: string) => ReadonlySet<string> = memoizeByText(contentStemSet);

/** Share of the sentence's content stems found in the source (0..1); 1 for a sentence with none. */
export function containment(sentenceStems: ReadonlySet<string>, sourceStems: Lookup): number {
  if (sentenceStems.size === 0) return 1;
  let found = 0;
  for (const item of sentenceStems) if (sourceStems.has(item)) found += 1;
  return found / sentenceStems.size;
}

/** Strips Markdown decoration that is not part of the sentence (quotes, bullets, emphasis, links). */
export function stripMarkdown(line: string): string {
  return line
    .replace(/^\s*(?:>\s*)+/, '')
    .replace(/^\s*(?:[-*•]|\d+[.)])\s+/, '')
    .replace(/\[([^\]]*)\]\((?:[^)]*)\)/g, '$1')
    .replace(/[*_`]+/g, '')
    .trim();
}

/**
 * Splits text into sentences: first on line breaks (drafts are often Markdown), then after
 * terminal punctuation followed by whitespace and an upper-case letter, digit or quote.
 */
export function splitSentences(text: string): string[] {
  const sentences: string[] = [];
  for (const rawLine of text.split(/\r?\n/)) {
    const line = stripMarkdown(rawLine);
    if (line === '') continue;
    for (const part of line.split(/(?<=[.!?…])["”»)]?\s+(?=["“«(¿¡]?[\p{Lu}\p{N}])/u)) {
      const sentence = part.trim();
      if (sentence !== '') sentences.push(sentence);
    }
  }
  return sentences;
}

/** Lower-case, unify quotes and whitespace: for verbatim comparisons. */
export function normalizeForComparison(text: string): string {
  return text
    .toLowerCase()
    .replace(/[‘’]/g, "'")
    .replace(/[“”«»]/g, '"')
    .replace(/[^\p{L}\p{N}'$€£%.,:/-]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}
