/**
 * The tier policy: a pure function from what triage knows to the resolution tier. Two steps:
 * `decideTier` before generation (may a draft be written at all, and may it go out unreviewed?),
 * `finalizeTier` after it (retrieval, the model's own escalate flag and the grounding guard can
 * only lower automation, never raise it).
 */
import type { TenantSettings } from '../../tenants/settings.ts';
import type { Urgency } from '../types.ts';

export type Tier = 0 | 1 | 2 | 3;
export type Priority = 'urgent' | 'high' | 'normal' | 'low';

/** The product floor: below this confidence nothing is fully automated, whatever a tenant sets. */
export const TIER0_CONFIDENCE_FLOOR = 0.75;

export interface IntentAccuracy {
  /** Share of reviewed drafts of this intent that reviewers marked accurate. */
  accuracy: number;
  reviews: number;
}

export interface TierInput {
  intent: string;
  confidence: number;
  outOfScope: boolean;
  urgency: Urgency;
  /** Negative sentiment, or more than one prior ticket on the same issue. */
  frustrated: boolean;
  /** The ticket text tries to instruct the agent ("ignore your rules", "mark this refunded"). */
  injectionSuspected: boolean;
  /** Measured from reviewer feedback; absent until reviews exist. */
  intentAccuracy?: IntentAccuracy | undefined;
}

export type TierPolicy = Pick<
  TenantSettings,
  'tier0Intents' | 'immediateEscalationIntents' | 'tier0MinConfidence' | 'tier0TargetAccuracy' | 'tier0MinReviews'
>;

export interface TierDecision {
  tier: Tier;
  /** False for Tier 3 and for out-of-scope tickets: no draft is written. */
  generate: boolean;
  priority: Priority;
  /** Why the tier is what it is, in words a reviewer understands. */
  reasons: string[];
}

export function priorityFor(urgency: Urgency, frustrated: boolean, intent: string): Priority {
  if (urgency === 'high') return frustrated ? 'urgent' : 'high';
  if (intent === 'abuse_report') return 'high';
  if (urgency === 'medium' || frustrated) return 'normal';
  return 'low';
}

export function decideTier(input: TierInput, policy: TierPolicy): TierDecision {
  const priority = priorityFor(input.urgency, input.frustrated, input.intent);
  if (policy.immediateEscalationIntents.includes(input.intent)) {
    return {
      tier: 3,
      generate: false,
      priority: priority === 'low' ? 'normal' : priority,
      reasons: [`"${input.intent}" always goes straight to a human`],
    };
  }
  if (input.outOfScope) {
    return {
      tier: 2,
      generate: false,
      priority,
      reasons: ['none of the known intents fits this ticket (out of scope)'],
    };
  }
  const blockers: string[] = [];
  const floor = Math.max(TIER0_CONFIDENCE_FLOOR, policy.tier0MinConfidence);
  if (!policy.tier0Intents.includes(input.intent)) blockers.push(`Tier 0 is not enabled for "${input.intent}"`);
  if (input.confidence < floor) {
    blockers.push(`confidence ${input.confidence.toFixed(2)} is below the Tier 0 minimum ${floor.toFixed(2)}`);
  }
  const accuracy = input.intentAccuracy;
  if (accuracy === undefined || accuracy.reviews < policy.tier0MinReviews) {
    blockers.push(
      `"${input.intent}" has ${accuracy?.reviews ?? 0} reviewed drafts; Tier 0 needs ${policy.tier0MinReviews}`,
    );
  } else if (accuracy.accuracy < policy.tier0TargetAccuracy) {
    blockers.push(
      `measured accuracy of "${input.intent}" is ${accuracy.accuracy.toFixed(2)}, below the target ${policy.tier0TargetAccuracy.toFixed(2)}`,
    );
  }
  if (input.frustrated) blockers.push('the customer is frustrated: a human reviews the reply');
  if (input.urgency === 'high') blockers.push('high urgency: a human reviews the reply');
  if (input.injectionSuspected) blockers.push('the ticket contains instructions aimed at the agent');
  if (blockers.length === 0) {
    return { tier: 0, generate: true, priority, reasons: ['all Tier 0 conditions met'] };
  }
  return { tier: 1, generate: true, priority, reasons: blockers };
}

export interface GenerationOutcome {
  /** The answerability gate's verdict on the retrieved passages. */
  answerable: boolean;
  /** The model asked to escalate (a field of its structured output). */
  escalateRequested: boolean;
  escalateReason?: string;
  groundingPassed: boolean;
  groundingFailures: string[];
  /** The draft came from a fallback after the primary provider failed. */
  fallback: boolean;
  /** The offline provider wrote the draft (extractive): always reviewed. */
  offline: boolean;
}

export function finalizeTier(decision: TierDecision, outcome: GenerationOutcome): TierDecision {
  if (!decision.generate) return decision;
  if (!outcome.answerable) {
    return {
      ...decision,
      tier: 2,
      reasons: [...decision.reasons, 'no knowledge-base article supports an answer: escalated instead of guessing'],
    };
  }
  if (outcome.escalateRequested) {
    return {
      ...decision,
      tier: 2,
      reasons: [...decision.reasons, `the model asked to escalate: ${outcome.escalateReason || 'no reason given'}`],
    };
  }
  const demotions: string[] = [];
  if (!outcome.groundingPassed) demotions.push(...outcome.groundingFailures.map((failure) => `grounding: ${failure}`));
  if (outcome.fallback) demotions.push('the language model was unavailable: offline draft, never auto-sent');
  else if (outcome.offline) demotions.push('offline extractive draft: reviewed before sending');
  if (decision.tier === 0 && demotions.length > 0) return { ...decision, tier: 1, reasons: demotions };
  return { ...decision, reasons: [...decision.reasons, ...demotions] };
}
