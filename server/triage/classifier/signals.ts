/**
 * Cheap per-ticket signals next to the intent: language, urgency and sentiment/frustration.
 * Word lists and scoring rules, no model: fast, explainable, and good enough to route and to tone
 * a reply. All pure functions.
 */
import type { Sentiment, Urgency } from '../types.ts';
import { normalizeText, tokenize } from './features.ts';

export type DetectedLanguage = 'en' | 'de' | 'fr' | 'es' | 'pt' | 'it' | 'nl' | 'unknown';

/** Frequent function words per language (accents stripped, as normalizeText does). */
const STOPWORDS: Record<Exclude<DetectedLanguage, 'unknown'>, string[]> = {
  en: [
    'the',
    'and',
    'is',
    'to',
    'my',
    'i',
    'it',
    'you',
    'of',
    'in',
    'for',
    'this',
    'that',
    'can',
    'not',
    'with',
    'have',
    'how',
    'what',
    'was',
    'do',
    'me',
    'please',
    'your',
    'are',
    'on',
    'we',
    'our',
    'be',
    'an',
    'account',
    'when',
    'why',
    'hi',
    'hello',
    'thanks',
    'does',
    'would',
    'will',
  ],
  de: [
    'der',
    'die',
    'das',
    'und',
    'ist',
    'ich',
    'nicht',
    'mein',
    'meine',
    'sie',
    'es',
    'zu',
    'mit',
    'ein',
    'eine',
    'wie',
    'kann',
    'bitte',
    'fur',
    'auf',
    'den',
    'dem',
    'wir',
    'haben',
    'habe',
    'mich',
    'mir',
    'ihr',
    'ihre',
    'auch',
    'noch',
    'wird',
    'werden',
    'hallo',
    'danke',
    'konnen',
    'warum',
    'was',
    'wo',
    'sich',
    'kein',
    'keine',
    'unser',
    'oder',
  ],
  fr: [
    'le',
    'la',
    'les',
    'et',
    'est',
    'je',
    'pas',
    'mon',
    'ma',
    'mes',
    'vous',
    'de',
    'des',
    'un',
    'une',
    'pour',
    'avec',
    'que',
    'qui',
    'comment',
    'ne',
    'il',
    'elle',
    'sur',
    'dans',
    'au',
    'du',
    'nous',
    'votre',
    'bonjour',
    'merci',
    'puis',
    'ai',
    'suis',
    'mais',
    'ce',
    'cette',
    'pourquoi',
    'faire',
    'compte',
    'aussi',
  ],
  es: [
    'el',
    'la',
    'los',
    'las',
    'y',
    'es',
    'yo',
    'no',
    'mi',
    'mis',
    'usted',
    'de',
    'un',
    'una',
    'para',
    'con',
    'que',
    'como',
    'por',
    'en',
    'del',
    'al',
    'se',
    'lo',
    'su',
    'hola',
    'gracias',
    'puedo',
    'tengo',
    'pero',
    'esta',
    'este',
    'cuenta',
    'quiero',
    'porque',
    'favor',
    'muy',
    'hay',
    'me',
    'nos',
  ],
  pt: [
    'o',
    'a',
    'os',
    'as',
    'e',
    'eu',
    'nao',
    'meu',
    'minha',
    'voce',
    'de',
    'do',
    'da',
    'um',
    'uma',
    'para',
    'com',
    'que',
    'como',
    'por',
    'em',
    'no',
    'na',
    'se',
    'ola',
    'obrigado',
    'obrigada',
    'posso',
    'tenho',
    'mas',
    'esta',
    'conta',
    'quero',
    'porque',
    'favor',
    'muito',
    'seu',
    'sua',
    'ao',
    'isso',
  ],
  it: [
    'il',
    'lo',
    'la',
    'gli',
    'le',
    'e',
    'io',
    'non',
    'mio',
    'mia',
    'di',
    'un',
    'una',
    'per',
    'con',
    'che',
    'come',
    'in',
    'del',
    'della',
    'al',
    'si',
    'ciao',
    'grazie',
    'posso',
    'ho',
    'ma',
    'questo',
    'questa',
    'voglio',
    'perche',
    'sono',
    'mi',
    'ci',
    'anche',
    'ancora',
    'piu',
    'account',
    'buongiorno',
    'nel',
  ],
  nl: [
    'de',
    'het',
    'een',
    'en',
    'is',
    'ik',
    'niet',
    'mijn',
    'je',
    'u',
    'van',
    'voor',
    'met',
    'dat',
    'die',
    'hoe',
    'kan',
    'op',
    'te',
    'er',
    'wij',
    'we',
    'ons',
    'onze',
    'hallo',
    'bedankt',
    'dank',
    'graag',
    'heb',
    'maar',
    'dit',
    'wil',
    'waarom',
    'zijn',
    'wordt',
    'geen',
    'nog',
    'ook',
    'uw',
    'alstublieft',
  ],
};

/** Letter sequences characteristic of one language, as a tie-breaker for short texts. */
const CHARACTER_HINTS: Record<Exclude<DetectedLanguage, 'unknown'>, RegExp> = {
  en: /\b(th|wh)\w|ing\b|ould\b/g,
  de: /sch|\w(ung|keit|lich)\b|ei[nt]|[äöüß]/g,
  fr: /\w(eau|eux|ais|ait)\b|[çèêàù]|qu'|\bl'|\bd'|\bj'/g,
  es: /ñ|¿|¡|\w(cion|ción|mente)\b|\bll\w/g,
  pt: /[ãõ]|ção|ções|\wnh[ao]|\wlh[ao]/g,
  it: /\w(zione|gli|cch|zz)\w*|\b(è)\b|\w+ere\b/g,
  nl: /\bij|ij\w|oe|aa|\w(tje|lijk)\b|\bge\w+d\b/g,
};

/**
 * The language with the most stopword hits (plus a small character-profile bonus); 'unknown' when
 * the text is too short or no language stands out.
 */
export function detectLanguage(text: string): DetectedLanguage {
  const lowered = text.toLowerCase();
  const tokens = tokenize(normalizeText(text));
  if (tokens.length === 0) return 'unknown';
  const scores = (Object.keys(STOPWORDS) as Array<Exclude<DetectedLanguage, 'unknown'>>).map((language) => {
    const words = new Set(STOPWORDS[language]);
    let score = 0;
    for (const token of tokens) if (words.has(token)) score += 1;
    score += 0.5 * Math.min(4, lowered.match(CHARACTER_HINTS[language])?.length ?? 0);
    return { language, score };
  });
  scores.sort((a, b) => b.score - a.score);
  const [best, second] = scores;
  if (!best || best.score < 1) return 'unknown';
  // A tie between two languages is not evidence for either.
  if (second && best.score === second.score) return 'unknown';
  return best.language;
}

// ---------------------------------------------------------------------------------------------
// Urgency

/** Cues matched against the accent-stripped, lowercased text. Multilingual on purpose. */
const HIGH_URGENCY = [
  /\b(outage|down for everyone|is down|are down|went down|site down|app down|service down|completely broken|not loading at all)\b/,
  /\b(urgent|urgently|asap|emergency|immediately|right now|critical)\b/,
  /\b(can ?not|can'?t|cannot|unable to|could not|couldn'?t) (log ?in|login|sign ?in|access)\b/,
  /\b(locked out|production|prod is|losing money|lose money|losing customers|data loss|lost (all )?(my|our) data|security breach|hacked|compromised)\b/,
  /\b(dringend|sofort|notfall|ausfall|kann mich nicht anmelden|geht nicht mehr|komplett ausgefallen)\b/,
  /\b(urgence|urgent|immediatement|panne|impossible de me connecter|ne fonctionne plus du tout)\b/,
  /\b(urgente|inmediatamente|caido|caida|no puedo (iniciar sesion|entrar|acceder))\b/,
  /\b(urgente|imediatamente|fora do ar|nao consigo (entrar|acessar|fazer login))\b/,
  /\b(urgente|subito|immediatamente|non riesco ad? (accedere|entrare)|non funziona piu)\b/,
  /\b(dringend|spoed|onmiddellijk|storing|kan niet inloggen|ligt eruit)\b/,
];

const MEDIUM_URGENCY = [
  /\b(not working|doesn'?t work|does not work|broken|error|bug|crash(es|ed)?|fails?|failing|wrong|charged twice|double charged|deadline|today|soon|quickly|blocked|stuck)\b/,
  /\b(funktioniert nicht|fehler|absturz|falsch|heute|schnell)\b/,
  /\b(ne marche pas|ne fonctionne pas|erreur|bug|plantage|aujourd'?hui|vite)\b/,
  /\b(no funciona|error|fallo|hoy|rapido)\b/,
  /\b(nao funciona|erro|falha|hoje|rapido)\b/,
  /\b(non funziona|errore|oggi|presto)\b/,
  /\b(werkt niet|fout|vandaag|snel)\b/,
];

export function detectUrgency(text: string): Urgency {
  const normalized = normalizeText(text);
  if (HIGH_URGENCY.some((pattern) => pattern.test(normalized))) return 'high';
  if (MEDIUM_URGENCY.some((pattern) => pattern.test(normalized))) return 'medium';
  return 'low';
}

// ---------------------------------------------------------------------------------------------
// Sentiment and frustration

const NEGATIVE_WORDS = new Set([
  'angry',
  'annoyed',
  'annoying',
  'awful',
  'terrible',
  'horrible',
  'useless',
  'ridiculous',
  'unacceptable',
  'frustrated',
  'frustrating',
  'disappointed',
  'disappointing',
  'worst',
  'bad',
  'hate',
  'broken',
  'joke',
  'pathetic',
  'waste',
  'furious',
  'scam',
  'sick',
  'tired',
  'nightmare',
  'garbage',
  'rubbish',
  'poor',
  'upset',
  'fed',
  'verargert',
  'enttauscht',
  'schrecklich',
  'unmoglich',
  'frechheit',
  'katastrophe',
  'nutzlos',
  'argerlich',
  'furieux',
  'decu',
  'decue',
  'inacceptable',
  'nul',
  'lamentable',
  'honteux',
  'agace',
  'enojado',
  'enfadado',
  'decepcionado',
  'inaceptable',
  'terrible',
  'horrible',
  'harto',
  'pesimo',
  'irritado',
  'decepcionado',
  'inaceitavel',
  'pessimo',
  'absurdo',
  'cansado',
  'arrabbiato',
  'deluso',
  'inaccettabile',
  'pessimo',
  'vergogna',
  'stufo',
  'boos',
  'teleurgesteld',
  'onacceptabel',
  'belachelijk',
  'waardeloos',
  'slecht',
]);

const POSITIVE_WORDS = new Set([
  'thanks',
  'thank',
  'great',
  'love',
  'awesome',
  'excellent',
  'appreciate',
  'helpful',
  'perfect',
  'amazing',
  'happy',
  'good',
  'nice',
  'wonderful',
  'danke',
  'super',
  'toll',
  'merci',
  'genial',
  'excelente',
  'gracias',
  'obrigado',
  'obrigada',
  'otimo',
  'grazie',
  'ottimo',
  'bedankt',
  'geweldig',
  'fijn',
  'bravo',
]);

/** Phrases that say "this keeps happening" or "I have had enough". */
const FRUSTRATION_PHRASES = [
  /\b(third|fourth|fifth|3rd|4th|5th|again and again|once again|multiple times|several times|many times|so many times)\b/,
  /\b(still (not|isn'?t|hasn'?t|doesn'?t|no)|not fixed yet|still broken|still waiting|no one (has )?(answered|replied|responded)|nobody (answered|replied|responds))\b/,
  /\b(already (asked|reported|told|contacted|wrote|written)|i asked (you )?before|as i said|for the last time|every single time)\b/,
  /\b(cancel(ling)? my subscription if|going to (leave|switch)|switch to (a )?competitor)\b/,
  /\b(schon wieder|immer noch|zum (dritten|x-ten) mal|bereits gemeldet)\b/,
  /\b(encore une fois|toujours pas|pour la troisieme fois|deja signale)\b/,
  /\b(otra vez|todavia no|sigue sin|por tercera vez|ya lo reporte)\b/,
  /\b(de novo|ainda nao|pela terceira vez|ja reportei)\b/,
  /\b(di nuovo|ancora non|per la terza volta|gia segnalato)\b/,
  /\b(alweer|nog steeds|voor de derde keer|al gemeld)\b/,
];

/**
 * A score in [-1, 1] from word lists and typography (shouting, !!!, ???), and a frustration flag for
 * repeat contacts or "still not fixed" language. More than one prior ticket on the same issue is
 * frustration by definition (the product rule).
 */
export function detectSentiment(text: string, priorTicketsSameIssue = 0): Sentiment {
  const normalized = normalizeText(text);
  const tokens = tokenize(normalized);
  let negative = 0;
  let positive = 0;
  for (const token of tokens) {
    if (NEGATIVE_WORDS.has(token)) negative++;
    if (POSITIVE_WORDS.has(token)) positive++;
  }
  const phraseHits = FRUSTRATION_PHRASES.filter((pattern) => pattern.test(normalized)).length;
  const shouting = shoutingShare(text) >= 0.5 ? 1 : 0;
  const repeatedPunctuation = /[!?]{2,}/.test(text) ? 1 : 0;
  const raw = positive - negative - 0.75 * phraseHits - 0.5 * shouting - 0.5 * repeatedPunctuation;
  // Squash into (-1, 1): a couple of strong cues already give a clear sign.
  const score = Math.max(-1, Math.min(1, Math.tanh(raw / 2)));
  const frustrated =
    priorTicketsSameIssue > 1 ||
    phraseHits > 0 ||
    (negative >= 1 && (shouting > 0 || repeatedPunctuation > 0)) ||
    negative >= 2;
  return { score: Math.round(score * 1000) / 1000, frustrated };
}

/** Share of letters in words of 3+ letters that are upper case (ignores acronyms in otherwise normal text). */
function shoutingShare(text: string): number {
  const words = text.match(/\p{L}{3,}/gu) ?? [];
  if (words.length < 2) return 0;
  const shouted = words.filter((word) => word === word.toUpperCase() && word !== word.toLowerCase()).length;
  return shouted / words.length;
}
