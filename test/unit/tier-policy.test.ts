import { describe, expect, it } from 'vitest';
import { defaultSettings } from '../../server/tenants/settings.ts';
import { decideTier, finalizeTier, type GenerationOutcome, type TierInput } from '../../server/triage/policy/tier.ts';

const policy = { ...defaultSettings(), tier0Intents: ['password_reset', 'feature_question'] };
const proven = { accuracy: 0.98, reviews: 50 };
const base: TierInput = {
  intent: 'password_reset',
  confidence: 0.93,
  outOfScope: false,
  urgency: 'low',
  frustrated: false,
  injectionSuspected: false,
  intentAccuracy: proven,
};
const clean: GenerationOutcome = {
  answerable: true,
  escalateRequested: false,
  groundingPassed: true,
  groundingFailures: [],
  fallback: false,
  offline: false,
};

describe('decideTier', () => {
  it.each<[string, Partial<TierInput>, number, boolean]>([
    ['all conditions met', {}, 0, true],
    ['account deletion is immediate escalation', { intent: 'account_deletion', confidence: 0.99 }, 3, false],
    ['abuse report is immediate escalation', { intent: 'abuse_report' }, 3, false],
    ['refund request is immediate escalation even when Tier 0 enabled', { intent: 'refund_request' }, 3, false],
    ['out of scope goes to a human without a draft', { outOfScope: true }, 2, false],
    ['confidence just below 0.75 is never Tier 0', { confidence: 0.7499 }, 1, true],
    ['confidence exactly 0.75 may be Tier 0', { confidence: 0.75 }, 0, true],
    ['intent not enabled by the tenant', { intent: 'billing_query' }, 1, true],
    ['no reviews yet', { intentAccuracy: undefined }, 1, true],
    ['too few reviews', { intentAccuracy: { accuracy: 1, reviews: 3 } }, 1, true],
    ['measured accuracy below target', { intentAccuracy: { accuracy: 0.9, reviews: 80 } }, 1, true],
    ['frustrated customer is reviewed', { frustrated: true }, 1, true],
    ['high urgency is reviewed', { urgency: 'high' }, 1, true],
    ['prompt injection is never Tier 0', { injectionSuspected: true }, 1, true],
  ])('%s', (_name, change, tier, generate) => {
    const decision = decideTier({ ...base, ...change }, policy);
    expect(decision.tier).toBe(tier);
    expect(decision.generate).toBe(generate);
    expect(decision.reasons.length).toBeGreaterThan(0);
  });

  it('a tenant can raise but not lower the 0.75 floor', () => {
    expect(decideTier({ ...base, confidence: 0.8 }, { ...policy, tier0MinConfidence: 0.9 }).tier).toBe(1);
    expect(decideTier({ ...base, confidence: 0.74 }, { ...policy, tier0MinConfidence: 0.5 }).tier).toBe(1);
  });

  it('honours a tenant’s own immediate-escalation list', () => {
    const custom = { ...policy, immediateEscalationIntents: ['bug_report'] };
    expect(decideTier({ ...base, intent: 'bug_report' }, custom).tier).toBe(3);
    expect(decideTier({ ...base, intent: 'refund_request' }, custom).tier).toBe(1);
  });

  it.each<[Partial<TierInput>, string]>([
    [{ urgency: 'high' }, 'high'],
    [{ urgency: 'high', frustrated: true }, 'urgent'],
    [{ urgency: 'medium' }, 'normal'],
    [{ urgency: 'low' }, 'low'],
    [{ urgency: 'low', frustrated: true }, 'normal'],
    [{ intent: 'abuse_report', urgency: 'low' }, 'high'],
  ])('priority for %o is %s', (change, priority) => {
    expect(decideTier({ ...base, ...change }, policy).priority).toBe(priority);
  });
});

describe('finalizeTier', () => {
  const tier0 = decideTier(base, policy);
  it.each<[string, Partial<GenerationOutcome>, number]>([
    ['clean grounded draft stays Tier 0', {}, 0],
    ['unanswerable escalates', { answerable: false }, 2],
    ['model escalation flag escalates', { escalateRequested: true, escalateReason: 'needs account access' }, 2],
    ['grounding failure demotes to Tier 1', { groundingPassed: false, groundingFailures: ['uncited claim'] }, 1],
    ['fallback draft is never auto-sent', { fallback: true }, 1],
    ['offline draft is reviewed', { offline: true }, 1],
  ])('%s', (_name, change, tier) => {
    const final = finalizeTier(tier0, { ...clean, ...change });
    expect(final.tier).toBe(tier);
  });

  it('never raises a tier and leaves non-generating decisions alone', () => {
    const tier1 = decideTier({ ...base, intent: 'billing_query' }, policy);
    expect(finalizeTier(tier1, clean).tier).toBe(1);
    const tier3 = decideTier({ ...base, intent: 'account_deletion' }, policy);
    expect(finalizeTier(tier3, { ...clean, answerable: false })).toEqual(tier3);
  });
});
