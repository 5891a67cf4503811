/**
 * Claims that use the article's words against it. A reply sentence can be made only of words
 * that a cited article contains and still contradict it: "monthly charges can be refunded within
 * 14 days" against "Yearly subscriptions can be refunded within 14 days ... Monthly charges are not
 * refunded", or "Team is $10 billed monthly" against "$12 billed monthly, or $10 billed yearly".
 * Word overlap cannot see that, so each claim is compared with the passage statements (sentences,
 * and for numbers the clauses) that support it best:
 * - polarity: each asserted clause of the claim (not a leading "if ..." condition) against the
 *   statements that cover it: a positive clause must take nothing from a negated statement, a negated
 *   one needs a negated source;
 * - contrast: the claim names one member of a set of mutually exclusive terms (billing periods,
 *   platforms, view or edit, before or after, or the sibling section headings of one article such as
 *   plan names) where every best statement names another and not the claim's, or goes "from A to B"
 *   where the article goes from B to A;
 * - binding: a number in a claim's clause is stated in the cited passages only in clauses that name
 *   another member of such a set ("$10" only next to "yearly" when the claim says "monthly").
 * Deliberately conservative: a statement that mentions the claim's term too never conflicts, and a
 * claim with no close statement is left to the overlap check. What it cannot see: antonyms outside its
 * table ("during" against "outside business hours"), and plan names in an article when no retrieved
 * article lists them as sibling headings. test/unit/grounding-consistency.test.ts has the cases.
 */
import type { RetrievedPassage } from '../types.ts';
import { extractNumbers, extractQuantities } from './facts.ts';
import { containment, contentStemSet, memoizeByKey, memoizeByText, splitSentences, words } from './text.ts';

/** A statement counts among a claim's best when it covers at least this share of the claim's content stems... */
const MIN_COVERAGE = 0.5;
/** ...and is within this much of the best statement's coverage. */
const NEAR_BEST = 0.1;

/** Words that negate a statement, in the languages the product detects. */
const NEGATIONS = new Set(
  [
    'not no never cannot cant can’t don’t doesn’t didn’t isn’t aren’t wasn’t weren’t won’t wouldn’t shouldn’t couldn’t',
    'haven’t hasn’t hadn’t dont doesnt didnt isnt arent wasnt werent wont without none neither nor non nothing',
    'nicht kein keine keinen keinem keiner keines nie niemals ohne',
    'ne pas jamais sans aucun aucune',
    'nunca sin ningún ninguna ninguno',
    'não sem nenhum nenhuma',
    'non mai senza nessun nessuno nessuna',
    'niet geen nooit zonder',
  ]
    .join(' ')
    .split(/\s+/),
);

/**
 * Sets of terms that exclude each other in support answers; each inner list holds one member's
 * spellings (lower case, whole words; hyphenated ones written with spaces, as words() splits them).
 */
const CONTRAST_GROUPS: ReadonlyArray<ReadonlyArray<readonly string[]>> = [
  [['monthly', 'month to month'], ['yearly', 'annual', 'annually'], ['weekly'], ['daily'], ['quarterly']],
  [['ios', 'iphone', 'ipad'], ['android'], ['windows'], ['mac', 'macos'], ['linux']],
  [
    ['view', 'viewer', 'viewers', 'read only'],
    ['edit', 'editor', 'editors'],
  ],
  [['before'], ['after'], ['during']],
  [
    ['enable', 'enabled', 'enables', 'enabling'],
    ['disable', 'disabled', 'disables', 'disabling'],
  ],
  [['public'], ['private']],
  [
    ['upgrade', 'upgraded', 'upgrades', 'upgrading'],
    ['downgrade', 'downgraded', 'downgrades', 'downgrading'],
  ],
  [
    ['minimum', 'min'],
    ['maximum', 'max'],
  ],
  [
    ['increase', 'increased', 'increases', 'increasing'],
    ['decrease', 'decreased', 'decreases', 'decreasing', 'reduce', 'reduced', 'reducing'],
  ],
  [
    ['keep', 'keeps', 'kept', 'stay', 'stays', 'remain', 'remains'],
    ['lose', 'loses', 'lost', 'removed', 'deleted'],
  ],
  [['web'], ['mobile'], ['desktop']],
  // "Only one timer runs at a time" against "several timers can run"; a bare "one" is too common
  // ("more than one owner") and "two" is in "two-factor".
  [
    ['only one', 'single'],
    ['several', 'multiple', 'many'],
  ],
  [['original'], ['new', 'different', 'another']],
];

interface Group {
  /** Spellings of each member, lower case; multi-word spellings allowed (section headings). */
  members: ReadonlyArray<readonly string[]>;
  /**
   * For names taken from headings: each member as written with its capital, matched case-sensitively
   * in text, so "your team" is not the Team plan.
   */
  names?: ReadonlyArray<RegExp>;
}

const FIXED_GROUPS: Group[] = CONTRAST_GROUPS.map((members) => ({ members }));

export interface Statement {
  articleId: string;
  /** Clauses of one passage sentence share it. */
  sentenceId: string;
  text: string;
  /** Content stems of the text, its section heading and its article title. */
  stems: ReadonlySet<string>;
  /** The text's words, for contrast terms. */
  analysed: Analysed;
  /** The section heading's words joined by spaces: it names a member only when it is that member ("Free"). */
  headingKey: string;
  negated: boolean;
  /** Quantities with their unit ("price:10", "100 mb") and bare numbers, as facts.ts writes them. */
  quantities: ReadonlySet<string>;
  numbers: ReadonlySet<string>;
}

export interface ConsistencyProblem {
  sentence: string;
  kind: 'polarity' | 'contrast' | 'binding';
  detail: string;
}

function isNegated(text: string): boolean {
  // "no-reply@", "non-billable": a hyphenated prefix qualifies a word, it does not negate the sentence.
  return words(text.replace(/(?<![\p{L}\p{N}])(?:no|non)-(?=\p{L})/giu, '')).some(
    (word) => NEGATIONS.has(word) || word.endsWith('n’t'),
  );
}

const CLAUSE_BREAK = /;\s*|,\s*(?=(?:or|but|while|whereas|and|not|never|nor)\s)|\s+(?=(?:but|whereas|while)\s)/giu;

/**
 * Clauses of a sentence: split where English joins contrasting or alternative statements, but not
 * inside parentheses ("A downgrade (for example from Business to Team, or from Team to Free) takes
 * effect ..." is one clause).
 */
export function splitClauses(sentence: string): string[] {
  // Break positions outside parentheses only.
  const inside: boolean[] = [];
  let depth = 0;
  for (const character of sentence) {
    if (character === '(') depth += 1;
    inside.push(depth > 0);
    if (character === ')') depth = Math.max(0, depth - 1);
  }
  const clauses: string[] = [];
  let start = 0;
  for (const match of sentence.matchAll(CLAUSE_BREAK)) {
    const at = match.index ?? 0;
    if (inside[at]) continue;
    clauses.push(sentence.slice(start, at));
    start = at + match[0].length;
  }
  clauses.push(sentence.slice(start));
  return clauses.map((clause) => clause.trim()).filter((clause) => clause !== '');
}

interface Analysed {
  words: ReadonlySet<string>;
  /** The words joined by single spaces and padded, for multi-word terms. */
  lowered: string;
  original: string;
}

const analyseTerms = memoizeByText(
  (text: string): Analysed => ({
    words: new Set(words(text)),
    lowered: ` ${words(text).join(' ')} `,
    original: text,
  }),
);

function hasTerm(spelling: string, termWords: ReadonlySet<string>, lowered: string): boolean {
  return spelling.includes(' ') ? lowered.includes(` ${spelling} `) : termWords.has(spelling);
}

/** Indices of the group members a text names. */
function membersNamed(group: Group, text: Analysed): Set<number> {
  const named = new Set<number>();
  group.members.forEach((spellings, index) => {
    const pattern = group.names?.[index];
    const found = pattern
      ? pattern.test(text.original)
      : spellings.some((spelling) => hasTerm(spelling, text.words, text.lowered));
    if (found) named.add(index);
  });
  return named;
}

/**
 * Members a statement names. A section heading that is a member says what the section is about, so
 * it wins over members the text only refers to: "Everything in Team, plus an audit log" under
 * "Business" is about Business.
 */
function statementMembers(group: Group, target: Statement): Set<number> {
  const byHeading = new Set<number>();
  group.members.forEach((spellings, index) => {
    if (target.headingKey !== '' && spellings.includes(target.headingKey)) byHeading.add(index);
  });
  return byHeading.size > 0 ? byHeading : membersNamed(group, target.analysed);
}

function statement(articleId: string, sentenceId: string, text: string, heading: string, title: string): Statement {
  const analysed = analyseTerms(text);
  return {
    articleId,
    sentenceId,
    text,
    stems: contentStemSet(`${title}\n${heading}\n${text}`),
    analysed,
    headingKey: words(heading).join(' '),
    negated: isNegated(text),
    quantities: new Set(extractQuantities(text)),
    numbers: new Set(extractNumbers(text)),
  };
}

/**
 * Section headings of one article that look like names of alternatives: single words, at least two of
 * them in the article ("Free", "Team", "Business"; "iOS", "Android"). Longer headings ("Large files",
 * "Bank transfer") describe topics rather than name alternatives. Taken from the article's heading
 * list when the index supplied it, else from the headings of its passages at hand.
 */
function headingGroups(passages: readonly RetrievedPassage[]): Group[] {
  const byArticle = new Map<string, Map<string, string>>();
  for (const passage of passages) {
    const headings = byArticle.get(passage.articleId) ?? new Map<string, string>();
    for (const heading of [...(passage.sectionHeadings ?? []), passage.heading ?? '']) {
      const written = heading.trim();
      const key = words(written).join(' ');
      if (key !== '' && !key.includes(' ') && !headings.has(key)) headings.set(key, written);
    }
    byArticle.set(passage.articleId, headings);
  }
  return [...byArticle.values()]
    .filter((headings) => headings.size >= 2)
    .map((headings) => ({
      members: [...headings.keys()].map((key) => [key]),
      names: [...headings.values()].map(namePattern),
    }));
}

/** A heading as a name: its words as written, capital first, not inside a longer word (built once per heading). */
const namePattern = memoizeByText((heading: string): RegExp => {
  const escaped = heading.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+/g, '\\s+');
  const capitalised = escaped.charAt(0).toUpperCase() + escaped.slice(1);
  return new RegExp(`(?<![\\p{L}\\p{N}])${capitalised}(?![\\p{L}\\p{N}])`, 'u');
});

function quoted(text: string | undefined): string {
  const value = text ?? '';
  return `"${value.length > 100 ? `${value.slice(0, 97)}...` : value}"`;
}

function describeMembers(group: Group, indices: Iterable<number>): string {
  return [...indices].map((index) => `"${group.members[index]?.[0]}"`).join(', ');
}

/**
 * The claim's conflict with a statement in one group: the claim names members the statement does not,
 * and the statement names others. Null when they agree or either says nothing from the group.
 */
function conflict(group: Group, claimMembers: ReadonlySet<number>, target: Statement): Set<number> | null {
  if (claimMembers.size === 0) return null;
  const named = statementMembers(group, target);
  if (named.size === 0) return null;
  for (const member of claimMembers) if (named.has(member)) return null;
  return named;
}

/**
 * The statements of the cited passages: clauses of their sentences, since one sentence often joins a
 * rule and its exception ("Cancel any paid subscription; deletion stops future charges, but it does
 * not refund past ones").
 */
export function citedStatements(passages: readonly RetrievedPassage[], citations: readonly string[]): Statement[] {
  const cited = new Set(citations);
  return passages.filter((passage) => cited.has(passage.articleId)).flatMap(passageStatements);
}

/** A passage's statements depend only on its id, text, heading and title, so each is analysed once. */
const passageStatements = memoizeByKey(
  (passage: RetrievedPassage) =>
    [passage.passageId, passage.articleId, passage.title, passage.heading ?? '', passage.text].join('\u0000'),
  (passage: RetrievedPassage): Statement[] => {
    const heading = passage.heading ?? '';
    const text = passage.text;
    // The chunker puts the heading on the text's first line; it is the statements' context, not one of them.
    const body = heading !== '' && text.startsWith(`${heading}\n`) ? text.slice(heading.length + 1) : text;
    const statements: Statement[] = [];
    splitSentences(body).forEach((sentence, index) => {
      for (const clause of splitClauses(sentence)) {
        statements.push(statement(passage.articleId, `${passage.passageId}:${index}`, clause, heading, passage.title));
      }
    });
    return statements;
  },
);

/**
 * The statement that supplies what the best one leaves out of a claim ("...free for 14 days" from one
 * sentence, "no credit card is needed" from another). Another clause of the best one's sentence comes
 * first, even for one remaining stem ("Admin: manage members, boards and integrations, but not
 * billing"); a statement elsewhere must cover at least two of the remaining stems.
 */
const MIN_RESIDUAL_STEMS = 2;
const MIN_RESIDUAL_COVERAGE = 0.6;

function residualStatement(
  claimStems: ReadonlySet<string>,
  best: Statement,
  statements: readonly Statement[],
): Statement | undefined {
  const residual = new Set([...claimStems].filter((item) => !best.stems.has(item)));
  if (residual.size === 0) return undefined;
  const pick = (candidates: readonly Statement[], minStems: number): Statement | undefined => {
    let chosen: Statement | undefined;
    let chosenCoverage = 0;
    for (const item of candidates) {
      if (item === best) continue;
      let found = 0;
      for (const stemmed of residual) if (item.stems.has(stemmed)) found += 1;
      const coverage = found / residual.size;
      if (found >= minStems && coverage >= MIN_RESIDUAL_COVERAGE && coverage > chosenCoverage) {
        chosen = item;
        chosenCoverage = coverage;
      }
    }
    return chosen;
  };
  return (
    pick(
      statements.filter((item) => item.sentenceId === best.sentenceId),
      1,
    ) ?? (residual.size >= MIN_RESIDUAL_STEMS ? pick(statements, MIN_RESIDUAL_STEMS) : undefined)
  );
}

/**
 * A positive claim must not take any of its content from a negated statement: it is flagged when
 * every statement that covers it is negated, or when a negated one (covering it at MIN_COVERAGE, or
 * supplying what the best leaves out) covers a stem that no positive one covers ("credits are not paid
 * out" is where "Credits ... are paid out to your card" gets "paid"), or when the negated clause is the
 * rest of the best statement's sentence. A negated claim needs one negated
 * source: a correct "no card is needed to try Team for 14 days" joins a positive and a negative sentence.
 */
function polarityProblem(
  negated: boolean,
  claimStems: ReadonlySet<string>,
  covering: readonly Statement[],
  residual: Statement | undefined,
  best: Statement,
): string | null {
  const sources = residual && !covering.includes(residual) ? [...covering, residual] : covering;
  const negative = sources.filter((item) => item.negated);
  const positive = sources.filter((item) => !item.negated);
  if (negated) {
    if (negative.length > 0 || positive.length === 0) return null;
    return `negates what the article affirms: ${quoted(positive[0]?.text)}`;
  }
  // The rest of the best statement's own sentence qualifies it directly: "..., but not billing".
  if (residual?.negated && residual.sentenceId === best.sentenceId) {
    return `affirms what the article negates: ${quoted(`${best.text} ${residual.text}`)}`;
  }
  const against = negative.find(
    (item) =>
      positive.length === 0 ||
      [...claimStems].some((stemmed) => item.stems.has(stemmed) && !positive.some((other) => other.stems.has(stemmed))),
  );
  return against ? `affirms what the article negates: ${quoted(against.text)}` : null;
}

const CONDITION = /^(?:if|unless|when|whenever|once|in case)\b/i;

/**
 * The parts of a claim that assert something, for the polarity check: its clauses, without a
 * leading condition ("If your endpoint does not answer in 10 seconds, Tandem retries" asserts only
 * the retry; the negation is in the condition). A sentence that does not split is one part.
 */
function assertedParts(sentence: string): string[] {
  const clauses = splitClauses(sentence);
  const parts: string[] = [];
  for (const clause of clauses) {
    const comma = clause.indexOf(', ');
    if (CONDITION.test(clause) && comma > 0) parts.push(clause.slice(comma + 2));
    else if (!CONDITION.test(clause) || clauses.length === 1) parts.push(clause);
  }
  return parts.length > 0 ? parts : [sentence];
}

/** One asserted part of a claim, analysed once for both checks. */
interface Part {
  text: string;
  stems: ReadonlySet<string>;
  terms: Analysed;
  negated: boolean;
  /** Coverage of the part by each statement, in the statements' order. */
  coverage: number[];
  /** The statements within NEAR_BEST of the best coverage, in the statements' order. */
  best: Statement[];
  /** Coverage by the first of `best`. */
  firstBestCoverage: number;
  residual: Statement | undefined;
}

/** The part against the statements; undefined when none covers it at MIN_COVERAGE. */
function analysePart(text: string, statements: readonly Statement[]): Part | undefined {
  const stems = contentStemSet(text);
  const coverage = statements.map((item) => containment(stems, item.stems));
  const top = Math.max(0, ...coverage);
  if (top < MIN_COVERAGE) return undefined;
  const nearBest = statements.flatMap((item, index) => ((coverage[index] as number) >= top - NEAR_BEST ? [index] : []));
  const best = nearBest.map((index) => statements[index] as Statement);
  return {
    text,
    stems,
    terms: analyseTerms(text),
    negated: isNegated(text),
    coverage,
    best,
    firstBestCoverage: coverage[nearBest[0] as number] as number,
    residual: residualStatement(stems, best[0] as Statement, statements),
  };
}

function partPolarity(part: Part, statements: readonly Statement[]): string | null {
  const covering = statements.filter((_, index) => (part.coverage[index] as number) >= MIN_COVERAGE);
  return polarityProblem(part.negated, part.stems, covering, part.residual, part.best[0] as Statement);
}

/** Problems with the given substantive reply sentences against the cited passages (empty: consistent). */
export function findInconsistencies(
  sentences: readonly string[],
  passages: readonly RetrievedPassage[],
  citations: readonly string[],
): ConsistencyProblem[] {
  const statements = citedStatements(passages, citations);
  if (statements.length === 0) return [];
  // Which terms exclude each other is vocabulary: any retrieved article's headings may teach it.
  const groups = [...FIXED_GROUPS, ...headingGroups(passages)];
  const problems: ConsistencyProblem[] = [];
  for (const sentence of sentences) {
    // "Upgrades take effect immediately, while downgrades wait ..." asserts two things, each checked
    // against its own best statements.
    const parts = assertedParts(sentence).flatMap((text) => analysePart(text, statements) ?? []);
    const polarity = firstOf(parts, (part) => partPolarity(part, statements));
    if (polarity) {
      problems.push({ sentence, kind: 'polarity', detail: polarity });
      continue;
    }
    const contrast = firstOf(parts, (part) => partContrast(part, statements, groups));
    if (contrast) {
      problems.push({ sentence, kind: 'contrast', detail: contrast });
      continue;
    }
    const binding = bindingProblem(sentence, groups, statements);
    if (binding) problems.push({ sentence, kind: 'binding', detail: binding });
  }
  return problems;
}

function firstOf(parts: readonly Part[], check: (part: Part) => string | null): string | null {
  for (const part of parts) {
    const problem = check(part);
    if (problem) return problem;
  }
  return null;
}

/** The contrast check for one asserted part against its own best statements. */
function partContrast(part: Part, statements: readonly Statement[], groups: readonly Group[]): string | null {
  // "Billed yearly, Team is $10" is best covered by "$12 ... billed monthly" but stated by the next
  // clause: a statement that names the claim's term, agrees on negation, and covers the claim nearly
  // as well as the best or states the same number.
  const claimFacts = [...extractQuantities(part.text), ...extractNumbers(part.text)];
  const attests = (group: Group, members: ReadonlySet<number>): boolean =>
    statements.some((item, index) => {
      if (item.negated !== part.negated) return false;
      const coverage = part.coverage[index] as number;
      const close =
        coverage >= part.firstBestCoverage - NEAR_BEST ||
        (coverage >= MIN_COVERAGE && claimFacts.some((fact) => item.quantities.has(fact)));
      return close && [...statementMembers(group, item)].some((member) => members.has(member));
    });
  return (
    directionProblem(groups, part.terms, part.best) ??
    contrastProblem(groups, part.terms, part.best, attests) ??
    (part.residual ? contrastProblem(groups, part.terms, [part.residual], attests) : null)
  );
}

/** The member whose spelling starts at `tokens[start]` (two-word spellings first), or -1. */
function memberAt(group: Group, tokens: readonly string[], start: number): number {
  for (const length of [2, 1]) {
    const phrase = tokens.slice(start, start + length).join(' ');
    const index = group.members.findIndex((spellings) => spellings.includes(phrase));
    if (index >= 0) return index;
  }
  return -1;
}

/** "from X to Y" with X and Y members of the group, as member pairs ("from monthly to yearly"). */
function directions(group: Group, text: Analysed): string[] {
  const tokens = text.lowered.trim().split(' ');
  const pairs: string[] = [];
  tokens.forEach((token, index) => {
    if (token !== 'from') return;
    const source = memberAt(group, tokens, index + 1);
    if (source < 0) return;
    const to = tokens.indexOf('to', index + 2);
    if (to < 0 || to > index + 3) return;
    const target = memberAt(group, tokens, to + 1);
    if (target >= 0 && target !== source) pairs.push(`${source}>${target}`);
  });
  return pairs;
}

/** The claim goes "from A to B" where every best statement that says which way goes from B to A. */
function directionProblem(
  groups: readonly Group[],
  claimTerms: Analysed,
  targets: readonly Statement[],
): string | null {
  for (const group of groups) {
    const claimed = directions(group, claimTerms);
    if (claimed.length === 0) continue;
    const stated = targets.map((target) => directions(group, target.analysed)).filter((pairs) => pairs.length > 0);
    for (const pair of claimed) {
      const reverse = pair.split('>').reverse().join('>');
      if (stated.length > 0 && stated.every((pairs) => pairs.includes(reverse) && !pairs.includes(pair))) {
        const [from, to] = pair.split('>').map(Number);
        return `goes from ${describeMembers(group, [from as number])} to ${describeMembers(group, [to as number])} where the article goes the other way: ${quoted(targets.find((target) => directions(group, target.analysed).length > 0)?.text)}`;
      }
    }
  }
  return null;
}

/**
 * The claim names members of a group; the targets that name any member of it all name others (targets
 * naming none say nothing either way). `attests` may excuse it: a statement elsewhere that names the
 * claim's member in the same sense.
 */
function contrastProblem(
  groups: readonly Group[],
  claimTerms: Analysed,
  targets: readonly Statement[],
  attests: (group: Group, members: ReadonlySet<number>) => boolean = () => false,
): string | null {
  for (const group of groups) {
    const claimMembers = membersNamed(group, claimTerms);
    if (claimMembers.size === 0) continue;
    const naming = targets.filter((target) => statementMembers(group, target).size > 0);
    const conflicts = naming.map((target) => conflict(group, claimMembers, target));
    const first = conflicts[0];
    if (first && conflicts.every((item) => item !== null) && !attests(group, claimMembers)) {
      return `says ${describeMembers(group, claimMembers)} where the article says ${describeMembers(group, first)}: ${quoted(naming[0]?.text)}`;
    }
  }
  return null;
}

/**
 * A number in a clause of the claim that the passages state only next to another member of a group.
 * A number with a unit ("$10", "100 MB") is looked up with its unit, so "10 GB" does not anchor "$10".
 * Clauses that state the number but name nothing from the group ("files over 100 MB") say nothing
 * about which member it belongs to (contrastProblem leaves them out).
 */
function bindingProblem(sentence: string, groups: readonly Group[], clauses: readonly Statement[]): string | null {
  for (const clause of splitClauses(sentence)) {
    const quantities = extractQuantities(clause);
    const withUnit = new Set(quantities.map((quantity) => quantity.replace(/^price:/, '').split(' ')[0]));
    const facts = [
      ...quantities.map((quantity) => ({ fact: quantity, shown: quantity.replace(/^price:/, '$') })),
      ...extractNumbers(clause)
        .filter((number) => !withUnit.has(number))
        .map((number) => ({ fact: number, shown: number })),
    ];
    if (facts.length === 0) continue;
    const clauseTerms = analyseTerms(clause);
    for (const { fact, shown } of facts) {
      const anchors = clauses.filter((item) => item.quantities.has(fact) || item.numbers.has(fact));
      const problem = contrastProblem(groups, clauseTerms, anchors);
      if (problem) return `"${shown}" ${problem}`;
    }
  }
  return null;
}
