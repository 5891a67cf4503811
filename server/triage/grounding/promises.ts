/**
 * Detects promises of future actions ("I will refund you") and claims of completed actions
 * ("your refund has been issued") in a draft. Only a tool can make such a sentence true, so the
 * guard rejects them unless a tool confirmation names the same action.
 */

export interface ActionClaim {
  kind: 'promise' | 'completed';
  /** Action category, e.g. 'refund', 'cancel', 'delete', 'reset', or the verb itself. */
  action: string;
  /** The matched words, for the check's detail. */
  phrase: string;
}

/** Verb stems (several languages) to the action category a tool confirmation must name. */
const ACTION_CATEGORIES: ReadonlyArray<readonly [RegExp, string]> = [
  [
    /^(refund|reimburs|credit|erstatt|zurückerstatt|gutgeschrieb|gutschreib|rembours|reembols|rimbors|terugbeta|terugstort|teruggestort)/i,
    'refund',
  ],
  [/^(cancel|storn|kündig|gekündig|annul|opzeg|opgezeg|geannul)/i, 'cancel'],
  [/^(delet|remov|eras|lösch|gelösch|supprim|elimin|borr|exclu|apag|verwijder)/i, 'delete'],
  [/^(reset|réinitialis|reinitialis|restablec|redefin|reimpost|zurückgesetz|zurücksetz|gereset)/i, 'reset'],
  [/^(upgrad|downgrad|chang|updat|switch|mov|transfer|änder|geänder|modifi|cambi|alter|wijzig)/i, 'change'],
  [/^(unlock|unblock|restor|reactivat|activat|deactivat|enabl|disabl|suspend|ban)/i, 'account'],
  [/^(process|bearbeit|trait|tramit|process|verwerk)/i, 'process'],
  [/^(issu|appl|waiv|extend|grant|approv|add)/i, 'billing'],
  [/^(send|sent|resend|resent|email|mail|forward)/i, 'send'],
  [
    /^(escalat|look|check|investigat|follow|get back|contact|call|fix|resolv|handl|arrang|mark|clos|reopen)/i,
    'follow_up',
  ],
];

export function actionCategory(verb: string): string {
  const lower = verb.toLowerCase().trim();
  for (const [pattern, category] of ACTION_CATEGORIES) if (pattern.test(lower)) return category;
  return lower;
}

const EN_FUTURE_VERBS =
  'refund|reimburse|credit|cancel|delete|remove|erase|reset|change|update|upgrade|downgrade|switch|move|transfer|process|issue|send|resend|email|apply|waive|extend|unlock|unblock|restore|reactivate|activate|deactivate|enable|disable|suspend|ban|fix|resolve|escalate|forward|mark|close|reopen|grant|give|approve|add|investigate|look into|check|contact|call|get back|follow up|make sure|ensure|arrange|handle|take care';
const EN_PARTICIPLES =
  'refunded|reimbursed|credited|cancell?ed|deleted|removed|erased|reset|changed|updated|upgraded|downgraded|switched|moved|transferred|processed|issued|sent|resent|emailed|applied|waived|extended|unlocked|unblocked|restored|reactivated|activated|deactivated|enabled|disabled|suspended|banned|fixed|resolved|escalated|forwarded|marked|closed|reopened|granted|approved|added|initiated|submitted|arranged|handled';
const EN_PROGRESSIVE =
  'refunding|reimbursing|crediting|cancell?ing|deleting|removing|resetting|changing|updating|upgrading|downgrading|processing|issuing|sending|applying|waiving|extending|unlocking|restoring|reactivating|escalating|forwarding|marking|closing|fixing|investigating|looking into';
const EN_OBJECTS =
  'refund|account|password|subscription|plan|invoice|payment|charge|data|card|workspace|seat|license|licence|request|ticket|order|credit|money|membership|deletion|cancellation|2fa|two-factor';

interface ClaimPattern {
  kind: ActionClaim['kind'];
  pattern: RegExp;
  /** Index of the capture group holding the verb. */
  verbGroup: number;
  /** Index of the capture group holding the object ("refund", "account"), when the pattern has one. */
  objectGroup?: number;
}

/** JavaScript's \b is ASCII-only even with the u flag ("annulé\b" never matches); this one is not. */
const UNICODE_BOUNDARY = '(?:(?<![\\p{L}\\p{N}])(?=[\\p{L}\\p{N}])|(?<=[\\p{L}\\p{N}])(?![\\p{L}\\p{N}]))';

function unicodePattern(source: string): RegExp {
  return new RegExp(source.replaceAll('\\b', UNICODE_BOUNDARY), 'iu');
}

const FILLER = "(?:[\\p{L}'’-]+\\s+){0,3}?";
const FILLER_LONG = "(?:[\\p{L}'’-]+\\s+){0,6}?";

const CLAIM_PATTERNS: ClaimPattern[] = [
  // English: first-person future ("I will refund", "we'll process", "I'm going to cancel", "let me reset").
  {
    kind: 'promise',
    pattern: unicodePattern(
      `\\b(?:i|we)(?:\\s+will|\\s+shall|['’]ll|\\s+am going to|\\s+are going to|['’]m going to|['’]re going to|\\s+can|\\s+would be happy to|['’]d be happy to)\\s+(?:now\\s+|also\\s+|immediately\\s+|personally\\s+|gladly\\s+)?(${EN_FUTURE_VERBS})\\b`,
    ),
    verbGroup: 1,
  },
  { kind: 'promise', pattern: unicodePattern(`\\blet me\\s+(?!know\\b)(${EN_FUTURE_VERBS})\\b`), verbGroup: 1 },
  {
    kind: 'promise',
    pattern: unicodePattern(`\\b(?:i am|i['’]m|we are|we['’]re)\\s+(?:now\\s+|currently\\s+)?(${EN_PROGRESSIVE})\\b`),
    verbGroup: 1,
  },
  {
    kind: 'promise',
    pattern: unicodePattern(
      `\\byou(?:['’]ll|\\s+will)\\s+${FILLER}(?:receive|get)\\s+${FILLER}(refund|credit|money back|reimbursement)\\b`,
    ),
    verbGroup: 1,
  },
  // English: completed actions ("I have cancelled", "we've issued", "your refund has been processed").
  {
    kind: 'completed',
    pattern: unicodePattern(
      `\\b(?:i|we)(?:\\s+have|['’]ve|\\s+just|\\s+already)\\s+(?:just\\s+|already\\s+|now\\s+|successfully\\s+)?(${EN_PARTICIPLES})\\b`,
    ),
    verbGroup: 1,
  },
  {
    kind: 'completed',
    pattern: unicodePattern(
      `\\b(?:your|the)\\s+${FILLER}(${EN_OBJECTS})s?\\s+(?:has been|have been|was|were|is now|are now|has now been|has already been|has successfully been)\\s+(?:successfully\\s+|fully\\s+)?(${EN_PARTICIPLES})\\b`,
    ),
    verbGroup: 2,
    objectGroup: 1,
  },
  {
    kind: 'completed',
    pattern: unicodePattern(
      `\\b(refund|credit|cancellation|deletion|reset)\\b[^.!?]{0,40}?\\b(?:has been|have been|was|is now)\\s+(${EN_PARTICIPLES})\\b`,
    ),
    verbGroup: 2,
    objectGroup: 1,
  },
  // German.
  {
    kind: 'promise',
    pattern: unicodePattern(
      `\\b(?:ich|wir)\\s+werden?\\s+${FILLER_LONG}(erstatten|zurückerstatten|stornieren|kündigen|löschen|zurücksetzen|gutschreiben|bearbeiten|ändern)\\b`,
    ),
    verbGroup: 1,
  },
  {
    kind: 'completed',
    pattern: unicodePattern(
      `\\b(?:habe|haben|wurde|wurden|ist|sind)\\s+${FILLER_LONG}(erstattet|zurückerstattet|storniert|gekündigt|gelöscht|zurückgesetzt|gutgeschrieben|bearbeitet|geändert)\\b`,
    ),
    verbGroup: 1,
  },
  // French.
  {
    kind: 'promise',
    pattern: unicodePattern(
      `\\b(?:je vais|nous allons|on va)\\s+${FILLER}(rembourser|annuler|supprimer|réinitialiser|traiter|modifier)\\b|\\b(rembourserai|rembourserons|annulerai|annulerons|supprimerai|supprimerons|réinitialiserai|réinitialiserons)\\b`,
    ),
    verbGroup: 1,
  },
  {
    kind: 'completed',
    pattern: unicodePattern(
      `\\b(?:j['’]ai|nous avons|a été|ont été|est)\\s+${FILLER}(remboursée?s?|annulée?s?|supprimée?s?|réinitialisée?s?|traitée?s?)\\b`,
    ),
    verbGroup: 1,
  },
  // Spanish and Portuguese.
  {
    kind: 'promise',
    pattern: unicodePattern(
      `\\b(?:voy a|vamos a|vou|vamos)\\s+${FILLER}(reembolsar|cancelar|eliminar|borrar|restablecer|excluir|apagar|redefinir|procesar|processar)\\b|\\b(reembolsaré|reembolsaremos|cancelaré|cancelaremos|eliminaré|eliminaremos|reembolsarei|cancelarei|excluirei)\\b`,
    ),
    verbGroup: 1,
  },
  {
    kind: 'completed',
    pattern: unicodePattern(
      `\\b(?:he|hemos|ha sido|han sido|fue|foi|foram|já)\\s+${FILLER}(reembolsad[oa]s?|cancelad[oa]s?|eliminad[oa]s?|borrad[oa]s?|restablecid[oa]s?|excluíd[oa]s?|apagad[oa]s?|redefinid[oa]s?|procesad[oa]s?|processad[oa]s?)\\b|\\b(reembolsei|cancelei|excluí)\\b`,
    ),
    verbGroup: 1,
  },
  // Italian.
  {
    kind: 'promise',
    pattern: unicodePattern(
      '\\b(rimborserò|rimborseremo|annullerò|annulleremo|cancellerò|cancelleremo|eliminerò|elimineremo|reimposterò|reimposteremo)\\b',
    ),
    verbGroup: 1,
  },
  {
    kind: 'completed',
    pattern: unicodePattern(
      `\\b(?:ho|abbiamo|è stato|è stata|sono stati|sono state)\\s+${FILLER}(rimborsat[oaie]|annullat[oaie]|cancellat[oaie]|eliminat[oaie]|reimpostat[oaie])\\b`,
    ),
    verbGroup: 1,
  },
  // Dutch.
  {
    kind: 'promise',
    pattern: unicodePattern(
      `\\b(?:ik zal|we zullen|wij zullen|ik ga|we gaan)\\s+${FILLER_LONG}(terugbetalen|annuleren|verwijderen|opzeggen|resetten|terugstorten)\\b`,
    ),
    verbGroup: 1,
  },
  {
    kind: 'completed',
    pattern: unicodePattern(
      `\\b(?:heb|hebben|is|zijn|werd)\\s+${FILLER_LONG}(terugbetaald|geannuleerd|verwijderd|opgezegd|gereset|teruggestort)\\b`,
    ),
    verbGroup: 1,
  },
];

const MONEY_OBJECTS = new Set(['refund', 'credit', 'money', 'reimbursement']);

/** Every action claim in one sentence. */
export function findActionClaims(sentence: string): ActionClaim[] {
  const text = sentence.replace(/\s+/g, ' ');
  const claims: ActionClaim[] = [];
  for (const { kind, pattern, verbGroup, objectGroup } of CLAIM_PATTERNS) {
    const match = pattern.exec(text);
    if (!match) continue;
    // Alternations put the verb in the first group that matched.
    const verb = match[verbGroup] ?? match.slice(1).find((group) => group !== undefined) ?? match[0];
    const object = objectGroup === undefined ? undefined : match[objectGroup]?.toLowerCase();
    // "Your refund has been issued" is a refund, whatever the verb.
    const action = object !== undefined && MONEY_OBJECTS.has(object) ? 'refund' : actionCategory(verb);
    claims.push({ kind, action, phrase: match[0] });
  }
  return claims;
}

/**
 * A claim is confirmed when a tool confirmation names the same action: any word of the
 * confirmation maps to the claim's category (e.g. "password_reset_link_sent" confirms
 * "I've sent you a reset link" and "refund_issued" confirms "your refund has been issued").
 */
export function isConfirmed(claim: ActionClaim, toolConfirmations: readonly string[]): boolean {
  return toolConfirmations.some((confirmation) => {
    const parts = confirmation
      .toLowerCase()
      .split(/[^\p{L}\p{N}]+/u)
      .filter((part) => part.length > 1);
    return parts.some((part) => part === claim.action || actionCategory(part) === claim.action);
  });
}
