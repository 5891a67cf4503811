/**
 * Courtesy phrases: greetings, thanks, apologies, lead-ins and closings. The offline provider
 * writes its drafts with these templates, and the grounding guard skips sentences that are only
 * courtesy (they carry no facts). Keeping both in one table means every template the offline
 * provider writes is one the guard recognises.
 */
import type { Tone } from '../llm/port.ts';

export interface CourtesyTemplates {
  greetingWithName: string;
  greetingWithoutName: string;
  thanks: string;
  frustration: string;
  leadIn: string;
  closing: string;
}

type Language = 'en' | 'de' | 'fr' | 'es' | 'pt' | 'it' | 'nl';

/** `{name}` is replaced by the customer's first name. */
export const COURTESY: Readonly<Record<Language, Readonly<Record<Tone, CourtesyTemplates>>>> = {
  en: {
    formal: {
      greetingWithName: 'Dear {name},',
      greetingWithoutName: 'Hello,',
      thanks: 'Thank you for contacting us.',
      frustration: 'I apologise that you have had to contact us about this more than once.',
      leadIn: 'Here is what our help center says:',
      closing: 'Kind regards,',
    },
    casual: {
      greetingWithName: 'Hi {name}!',
      greetingWithoutName: 'Hi there!',
      thanks: 'Thanks for reaching out!',
      frustration: "Sorry you've had to get in touch about this again, I know that's frustrating.",
      leadIn: "Here's what our help center says:",
      closing: 'Cheers,',
    },
  },
  de: {
    formal: {
      greetingWithName: 'Guten Tag {name},',
      greetingWithoutName: 'Guten Tag,',
      thanks: 'Vielen Dank für Ihre Nachricht.',
      frustration: 'Es tut mir leid, dass Sie sich deswegen erneut an uns wenden mussten.',
      leadIn: 'Das steht dazu in unserem Hilfe-Center (auf Englisch):',
      closing: 'Mit freundlichen Grüßen,',
    },
    casual: {
      greetingWithName: 'Hallo {name}!',
      greetingWithoutName: 'Hallo!',
      thanks: 'Danke für deine Nachricht!',
      frustration: 'Tut mir leid, dass du dich deswegen noch einmal melden musstest.',
      leadIn: 'Das steht dazu in unserem Hilfe-Center (auf Englisch):',
      closing: 'Viele Grüße,',
    },
  },
  fr: {
    formal: {
      greetingWithName: 'Bonjour {name},',
      greetingWithoutName: 'Bonjour,',
      thanks: 'Merci de nous avoir contactés.',
      frustration: 'Je suis désolé que vous ayez dû nous recontacter à ce sujet.',
      leadIn: "Voici ce qu'indique notre centre d'aide (en anglais) :",
      closing: 'Cordialement,',
    },
    casual: {
      greetingWithName: 'Salut {name} !',
      greetingWithoutName: 'Salut !',
      thanks: 'Merci pour ton message !',
      frustration: 'Désolé que tu aies dû nous réécrire à ce sujet.',
      leadIn: "Voici ce qu'indique notre centre d'aide (en anglais) :",
      closing: 'À bientôt,',
    },
  },
  es: {
    formal: {
      greetingWithName: 'Estimado/a {name}:',
      greetingWithoutName: 'Buenos días:',
      thanks: 'Gracias por contactarnos.',
      frustration: 'Lamento que haya tenido que escribirnos de nuevo por este tema.',
      leadIn: 'Esto es lo que indica nuestro centro de ayuda (en inglés):',
      closing: 'Atentamente,',
    },
    casual: {
      greetingWithName: '¡Hola, {name}!',
      greetingWithoutName: '¡Hola!',
      thanks: '¡Gracias por escribirnos!',
      frustration: 'Siento que hayas tenido que escribirnos otra vez por esto.',
      leadIn: 'Esto es lo que indica nuestro centro de ayuda (en inglés):',
      closing: 'Un saludo,',
    },
  },
  pt: {
    formal: {
      greetingWithName: 'Prezado(a) {name},',
      greetingWithoutName: 'Olá,',
      thanks: 'Obrigado por entrar em contato.',
      frustration: 'Lamentamos que tenha precisado nos contatar novamente sobre isso.',
      leadIn: 'Veja o que diz a nossa central de ajuda (em inglês):',
      closing: 'Atenciosamente,',
    },
    casual: {
      greetingWithName: 'Oi, {name}!',
      greetingWithoutName: 'Oi!',
      thanks: 'Valeu por escrever!',
      frustration: 'Desculpe por você ter precisado escrever de novo sobre isso.',
      leadIn: 'Veja o que diz a nossa central de ajuda (em inglês):',
      closing: 'Abraços,',
    },
  },
  it: {
    formal: {
      greetingWithName: 'Gentile {name},',
      greetingWithoutName: 'Buongiorno,',
      thanks: 'Grazie per averci contattato.',
      frustration: 'Mi dispiace che abbia dovuto contattarci di nuovo per questo.',
      leadIn: 'Ecco cosa dice il nostro centro assistenza (in inglese):',
      closing: 'Cordiali saluti,',
    },
    casual: {
      greetingWithName: 'Ciao {name}!',
      greetingWithoutName: 'Ciao!',
      thanks: 'Grazie per il messaggio!',
      frustration: 'Mi dispiace che tu abbia dovuto riscriverci per questo.',
      leadIn: 'Ecco cosa dice il nostro centro assistenza (in inglese):',
      closing: 'A presto,',
    },
  },
  nl: {
    formal: {
      greetingWithName: 'Beste {name},',
      greetingWithoutName: 'Goedendag,',
      thanks: 'Bedankt voor uw bericht.',
      frustration: 'Het spijt me dat u hierover opnieuw contact met ons moest opnemen.',
      leadIn: 'Dit staat hierover in ons helpcentrum (in het Engels):',
      closing: 'Met vriendelijke groet,',
    },
    casual: {
      greetingWithName: 'Hoi {name}!',
      greetingWithoutName: 'Hoi!',
      thanks: 'Bedankt voor je bericht!',
      frustration: 'Sorry dat je hierover nog een keer moest mailen.',
      leadIn: 'Dit staat hierover in ons helpcentrum (in het Engels):',
      closing: 'Groetjes,',
    },
  },
};

export function courtesyFor(language: string, tone: Tone): CourtesyTemplates {
  const table = COURTESY[language as Language] ?? COURTESY.en;
  return table[tone];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function templatePattern(template: string): RegExp {
  // A name is at most a few words without sentence punctuation.
  const body = escapeRegExp(template).replace('\\{name\\}', "[\\p{L}' .-]{1,40}?");
  return new RegExp(`^${body}$`, 'iu');
}

const TEMPLATE_PATTERNS: RegExp[] = Object.values(COURTESY).flatMap((byTone) =>
  Object.values(byTone).flatMap((templates) => Object.values(templates).map(templatePattern)),
);

/**
 * Generic courtesy shapes, mostly for model-written replies. `allowNames` is false for shapes whose
 * tail is free text: there a capitalised word (a product or feature name) disqualifies the sentence,
 * so "Sorry, Gantt charts are on the way." is checked like any other sentence.
 */
const GENERIC_PATTERNS: Array<{ pattern: RegExp; allowNames: boolean }> = [
  {
    pattern:
      /^(dear|hi|hello|hey|good (morning|afternoon|evening)|hallo|guten tag|bonjour|salut|hola|olá|oi|ciao|buongiorno|beste|hoi)\b[\p{L}' .-]{0,40}[,!:.]?$/iu,
    allowNames: true,
  },
  {
    pattern:
      /^(kind regards|best regards|warm regards|regards|best wishes|best|cheers|sincerely|all the best|take care|thanks again|many thanks|thank you|thanks)[,!.]?$/i,
    allowNames: true,
  },
  { pattern: /^(the |your )?[\p{L} ]{0,30}\b(support )?team\.?$/iu, allowNames: true },
  {
    pattern:
      /^(thank you|thanks|many thanks)( so much| very much)? for (reaching out|contacting us|getting in touch|your (message|email|patience|question|note|ticket))[.!]?$/i,
    allowNames: false,
  },
  {
    pattern:
      /^((i'm|i am|we're|we are) )?(so |very |really |truly )?(sorry|apologi[sz]e)( for| that| about| to hear| you| if| again)[^.!?\d]{0,70}[.!]$/i,
    allowNames: false,
  },
  {
    pattern: /^(i|we) (completely |fully |totally )?understand( how| that| why)[^.!?\d]{0,70}[.!]$/i,
    allowNames: false,
  },
  {
    pattern:
      /^(here is|here's|this is) what (our|the) (help center|help centre|help article|documentation|docs)( article)? says:?$/i,
    allowNames: false,
  },
  { pattern: /^(i hope|hope) (this|that) helps[.!]?$/i, allowNames: false },
  {
    pattern: /^(please )?(let us know|let me know|feel free to reply|just reply)( if| when)?[^.!?\d]{0,60}[.!]$/i,
    allowNames: false,
  },
];

/** Capitalised words after the first one, ignoring "I" and its contractions. */
function hasInnerCapitalisedWord(sentence: string): boolean {
  const tokens = sentence.match(/[\p{L}][\p{L}'-]*/gu) ?? [];
  return tokens.slice(1).some((token) => /^\p{Lu}/u.test(token) && !/^I('m|'ve|'ll|'d)?$/.test(token));
}

/**
 * True when the sentence is only courtesy (no facts to ground). Sentences with digits never count
 * as courtesy, so numbers cannot hide in a greeting. The guard still runs its promise check on
 * courtesy sentences.
 */
export function isCourtesySentence(sentence: string): boolean {
  const trimmed = sentence.trim().replace(/[’]/g, "'");
  if (trimmed === '') return true;
  if (/\d/.test(trimmed)) return false;
  if (TEMPLATE_PATTERNS.some((pattern) => pattern.test(trimmed))) return true;
  return GENERIC_PATTERNS.some(
    ({ pattern, allowNames }) => pattern.test(trimmed) && (allowNames || !hasInnerCapitalisedWord(trimmed)),
  );
}
