/**
 * The offline provider: no API, no cost. Generation is extractive: it quotes the retrieved
 * passages' sentences that best match the question, with their citations, between a greeting and
 * a closing in the customer's tone and language. It never writes facts of its own and never
 * promises actions, so its drafts pass the grounding guard by construction; the pipeline still
 * keeps them at Tier 1 (reviewed).
 */
import { courtesyFor } from '../grounding/courtesy.ts';
import { contentStems, splitSentences, words } from '../grounding/text.ts';
import { estimateMessageTokens, ZERO_USAGE } from '../tokens.ts';
import type { RetrievedPassage } from '../types.ts';
import type {
  CountTokensRequest,
  GenerationRequest,
  GenerationResult,
  LlmClassification,
  LlmPort,
  SummarizeRequest,
  SummarizeResult,
  TokenCount,
} from './port.ts';
import { PROMPT_VERSION } from './prompts.ts';

export const OFFLINE_MODEL = 'offline-extractive-v1';

export interface OfflineLlmOptions {
  /** Sign-off line under the closing, e.g. "The Tandem support team". */
  signature?: string;
  /** Passages to quote from (best first). */
  maxPassages?: number;
  /** Sentences quoted in total. */
  maxSentences?: number;
}

interface ScoredSentence {
  text: string;
  articleId: string;
  passageRank: number;
  position: number;
  score: number;
}

const NO_ANSWER_TEXT =
  'I could not find an answer to this in our help center articles, so a member of our support team needs to look at your question.';

const QUANTITY_QUESTION =
  /\bhow (long|much|many|often|soon|big|large)\b|\bwhat (is|are) the (price|cost|limit|size)|\bwie (lange|viel|viele)\b|\bcombien\b|\bcu[aá]nto|\bquanto|\bhoe (lang|veel)\b/i;
const QUANTITY_BOOST = 1.6;

/** Term-overlap score of a sentence against the question, favouring rarer (more specific) words. */
function scoreSentences(question: string, passages: readonly RetrievedPassage[]): ScoredSentence[] {
  const questionStems = new Set(contentStems(question));
  const asksQuantity = QUANTITY_QUESTION.test(question);
  const all: Array<Omit<ScoredSentence, 'score'> & { stems: string[] }> = [];
  passages.forEach((passage, passageRank) => {
    splitSentences(passage.text).forEach((text, position) => {
      all.push({ text, articleId: passage.articleId, passageRank, position, stems: contentStems(text) });
    });
  });
  const documentFrequency = new Map<string, number>();
  for (const sentence of all)
    for (const item of new Set(sentence.stems)) documentFrequency.set(item, (documentFrequency.get(item) ?? 0) + 1);
  return all.map(({ stems, ...sentence }) => {
    let score = 0;
    for (const item of new Set(stems)) {
      if (questionStems.has(item)) score += Math.log(1 + all.length / (documentFrequency.get(item) ?? 1));
    }
    // Long sentences match more by chance; a square-root length penalty keeps the choice specific.
    let normalized = score / Math.sqrt(Math.max(stems.length, 4));
    // "How long / how much / how many ..." is answered by a sentence with a number in it.
    if (asksQuantity && normalized > 0 && /\d/.test(sentence.text)) normalized *= QUANTITY_BOOST;
    return { ...sentence, score: normalized };
  });
}

/** The best-matching sentences, quoted in reading order within each passage. */
export function selectQuotes(
  question: string,
  passages: readonly RetrievedPassage[],
  maxPassages: number,
  maxSentences: number,
): ScoredSentence[] {
  const usable = passages.slice(0, maxPassages);
  const all = scoreSentences(question, usable);
  // Only full sentences: headings ("The link says it expired") and fragments read as noise when quoted.
  const scored = all.filter((sentence) => words(sentence.text).length >= 4 && /[.!?:;)"”]$/.test(sentence.text));
  let chosen = scored
    .filter((sentence) => sentence.score > 0)
    .sort((a, b) => b.score - a.score || a.passageRank - b.passageRank)
    .slice(0, maxSentences);
  // Nothing overlaps: quote the opening of the best passage rather than nothing.
  if (chosen.length === 0) chosen = scored.filter((sentence) => sentence.passageRank === 0).slice(0, 2);
  return withListItems(chosen, all).sort((a, b) => a.passageRank - b.passageRank || a.position - b.position);
}

const MAX_LIST_ITEMS = 5;

/** A quoted lead-in ending in ":" needs the list items after it ("pick a format:" then "CSV ...", "PDF ..."). */
function withListItems(chosen: readonly ScoredSentence[], all: readonly ScoredSentence[]): ScoredSentence[] {
  const result = new Map(chosen.map((sentence) => [`${sentence.passageRank}:${sentence.position}`, sentence]));
  for (const sentence of chosen) {
    if (!sentence.text.endsWith(':')) continue;
    const following = all
      .filter((item) => item.passageRank === sentence.passageRank && item.position > sentence.position)
      .sort((a, b) => a.position - b.position)
      .slice(0, MAX_LIST_ITEMS);
    for (const item of following) {
      result.set(`${item.passageRank}:${item.position}`, item);
      if (!/[,;]$/.test(item.text)) break;
    }
  }
  return [...result.values()];
}

function firstName(name: string | undefined): string | undefined {
  const first = name?.trim().split(/\s+/)[0];
  return first && /^[\p{L}][\p{L}'-]*$/u.test(first) ? first : undefined;
}

export function buildExtractiveDraft(
  request: GenerationRequest,
  options: Required<OfflineLlmOptions>,
): GenerationResult {
  const templates = courtesyFor(request.language, request.tone);
  const name = firstName(request.customerName);
  const greeting = name ? templates.greetingWithName.replace('{name}', name) : templates.greetingWithoutName;
  const opening = [templates.thanks, ...(request.frustrated ? [templates.frustration] : [])].join(' ');
  const quotes =
    request.passages.length === 0
      ? []
      : selectQuotes(request.customerMessage, request.passages, options.maxPassages, options.maxSentences);

  const body =
    quotes.length === 0
      ? [NO_ANSWER_TEXT]
      : [
          templates.leadIn,
          groupQuotes(quotes)
            .map((group) => group.map((quote) => `> ${quote.text}`).join('\n'))
            .join('\n\n'),
        ];
  const reply = [greeting, opening, ...body, `${templates.closing}\n${options.signature}`].join('\n\n');
  const citations = [...new Set(quotes.map((quote) => quote.articleId))];
  return {
    reply,
    citations,
    escalate:
      quotes.length === 0
        ? { needed: true, reason: 'no knowledge-base passage was retrieved for this question' }
        : { needed: false, reason: '' },
    usage: { ...ZERO_USAGE },
    model: OFFLINE_MODEL,
    promptVersion: PROMPT_VERSION,
    provider: 'offline',
  };
}

function groupQuotes(quotes: readonly ScoredSentence[]): ScoredSentence[][] {
  const groups: ScoredSentence[][] = [];
  for (const quote of quotes) {
    const last = groups.at(-1);
    if (last && last[0]?.articleId === quote.articleId) last.push(quote);
    else groups.push([quote]);
  }
  return groups;
}

/**
 * Extractive summary: the most informative sentences (most distinct content words, a bonus for
 * the first sentence, which usually states the request), kept in their original order.
 */
export function extractiveSummary(text: string, maxSentences: number): string {
  const sentences = splitSentences(text);
  if (sentences.length <= maxSentences) return sentences.join(' ');
  const frequency = new Map<string, number>();
  for (const item of contentStems(text)) frequency.set(item, (frequency.get(item) ?? 0) + 1);
  const scored = sentences.map((sentence, index) => {
    const stems = new Set(contentStems(sentence));
    let score = 0;
    for (const item of stems) score += 1 + Math.log(frequency.get(item) ?? 1);
    score /= Math.sqrt(Math.max(stems.size, 3));
    if (index === 0) score *= 1.5;
    return { sentence, index, score };
  });
  return scored
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .slice(0, Math.max(1, maxSentences))
    .sort((a, b) => a.index - b.index)
    .map((item) => item.sentence)
    .join(' ');
}

export function createOfflineLlm(options: OfflineLlmOptions = {}): LlmPort {
  const settings: Required<OfflineLlmOptions> = {
    signature: options.signature ?? 'The support team',
    maxPassages: options.maxPassages ?? 2,
    maxSentences: options.maxSentences ?? 3,
  };
  return {
    provider: 'offline',
    async classify(): Promise<LlmClassification | null> {
      return null;
    },
    async generate(request: GenerationRequest): Promise<GenerationResult> {
      return buildExtractiveDraft(request, settings);
    },
    async summarize(request: SummarizeRequest): Promise<SummarizeResult> {
      return {
        summary: extractiveSummary(request.text, request.maxSentences),
        usage: { ...ZERO_USAGE },
        provider: 'offline',
      };
    },
    async countTokens(request: CountTokensRequest): Promise<TokenCount> {
      return { tokens: estimateMessageTokens([request.text]), method: 'estimate' };
    },
  };
}
