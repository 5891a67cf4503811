/**
 * Prompt-injection markers in ticket text. A ticket is data: the pipeline never lets its text
 * change policy, and a suspicious ticket is never answered without review. The markers are
 * reported so an agent sees why.
 */

export interface InjectionReport {
  suspicious: boolean;
  /** Names of the matched markers, e.g. 'ignore_instructions'. */
  markers: string[];
}

const MARKERS: ReadonlyArray<readonly [string, RegExp]> = [
  [
    'ignore_instructions',
    /\b(ignore|disregard|forget|override|bypass|skip)\b[^.!?\n]{0,40}\b(previous|prior|above|earlier|all|any|your|the|these|those|existing)\b[^.!?\n]{0,30}\b(instructions?|rules?|prompts?|guidelines?|polic(?:y|ies)|directions|guardrails|restrictions)\b/i,
  ],
  [
    'ignore_instructions',
    /\b(ignoriere|ignorieren sie|vergiss)\b[^.!?\n]{0,40}\b(anweisungen|regeln|vorgaben)\b|\bignor(e|ez)\b[^.!?\n]{0,30}\b(instructions|règles|consignes)\b|\b(ignora|olvida)\b[^.!?\n]{0,30}\b(instrucciones|reglas|istruzioni|regole)\b|\b(ignore|esqueça)\b[^.!?\n]{0,30}\b(instruções|regras)\b|\b(negeer|vergeet)\b[^.!?\n]{0,30}\b(instructies|regels)\b/i,
  ],
  [
    'role_override',
    /\b(you are now|you're now|from now on,? you|act as (an?|the|my)|pretend (to be|you are|that you)|roleplay as|developer mode|jailbreak|do anything now|new (system )?instructions?:?)\b/i,
  ],
  [
    'system_prompt',
    /\b(system prompt|system message|hidden instructions|initial instructions|your (instructions|prompt|rules) (say|are))\b|\b(reveal|print|show|repeat|output|leak|dump)\b[^.!?\n]{0,30}\b(prompt|instructions|rules|configuration)\b/i,
  ],
  [
    'fake_role_tag',
    /<\/?\s*(system|assistant|instructions?|admin|developer|customer_message|kb_article|tool_result)\b[^>]*>|\[(system|admin|assistant|developer)\]|^\s*(system|assistant|developer)\s*:/im,
  ],
  [
    'state_change_command',
    /\b(mark|set|flag|tag|change|update|move|classify|label)\b[^.!?\n]{0,40}\b(as|to|into)\b[^.!?\n]{0,20}\b(refunded|resolved|closed|paid|approved|solved|tier ?0|vip|whitelisted|cancell?ed|deleted)\b/i,
  ],
  [
    'authority_claim',
    /\b(as (an?|the) (admin|administrator|developer|engineer|ceo|owner|manager) (of|at) (tandem|this (company|service|app)))\b|\b(i am|i'm) (an? )?(anthropic|openai|tandem|support) (employee|engineer|staff|admin|developer)\b|\b(authori[sz]ed|approved) by (your|the) (manager|ceo|billing team|support lead)\b/i,
  ],
  [
    'output_format_injection',
    /\b(tool_use|tool_choice|function[_ ]call)\b|"(citations|escalate|reply|intent|confidence)"\s*:|\brespond (only )?with (the following|this) (json|text)\b|\b(say|reply|respond|answer|write) (exactly|only|verbatim)\b/i,
  ],
  ['hidden_text', /[\u200B-\u200F\u202A-\u202E\u2066-\u2069]/],
];

export function detectPromptInjection(text: string): InjectionReport {
  const markers = [...new Set(MARKERS.filter(([, pattern]) => pattern.test(text)).map(([name]) => name))];
  return { suspicious: markers.length > 0, markers };
}
