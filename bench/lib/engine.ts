/** The triage engine as the service builds it, with the benchmark's knowledge index and LLM port. */
import { defaultSettings } from '../../server/tenants/settings.ts';
import type { IntentModel } from '../../server/triage/classifier/index.ts';
import { createTriageEngine, type LocalClassifier } from '../../server/triage/engine.ts';
import type { KnowledgeIndex } from '../../server/triage/knowledge/index.ts';
import type { LlmPort } from '../../server/triage/llm/port.ts';
import { adaptClassifier } from '../../server/triage/models.ts';
import type { TriageEngine, TriageInput } from '../../server/triage/record.ts';
import type { BenchTicket } from '../data/tickets.ts';
import { LARGE_MODEL, SMALL_MODEL } from './llm-fakes.ts';

export function benchClassifier(model: IntentModel): LocalClassifier {
  return adaptClassifier(model);
}

export function benchEngine(args: { classifier: LocalClassifier; index: KnowledgeIndex; llm: LlmPort }): TriageEngine {
  return createTriageEngine({
    classifier: args.classifier,
    knowledge: () => args.index,
    llm: args.llm,
    knownNames: ['Tandem'],
    smallModel: SMALL_MODEL,
    largeModel: LARGE_MODEL,
  });
}

const settings = defaultSettings();

export function triageInput(ticket: BenchTicket, round = 0): TriageInput {
  return {
    tenantId: 'bench',
    ticketId: ticket.id,
    eventId: `${ticket.id}:${round}`,
    ...(ticket.subject ? { subject: ticket.subject } : {}),
    body: ticket.body,
    customer: ticket.customer,
    settings,
  };
}

/** The text the engine classifies and retrieves with (subject and body). */
export function ticketText(ticket: BenchTicket): string {
  return [ticket.subject, ticket.body].filter((part) => part && part.trim() !== '').join('\n');
}

/** The turns the engine retrieves with: the last three customer messages, then this one. */
export function retrievalTurns(ticket: BenchTicket): string[] {
  const earlier = (ticket.customer.interactions ?? [])
    .filter((item) => item.author === 'customer')
    .map((item) => item.text)
    .slice(-3);
  return [...earlier, ticketText(ticket)];
}
