/**
 * The grounding guard: runs in code after every generation, whatever the provider. A draft passes
 * only when every citation was retrieved, every substantive sentence is supported by a cited
 * passage, no action is promised or claimed without a tool confirmation, every number and name is
 * in a cited passage or the customer context, and nothing in it follows injected instructions.
 * Pure: same input, same verdict.
 */
import type { RetrievedPassage } from '../types.ts';
import { isCourtesySentence } from './courtesy.ts';
import { extractNameCandidates, extractNumbers, extractQuantities, isNameGrounded, vocabulary } from './facts.ts';
import { detectPromptInjection } from './injection.ts';
import { findActionClaims, isConfirmed } from './promises.ts';
import { containment, contentStemSet, normalizeForComparison, splitSentences } from './text.ts';

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
  stems: Set<string>;
  normalized: string;
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
  const textByArticle = new Map<string, string>();
  for (const passage of passages) {
    if (!cited.has(passage.articleId)) continue;
    const previous = textByArticle.get(passage.articleId);
    const text = `${passage.title}\n${passage.text}`;
    textByArticle.set(passage.articleId, previous === undefined ? text : `${previous}\n${passage.text}`);
  }
  return [...textByArticle].map(([id, text]) => ({
    id,
    stems: contentStemSet(text),
    normalized: normalizeForComparison(text),
  }));
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
  return normalized.length >= 12 && sources.some((source) => source.normalized.includes(normalized));
}

function checkActions(
  sentences: readonly string[],
  sources: readonly GroundingSource[],
  toolConfirmations: readonly string[],
): GroundingCheck {
  const unconfirmed: string[] = [];
  for (const sentence of sentences) {
    if (isVerbatimQuote(sentence, sources)) continue;
    for (const claim of findActionClaims(sentence)) {
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

function checkFacts(
  sentences: readonly string[],
  courtesy: ReadonlySet<string>,
  groundingText: string,
  contextText: string,
  knownNames: readonly string[],
): GroundingCheck {
  const contextNumbers = new Set(extractNumbers(contextText));
  const knownNumbers = new Set(extractNumbers(groundingText));
  const knownQuantities = new Set(extractQuantities(groundingText));
  const sourceVocabulary = vocabulary(`${groundingText}\n${knownNames.join(' ')}`);
  const inventedNumbers: string[] = [];
  const inventedNames: string[] = [];
  for (const sentence of sentences) {
    for (const number of extractNumbers(sentence)) if (!knownNumbers.has(number)) inventedNumbers.push(number);
    for (const quantity of extractQuantities(sentence)) {
      // Account data is rendered as "Members: 7", so for it the number alone grounds the quantity.
      const number = quantity.replace(/^price:/, '').split(' ')[0] ?? '';
      if (!knownQuantities.has(quantity) && !contextNumbers.has(number)) {
        inventedNumbers.push(quantity.replace(/^price:/, 'price '));
      }
    }
    // Greetings carry the customer's name, which needs no grounding.
    if (courtesy.has(sentence)) continue;
    for (const candidate of extractNameCandidates(sentence)) {
      if (!isNameGrounded(candidate, sourceVocabulary)) inventedNames.push(candidate.name);
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
    contextText.trim() === ''
      ? [...sources]
      : [
          ...sources,
          {
            id: 'customer_context',
            stems: contentStemSet(contextText),
            normalized: normalizeForComparison(contextText),
          },
        ];
  // A sentence may combine sources ("your 7 members on the Team plan pay $12 each"): the union of
  // everything cited plus the context counts as one more source.
  if (supportSources.length > 1) {
    const union = new Set(supportSources.flatMap((source) => [...source.stems]));
    supportSources.push({ id: 'combined', stems: union, normalized: '' });
  }
  const support = substantive.map((sentence) => scoreSentence(sentence, supportSources));
  const unsupportedSentences = support.filter((item) => item.score < threshold).map((item) => item.sentence);

  const citedPassages = input.passages.filter((passage) => input.citations.includes(passage.articleId));
  const groundingText = [
    ...citedPassages.flatMap((passage) => [passage.title, passage.text, passage.url ?? '']),
    contextText,
  ].join('\n');

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
    checkFacts(sentences, courtesy, groundingText, contextText, input.knownNames ?? []),
    checkInjection(input.reply),
  ];
  return { passed: checks.every((check) => check.passed), checks, unsupportedSentences, support };
}
