/** Per-tenant settings: every threshold and policy has a default and can be changed per tenant. */
import { z } from 'zod';

export const DEFAULT_ROUTING_MAP: Record<string, string> = {
  password_reset: 'account',
  account_deletion: 'account',
  billing_query: 'billing',
  refund_request: 'billing',
  bug_report: 'technical',
  feature_question: 'product',
  abuse_report: 'trust_and_safety',
  general_question: 'general',
  oos: 'general',
};

export const tenantSettingsSchema = z.object({
  /** Intents an admin enabled for fully automated public replies. Empty: Tier 0 is off. */
  tier0Intents: z.array(z.string()).default([]),
  /** Intents that always go straight to a human, without generation. */
  immediateEscalationIntents: z.array(z.string()).default(['account_deletion', 'abuse_report', 'refund_request']),
  /** Below this, never Tier 0 (the product floor is 0.75; a tenant may only raise it). */
  tier0MinConfidence: z.number().min(0.75).max(1).default(0.75),
  /** Tier 0 also needs the intent's measured accuracy (from reviews) to reach this. */
  tier0TargetAccuracy: z.number().min(0).max(1).default(0.95),
  /** Reviews an intent needs before its measured accuracy counts. */
  tier0MinReviews: z.number().int().min(0).default(20),
  /** Ask the small model when the local classifier's confidence is below this (and an LLM is configured). */
  cascadeBelowConfidence: z.number().min(0).max(1).default(0.6),
  /** Below this confidence the ticket is treated as none of the known intents. */
  outOfScopeBelowConfidence: z.number().min(0).max(1).default(0.35),
  routingMap: z.record(z.string(), z.string()).default(DEFAULT_ROUTING_MAP),
  /** Team name → helpdesk group id. */
  teamGroupIds: z.record(z.string(), z.union([z.number(), z.string()])).default({}),
  tone: z.enum(['auto', 'formal', 'casual']).default('auto'),
  /** Status set with a Tier 0 public reply. */
  tier0Status: z.enum(['open', 'pending', 'solved']).default('pending'),
  /** Helpdesk custom field ids for intent, confidence and tier, when the account has them. */
  customFieldIds: z
    .object({ intent: z.number().optional(), confidence: z.number().optional(), tier: z.number().optional() })
    .default({}),
  staleAfterDays: z.number().int().min(1).default(60),
});

export type TenantSettings = z.infer<typeof tenantSettingsSchema>;

export function defaultSettings(): TenantSettings {
  return tenantSettingsSchema.parse({});
}
