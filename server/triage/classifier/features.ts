/**
 * Text to sparse TF-IDF vectors: word unigrams and bigrams plus character n-grams taken inside
 * word boundaries. Character n-grams make the model robust to typos and inflection, which
 * matters for short support messages in several languages.
 */

export interface FeatureOptions {
  /** Character n-gram lengths, inclusive. */
  charMin: number;
  charMax: number;
  /** Include word bigrams. */
  wordBigrams: boolean;
  /** Features seen in fewer training documents are dropped. */
  minDf: number;
  /** Relative weight of the character block against the word block (each block is L2-normalised first). */
  charWeight: number;
  /**
   * Only the first this many tokens of a text become features (absent: all). A ticket's intent is in its
   * subject and first lines; what follows (signatures, quoted replies, pasted logs) costs training time
   * in proportion to its length and adds mostly noise.
   */
  maxTokens?: number;
}

export const DEFAULT_FEATURE_OPTIONS: FeatureOptions = {
  charMin: 2,
  charMax: 5,
  wordBigrams: true,
  minDf: 1,
  charWeight: 1,
  maxTokens: 64,
};

/** A sparse vector: parallel arrays of feature indices and values. */
export interface SparseVector {
  indices: Int32Array;
  values: Float32Array;
}

/** Lowercase, strip accents (customers type "cafe" and "café" alike), and fold digits so ids do not become features. */
export function normalizeText(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/\d/g, '0');
}

export function tokenize(normalized: string): string[] {
  return normalized.match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Character n-gram keys of one token, by option set: tokens repeat across documents, their n-grams need building once. */
const charGramCache = new Map<string, readonly string[]>();
const CHAR_GRAM_CACHE_LIMIT = 200_000;

function charGrams(token: string, options: FeatureOptions): readonly string[] {
  const key = `${options.charMin},${options.charMax} ${token}`;
  const cached = charGramCache.get(key);
  if (cached !== undefined) return cached;
  const grams: string[] = [];
  const padded = ` ${token} `;
  for (let n = options.charMin; n <= options.charMax; n++) {
    if (n > padded.length) break;
    for (let start = 0; start + n <= padded.length; start++) grams.push(`c${padded.slice(start, start + n)}`);
  }
  if (charGramCache.size >= CHAR_GRAM_CACHE_LIMIT) charGramCache.clear();
  charGramCache.set(key, grams);
  return grams;
}

/** Term counts for the word block and the character block, keyed by prefixed feature strings. */
export function extractTerms(
  text: string,
  options: FeatureOptions,
): { word: Map<string, number>; char: Map<string, number> } {
  const all = tokenize(normalizeText(text));
  const tokens =
    options.maxTokens !== undefined && all.length > options.maxTokens ? all.slice(0, options.maxTokens) : all;
  const word = new Map<string, number>();
  const char = new Map<string, number>();
  const add = (map: Map<string, number>, key: string): void => {
    map.set(key, (map.get(key) ?? 0) + 1);
  };
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    add(word, `w ${token}`);
    if (options.wordBigrams && i + 1 < tokens.length) add(word, `b ${token} ${tokens[i + 1]}`);
    for (const gram of charGrams(token, options)) add(char, gram);
  }
  return { word, char };
}

/** A fitted vocabulary with inverse document frequencies. */
export interface Vectorizer {
  options: FeatureOptions;
  vocabulary: Map<string, number>;
  /** Feature strings by index (what gets serialised). */
  terms: string[];
  idf: Float32Array;
}

export function fitVectorizer(texts: readonly string[], options: FeatureOptions): Vectorizer {
  const documentFrequency = new Map<string, number>();
  for (const text of texts) {
    const { word, char } = extractTerms(text, options);
    for (const key of word.keys()) documentFrequency.set(key, (documentFrequency.get(key) ?? 0) + 1);
    for (const key of char.keys()) documentFrequency.set(key, (documentFrequency.get(key) ?? 0) + 1);
  }
  const terms: string[] = [];
  for (const [term, df] of documentFrequency) if (df >= options.minDf) terms.push(term);
  // Sorted so that the same data always gives the same feature order (and the same weights).
  terms.sort();
  const vocabulary = new Map<string, number>();
  const idf = new Float32Array(terms.length);
  const documents = texts.length;
  terms.forEach((term, index) => {
    vocabulary.set(term, index);
    // Smoothed idf, as if one extra document contained every term.
    idf[index] = Math.log((1 + documents) / (1 + (documentFrequency.get(term) ?? 0))) + 1;
  });
  return { options, vocabulary, terms, idf };
}

export function vectorizerFromTerms(terms: string[], idf: Float32Array, options: FeatureOptions): Vectorizer {
  const vocabulary = new Map<string, number>();
  terms.forEach((term, index) => {
    vocabulary.set(term, index);
  });
  return { options, vocabulary, terms, idf };
}

function weighBlock(
  vectorizer: Vectorizer,
  counts: Map<string, number>,
  scale: number,
  out: Map<number, number>,
): void {
  const entries: Array<[number, number]> = [];
  let norm = 0;
  for (const [term, count] of counts) {
    const index = vectorizer.vocabulary.get(term);
    if (index === undefined) continue;
    // Sublinear term frequency: a repeated word is evidence, not ten times the evidence.
    const value = (1 + Math.log(count)) * vectorizer.idf[index]!;
    entries.push([index, value]);
    norm += value * value;
  }
  if (norm === 0) return;
  const factor = scale / Math.sqrt(norm);
  for (const [index, value] of entries) out.set(index, value * factor);
}

export function vectorize(vectorizer: Vectorizer, text: string): SparseVector {
  const { word, char } = extractTerms(text, vectorizer.options);
  const merged = new Map<number, number>();
  weighBlock(vectorizer, word, 1, merged);
  weighBlock(vectorizer, char, vectorizer.options.charWeight, merged);
  const indices = new Int32Array(merged.size);
  const values = new Float32Array(merged.size);
  let position = 0;
  for (const [index, value] of merged) {
    indices[position] = index;
    values[position] = value;
    position++;
  }
  return { indices, values };
}
