/**
 * The grounding guard: runs in code after every generation, whatever the provider. A draft passes
 * only when every citation was retrieved, every substantive sentence is supported by a cited
 * passage, no action is promised or claimed without a tool confirmation, every number and name is
 * in a cited passage or the customer context, and nothing in it follows injected instructions.
 * Pure: same input, same verdict.
 */
import type { RetrievedPassage } from '../types.ts';
import { findInconsistencies } from './consistency.ts';
import { isCourtesySentence } from './courtesy.ts';
import {
  cachedNumberSet,
  cachedVocabulary,
  extractNameCandidates,
  extractNumbers,
  extractQuantities,
  isNameGrounded,
} from './facts.ts';
import { detectPromptInjection } from './injection.ts';
import { findActionClaims, isConfirmed } from './promises.ts';
import {
  cachedContentStemSet,
  containment,
  contentStemSet,
  type Lookup,
  normalizeForComparison,
  splitSentences,
  unionLookup,
} from './text.ts';

export { detectPromptInjection, type InjectionReport } from './injection.ts';

/**
 * Minimum share of a sentence's content-word stems found in one cited passage (or the customer
 * context) for the sentence to count as supported. Calibrated in
 * test/unit/grounding-calibration.test.ts on 61 sentence pairs built from the Tandem sample KB
 * (39 supported quotes and paraphrases, 22 unsupported same-topic claims): the best threshold was
 * 0.71 (accuracy 0.967); 0.7 keeps that accuracy. Overlap cannot see negation or contradiction
 * ("deleted accounts can be recovered" scores 1.0 against the deletion article), which is why the
 * action, fact and tier checks exist alongside it.
 */
export const SUPPORT_THRESHOLD = 0.7;

export type GroundingCheckName =
  | 'citations_retrieved'
  | 'sentences_supported'
  | 'no_unconfirmed_actions'
  | 'facts_grounded'
  | 'claims_consistent'
  | 'injection_ignored';

export interface GroundingCheck {
  name: GroundingCheckName;
  passed: boolean;
  detail: string;
}

export interface SentenceSupport {
  sentence: string;
  /** Best containment score over the cited passages and the customer context (0..1). */
  score: number;
  /** The article that supports it best, 'customer_context', 'combined' (cited articles and context together), or null. */
  source: string | null;
}

export interface VerifyDraftInput {
  reply: string;
  citations: readonly string[];
  /** Everything retrieval returned for this ticket. */
  passages: readonly RetrievedPassage[];
  /** The rendered customer context given to the generator (account data, interactions). */
  customerContextText?: string;
  /** Actions a tool actually performed for this ticket, e.g. ['password_reset_link_sent']. */
  toolConfirmations?: readonly string[];
  /** Names always allowed (the tenant's product and company names, e.g. ['Tandem']). */
  knownNames?: readonly string[];
  /** Overrides SUPPORT_THRESHOLD (for calibration experiments). */
  supportThreshold?: number;
}

export interface GroundingVerdict {
  passed: boolean;
  checks: GroundingCheck[];
  unsupportedSentences: string[];
  /** Per substantive sentence, how well it is supported (for the ticket record). */
  support: SentenceSupport[];
}

interface GroundingSource {
  id: string;
  /** The source's text in parts that were joined by newlines (no word spans a newline). */
  parts: readonly string[];
  stems: Lookup;
  /** Only needed when a sentence claims an action, so computed on demand. */
  normalized: () => string;
}

/** A source read as its parts joined by newlines, each part's stems analysed once (cached). */
function sourceFromParts(id: string, parts: readonly string[]): GroundingSource {
  const stemSets = parts.map(cachedContentStemSet);
  let normalized: string | undefined;
  return {
    id,
    parts,
    stems: stemSets.length === 1 ? (stemSets[0] as ReadonlySet<string>) : unionLookup(stemSets),
    normalized: () => {
      normalized ??= normalizeForComparison(parts.join('\n'));
      return normalized;
    },
  };
}

const MAX_DETAIL_ITEMS = 5;

function listForDetail(items: readonly string[]): string {
  const shown = items
    .slice(0, MAX_DETAIL_ITEMS)
    .map((item) => `"${item.length > 80 ? `${item.slice(0, 77)}...` : item}"`);
  return items.length > MAX_DETAIL_ITEMS
    ? `${shown.join(', ')} and ${items.length - MAX_DETAIL_ITEMS} more`
    : shown.join(', ');
}

/** Cited passages that were actually retrieved, merged per article (an article may have several passages). */
function citedSources(passages: readonly RetrievedPassage[], citations: readonly string[]): GroundingSource[] {
  const cited = new Set(citations);
  // An article's title once, then the text of each of its passages.
  const partsByArticle = new Map<string, string[]>();
  for (const passage of passages) {
    if (!cited.has(passage.articleId)) continue;
    const parts = partsByArticle.get(passage.articleId);
    if (parts === undefined) partsByArticle.set(passage.articleId, [passage.title, passage.text]);
    else parts.push(passage.text);
  }
  return [...partsByArticle].map(([id, parts]) => sourceFromParts(id, parts));
}

function checkCitations(
  citations: readonly string[],
  passages: readonly RetrievedPassage[],
  substantiveCount: number,
): GroundingCheck {
  const retrieved = new Set(passages.map((passage) => passage.articleId));
  const unknown = citations.filter((citation) => !retrieved.has(citation));
  if (unknown.length > 0) {
    return {
      name: 'citations_retrieved',
      passed: false,
      detail: `cited articles that were not retrieved: ${listForDetail(unknown)}`,
    };
  }
  if (citations.length === 0 && substantiveCount > 0) {
    return { name: 'citations_retrieved', passed: false, detail: 'the reply states facts but cites no article' };
  }
  return { name: 'citations_retrieved', passed: true, detail: `${citations.length} citation(s), all retrieved` };
}

function scoreSentence(sentence: string, sources: readonly GroundingSource[]): SentenceSupport {
  const stems = contentStemSet(sentence);
  let best: SentenceSupport = { sentence, score: 0, source: null };
  for (const source of sources) {
    const score = containment(stems, source.stems);
    if (score > best.score) best = { sentence, score, source: source.id };
  }
  return best;
}

/** A sentence quoted word for word from a cited passage states the KB's policy, not a new promise. */
function isVerbatimQuote(sentence: string, sources: readonly GroundingSource[]): boolean {
  const normalized = normalizeForComparison(sentence).replace(/[.!?]+$/, '');
  return normalized.length >= 12 && sources.some((source) => source.normalized().includes(normalized));
}

function checkActions(
  sentences: readonly string[],
  sources: readonly GroundingSource[],
  toolConfirmations: readonly string[],
): GroundingCheck {
  const unconfirmed: string[] = [];
  for (const sentence of sentences) {
    const claims = findActionClaims(sentence);
    if (claims.length === 0 || isVerbatimQuote(sentence, sources)) continue;
    for (const claim of claims) {
      if (!isConfirmed(claim, toolConfirmations)) unconfirmed.push(`${claim.kind}: ${claim.phrase}`);
    }
  }
  return unconfirmed.length === 0
    ? {
        name: 'no_unconfirmed_actions',
        passed: true,
        detail: 'no promised or claimed actions without a tool confirmation',
      }
    : {
        name: 'no_unconfirmed_actions',
        passed: false,
        detail: `actions promised or claimed without a tool confirmation: ${listForDetail(unconfirmed)}`,
      };
}

/** Computes a value the first time it is asked for: most drafts need only some of the fact sets. */
function lazy<T>(compute: () => T): () => T {
  let value: T | undefined;
  let done = false;
  return () => {
    if (!done) {
      value = compute();
      done = true;
    }
    return value as T;
  };
}

/**
 * `groundingParts` joined by newlines is the grounding text. Numbers and words never span a
 * newline, so their sets are unions over the (cached) parts; a quantity can ("$" at the end of a
 * title, "12" at the start of its text), so quantities are read from the joined text.
 */
function checkFacts(
  sentences: readonly string[],
  courtesy: ReadonlySet<string>,
  groundingParts: readonly string[],
  contextText: string,
  knownNames: readonly string[],
): GroundingCheck {
  const contextNumbers = lazy(() => cachedNumberSet(contextText));
  const knownNumbers = lazy(() => unionLookup(groundingParts.map(cachedNumberSet)));
  const knownQuantities = lazy(() => new Set(extractQuantities(groundingParts.join('\n'))));
  const sourceVocabulary = lazy(() =>
    unionLookup([...groundingParts.map(cachedVocabulary), cachedVocabulary(knownNames.join(' '))]),
  );
  const inventedNumbers: string[] = [];
  const inventedNames: string[] = [];
  for (const sentence of sentences) {
    for (const number of extractNumbers(sentence)) if (!knownNumbers().has(number)) inventedNumbers.push(number);
    for (const quantity of extractQuantities(sentence)) {
      // Account data is rendered as "Members: 7", so for it the number alone grounds the quantity.
      const number = quantity.replace(/^price:/, '').split(' ')[0] ?? '';
      if (!knownQuantities().has(quantity) && !contextNumbers().has(number)) {
        inventedNumbers.push(quantity.replace(/^price:/, 'price '));
      }
    }
    // Greetings carry the customer's name, which needs no grounding.
    if (courtesy.has(sentence)) continue;
    for (const candidate of extractNameCandidates(sentence)) {
      if (!isNameGrounded(candidate, sourceVocabulary())) inventedNames.push(candidate.name);
    }
  }
  const problems = [
    ...(inventedNumbers.length > 0
      ? [`numbers not in a cited passage or the context: ${listForDetail(inventedNumbers)}`]
      : []),
    ...(inventedNames.length > 0
      ? [`names not in a cited passage or the context: ${listForDetail(inventedNames)}`]
      : []),
  ];
  return problems.length === 0
    ? {
        name: 'facts_grounded',
        passed: true,
        detail: 'every number and name appears in a cited passage or the context',
      }
    : { name: 'facts_grounded', passed: false, detail: problems.join('; ') };
}

function checkConsistency(
  substantive: readonly string[],
  sources: readonly GroundingSource[],
  passages: readonly RetrievedPassage[],
  citations: readonly string[],
): GroundingCheck {
  // A sentence quoted word for word from a cited passage cannot contradict it.
  const claims = substantive.filter((sentence) => !isVerbatimQuote(sentence, sources));
  const problems = findInconsistencies(claims, passages, citations);
  return problems.length === 0
    ? {
        name: 'claims_consistent',
        passed: true,
        detail: 'no claim contradicts the cited passage that supports it (negation, exclusive terms, numbers)',
      }
    : {
        name: 'claims_consistent',
        passed: false,
        detail: `claims that contradict a cited passage: ${problems
          .slice(0, MAX_DETAIL_ITEMS)
          .map((problem) => `${listForDetail([problem.sentence])} ${problem.detail}`)
          .join('; ')}${problems.length > MAX_DETAIL_ITEMS ? ` and ${problems.length - MAX_DETAIL_ITEMS} more` : ''}`,
      };
}

const PROMPT_LEAK =
  /<\/?\s*(customer_message|customer_context|kb_article|system)\b|\buntrusted customer data\b|\bsystem prompt\b/i;

/** Markers that mean the reply itself obeys or echoes injected text (KB prose may legitimately say "mark as done"). */
const REPLY_INJECTION_MARKERS = new Set([
  'ignore_instructions',
  'role_override',
  'system_prompt',
  'fake_role_tag',
  'hidden_text',
]);

function checkInjection(reply: string): GroundingCheck {
  const markers = detectPromptInjection(reply).markers.filter((marker) => REPLY_INJECTION_MARKERS.has(marker));
  const leaks = PROMPT_LEAK.test(reply);
  if (markers.length === 0 && !leaks) {
    return {
      name: 'injection_ignored',
      passed: true,
      detail: 'the reply neither follows nor echoes injected instructions',
    };
  }
  const reasons = [...markers, ...(leaks ? ['prompt_leak'] : [])];
  return {
    name: 'injection_ignored',
    passed: false,
    detail: `the reply contains instruction-like or prompt text: ${reasons.join(', ')}`,
  };
}

export function verifyDraft(input: VerifyDraftInput): GroundingVerdict {
  const threshold = input.supportThreshold ?? SUPPORT_THRESHOLD;
  const sentences = splitSentences(input.reply);
  const courtesy = new Set(sentences.filter(isCourtesySentence));
  const substantive = sentences.filter((sentence) => !courtesy.has(sentence));

  const sources = citedSources(input.passages, input.citations);
  const contextText = input.customerContextText ?? '';
  const supportSources: GroundingSource[] =
    contextText.trim() === '' ? [...sources] : [...sources, sourceFromParts('customer_context', [contextText])];
  // A sentence may combine sources ("your 7 members on the Team plan pay $12 each"): the union of
  // everything cited plus the context counts as one more source.
  if (supportSources.length > 1) {
    const parts = supportSources.flatMap((source) => source.parts);
    supportSources.push(sourceFromParts('combined', parts));
  }
  const support = substantive.map((sentence) => scoreSentence(sentence, supportSources));
  const unsupportedSentences = support.filter((item) => item.score < threshold).map((item) => item.sentence);

  const citedPassages = input.passages.filter((passage) => input.citations.includes(passage.articleId));
  const groundingParts = [
    ...citedPassages.flatMap((passage) => [passage.title, passage.text, passage.url ?? '']),
    contextText,
  ];

  const checks: GroundingCheck[] = [
    checkCitations(input.citations, input.passages, substantive.length),
    unsupportedSentences.length === 0
      ? {
          name: 'sentences_supported',
          passed: true,
          detail: `${substantive.length} sentence(s) supported at overlap >= ${threshold}`,
        }
      : {
          name: 'sentences_supported',
          passed: false,
          detail: `${unsupportedSentences.length} of ${substantive.length} sentence(s) below overlap ${threshold}: ${listForDetail(unsupportedSentences)}`,
        },
    checkActions(sentences, sources, input.toolConfirmations ?? []),
    checkFacts(sentences, courtesy, groundingParts, contextText, input.knownNames ?? []),
    checkConsistency(substantive, sources, input.passages, input.citations),
    checkInjection(input.reply),
  ];
  return { passed: checks.every((check) => check.passed), checks, unsupportedSentences, support };
}
