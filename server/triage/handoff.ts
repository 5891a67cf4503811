/** The escalation package: what a human needs to take over without re-reading the whole ticket. */
import type { LlmPort } from './llm/port.ts';
import type { Priority } from './policy/tier.ts';
import type { EscalationPackage } from './record.ts';

const SUGGESTED_ACTIONS: Record<string, string> = {
  account_deletion:
    'Verify the requester owns the account, then process the deletion request per the data-retention policy.',
  refund_request: 'Check the charge against the refund policy and decide on the refund in the billing system.',
  abuse_report: 'Review the reported content or account and act per the acceptable-use policy; reply to the reporter.',
  billing_query: 'Look up the account’s invoices and plan in the billing system and answer the question.',
  bug_report: 'Reproduce the problem, check the status page for incidents, and file or link an engineering ticket.',
  password_reset: 'Confirm the requester’s identity, then help them regain access (reset link, 2FA recovery).',
  feature_question: 'Answer from product knowledge; if the feature does not exist, say so and log the request.',
  general_question: 'Read the request and answer it, or route it to the team that owns the topic.',
  oos: 'Read the request: it matched none of the known intents. Route it or answer it directly.',
};

export interface HandoffInput {
  intent: string;
  team: string;
  priority: Priority;
  text: string;
  whatWasTried: string[];
  whyItFailed: string[];
}

export async function buildHandoff(
  input: HandoffInput,
  llm: LlmPort,
): Promise<{ handoff: EscalationPackage; usage: Awaited<ReturnType<LlmPort['summarize']>>['usage']; model: string }> {
  const summarized = await llm.summarize({ text: input.text, maxSentences: 2 });
  return {
    handoff: {
      team: input.team,
      priority: input.priority,
      summary: summarized.summary,
      whatWasTried: input.whatWasTried,
      whyItFailed: input.whyItFailed,
      suggestedAction: SUGGESTED_ACTIONS[input.intent] ?? SUGGESTED_ACTIONS.general_question!,
    },
    usage: summarized.usage,
    model: summarized.provider === 'offline' ? 'offline-extractive-v1' : 'small-model',
  };
}
