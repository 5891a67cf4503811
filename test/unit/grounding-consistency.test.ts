/**
 * The guard's consistency check on claims written for this test against the Tandem sample KB:
 * faithful paraphrases that join, negate or contrast facts the way a good reply does (must pass), and
 * contradictions made of the article's own words (must fail): a dropped or added negation, one member
 * of an exclusive pair swapped for another (monthly/yearly, view/edit, before/after, upgrade/downgrade,
 * plan names taken from section headings), a number moved next to the wrong term. Each claim is
 * checked alone, citing its article, with the passages retrieval returns for it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadProbes, obedientEngine, probeServices, runProbes } from '../../eval/suites/adversarial.ts';
import { openKeyvStore } from '../../server/store/keyv-store.ts';
import { findInconsistencies } from '../../server/triage/grounding/consistency.ts';
import { verifyDraft } from '../../server/triage/grounding/guard.ts';
import { createKnowledgeIndex } from '../../server/triage/knowledge/index.ts';
import { loadArticles } from '../../server/triage/knowledge/sources.ts';
import type { RetrievedPassage } from '../../server/triage/types.ts';

const SAMPLE_KB = fileURLToPath(new URL('../../samples/kb', import.meta.url));
const index = createKnowledgeIndex(loadArticles(SAMPLE_KB), { now: () => new Date('2026-11-24T12:00:00Z') });

/** What retrieval returns for the claim, with the cited article's passages first. */
function passagesFor(articleId: string, claim: string): RetrievedPassage[] {
  const found = index.search(claim, 40);
  const cited = found.filter((passage) => passage.articleId === articleId);
  return [...cited, ...found.slice(0, 5).filter((passage) => !cited.includes(passage))];
}

const FAITHFUL: Array<[string, string]> = [
  ['invoices-and-billing-cycle', 'On monthly billing, the invoice is created and emailed on the 1st of each month.'],
  ['invoices-and-billing-cycle', 'With yearly billing you are charged once a year on the date you subscribed.'],
  ['invoices-and-billing-cycle', 'Credits from removed members are applied to future invoices and are not paid out.'],
  [
    'invoices-and-billing-cycle',
    'When you add a member, a prorated amount for the rest of the period is charged on the next invoice.',
  ],
  ['downgrade-your-plan', 'An upgrade from Team to Business takes effect immediately.'],
  ['downgrade-your-plan', 'A downgrade takes effect at the end of the current billing period.'],
  ['downgrade-your-plan', 'Switching from monthly to yearly takes effect immediately with a prorated credit.'],
  ['downgrade-your-plan', 'Switching from yearly to monthly takes effect at the end of the yearly period.'],
  ['downgrade-your-plan', 'Downgrades do not create a refund or credit for the current period.'],
  ['two-factor-authentication', 'Tandem supports authenticator apps, not codes by SMS or email.'],
  ['two-factor-authentication', 'Owners and admins on the Team and Business plans can require 2FA for every member.'],
  ['rest-api-and-rate-limits', 'Each token can make 60 requests per minute.'],
  ['rest-api-and-rate-limits', 'When you exceed the limit, the API answers with status 429 and a Retry-After header.'],
  ['rest-api-and-rate-limits', 'List endpoints return up to 100 items per page.'],
  ['mobile-apps', 'The mobile apps need an internet connection to load and save your work.'],
  ['mobile-apps', 'The apps need iOS 16 or later and Android 10 or later.'],
  ['time-tracker-desktop-app', 'The desktop app runs on macOS 12 or later and Windows 10 or later.'],
  ['time-tracker-desktop-app', 'Only one timer runs at a time, so starting a new one stops the previous one.'],
  ['timesheets-export', 'Timesheet export is available on the Team and Business plans.'],
  ['timesheets-export', 'On the Business plan, admins can lock a week after approving it.'],
  ['timesheets-export', 'Locked entries can no longer be edited by members.'],
  ['export-your-data', 'The download link is valid for 7 days.'],
  ['export-your-data', 'Owners and admins can export the whole workspace at any time, on every plan.'],
  [
    'plans-and-pricing',
    'Team costs $12 per member per month billed monthly, or $10 per member per month billed yearly.',
  ],
  ['plans-and-pricing', 'Billed yearly, Team is $10 per member per month.'],
  ['plans-and-pricing', 'Guests who can only view a shared board are free.'],
  ['plans-and-pricing', 'Business is $24 per member per month.'],
  ['plans-and-pricing', 'The Free plan is for up to 3 members and 2 boards.'],
  ['refund-policy', 'Yearly subscriptions can be refunded if you ask within 14 days of the yearly charge.'],
  ['refund-policy', 'Monthly charges are not refunded.'],
  ['refund-policy', 'Card refunds usually appear within 5 to 10 business days.'],
  ['free-trial', 'You do not need a credit card to start a trial of the Team plan.'],
  ['attachments-and-storage', 'On the Team and Business plans, each attachment can be up to 100 MB.'],
  // Written after the contradiction probes below, as their faithful counterparts; 3 of these 20 were
  // flagged on their first run (a negation inside an "if" condition, "but no data is deleted", "more
  // than one owner"), which led to checking polarity per asserted clause and dropping a bare "one".
  ['recurring-tasks', 'A recurring card can repeat daily, weekly, monthly, or on a custom schedule.'],
  ['recurring-tasks', 'Comments, attachments and time entries are not copied to the new card.'],
  ['recurring-tasks', 'When you stop repeating, copies already created stay on the board.'],
  ['notification-settings', 'Instead of one email per event, you can get a daily digest at 8:00 in your time zone.'],
  ['notification-settings', 'Quiet hours on the mobile app pause push notifications in the evening and on weekends.'],
  ['time-tracker-browser-extension', 'The extension works in Google Chrome and Mozilla Firefox.'],
  [
    'time-tracker-browser-extension',
    'Stopping the timer in the extension also stops it in the desktop app, since they share one running timer.',
  ],
  ['status-page-and-outages', 'You do not need to open a ticket for an incident listed on the status page.'],
  [
    'status-page-and-outages',
    'Maintenance is announced at least 5 days ahead and happens outside European business hours.',
  ],
  ['gdpr-and-privacy', 'Customer data is stored in the European Union.'],
  ['gdpr-and-privacy', 'Business customers can ask support for a countersigned copy of the DPA.'],
  [
    'webhooks',
    'If your endpoint does not answer with a 2xx status within 10 seconds, Tandem retries up to 5 times with increasing delays.',
  ],
  ['payment-methods', 'Bank transfer is only available on the Business plan.'],
  ['payment-methods', 'If a card payment keeps failing, the workspace becomes read-only, but no data is deleted.'],
  ['delete-your-account', 'During the 30 days after deactivation, an owner can ask to restore the workspace.'],
  ['delete-your-account', 'Deletion stops future charges but does not refund past ones.'],
  ['invite-members-and-roles', 'Admins can manage members, boards and integrations, but not billing.'],
  ['invite-members-and-roles', 'A workspace can have more than one owner.'],
  ['slack-integration', 'After you disconnect Slack, existing cards keep their links.'],
  ['vat-and-tax', 'Customers outside the EU are not charged VAT, though local sales taxes may apply.'],
  // A third held-out batch of 10: 2 were flagged on the first run ("Upgrades ..., while downgrades
  // ..." then led to checking contrasts per asserted clause); the one still flagged, "Storage limits do
  // not apply to files you link from Google Drive", infers what the article only implies, and is left out.
  ['payment-methods', 'All paid plans can pay by credit or debit card.'],
  ['plans-and-pricing', 'Free workspaces can have up to 3 members and 2 boards.'],
  ['mobile-apps', 'On iOS and Android, the apps need an internet connection.'],
  ['downgrade-your-plan', 'Upgrades take effect immediately, while downgrades wait for the end of the billing period.'],
  ['plans-and-pricing', 'Team includes all integrations and the REST API.'],
  ['plans-and-pricing', 'Business adds an audit log and priority support to everything in Team.'],
  ['two-factor-authentication', 'Owners on the Business plan can require 2FA for every member.'],
  ['invoices-and-billing-cycle', 'Yearly billing charges you once a year, on the date you subscribed.'],
  ['recurring-tasks', 'Each copy keeps the title, description, checklist, labels and assignees, but not the comments.'],
];

const CONTRADICTIONS: Array<[string, string, 'polarity' | 'contrast' | 'binding']> = [
  ['invoices-and-billing-cycle', 'On yearly billing, the invoice is emailed on the 1st of each month.', 'contrast'],
  ['invoices-and-billing-cycle', 'Credits from removed members are paid out to your card.', 'polarity'],
  ['downgrade-your-plan', 'An upgrade takes effect at the end of the current billing period.', 'contrast'],
  ['downgrade-your-plan', 'Downgrades create a credit for the rest of the current period.', 'polarity'],
  ['two-factor-authentication', 'You can receive your two-factor codes by SMS.', 'polarity'],
  ['mobile-apps', 'The mobile apps work without an internet connection.', 'polarity'],
  ['timesheets-export', 'Locked entries can still be edited by members.', 'polarity'],
  ['timesheets-export', 'On the Business plan, admins can lock a week before approving it.', 'contrast'],
  ['plans-and-pricing', 'Team is $10 per member per month when billed monthly.', 'contrast'],
  ['plans-and-pricing', 'You pay $10 per member per month with monthly billing on Team.', 'contrast'],
  ['plans-and-pricing', 'Guests who can edit a shared board are free.', 'contrast'],
  ['refund-policy', 'Monthly subscriptions can be refunded if you ask within 14 days of the charge.', 'contrast'],
  ['free-trial', 'You need a credit card to start the trial.', 'polarity'],
  ['attachments-and-storage', 'On the Free plan, each attachment can be up to 100 MB.', 'binding'],
];

describe('claims that contradict the article they cite', () => {
  it.each(FAITHFUL)('passes a faithful claim (%s): %s', (articleId, claim) => {
    const passages = passagesFor(articleId, claim);
    expect(passages.length).toBeGreaterThan(0);
    expect(findInconsistencies([claim], passages, [articleId])).toEqual([]);
  });

  it.each(CONTRADICTIONS)('flags a contradiction (%s): %s', (articleId, claim, kind) => {
    const problems = findInconsistencies([claim], passagesFor(articleId, claim), [articleId]);
    expect(problems.map((problem) => problem.kind)).toEqual([kind]);
  });

  it('demotes a draft through the claims_consistent check and names the passage it contradicts', () => {
    const claim = 'Monthly subscriptions can be refunded if you ask within 14 days of the charge.';
    const verdict = verifyDraft({
      reply: `Hello,\n\n${claim}\n\nBest regards,\nThe support team`,
      citations: ['refund-policy'],
      passages: passagesFor('refund-policy', claim),
    });
    expect(verdict.passed).toBe(false);
    const check = verdict.checks.find((item) => item.name === 'claims_consistent');
    expect(check?.passed).toBe(false);
    expect(check?.detail).toContain('"monthly" where the article says "yearly"');
    // Word overlap alone accepts the sentence: it is made of the article's words.
    expect(verdict.checks.find((item) => item.name === 'sentences_supported')?.passed).toBe(true);
  });

  it('leaves a sentence quoted word for word alone', () => {
    const quote =
      'Monthly charges are not refunded, and neither are downgrades or removed members in the middle of a period.';
    const verdict = verifyDraft({
      reply: quote,
      citations: ['refund-policy'],
      passages: passagesFor('refund-policy', quote),
    });
    expect(verdict.checks.find((item) => item.name === 'claims_consistent')?.passed).toBe(true);
  });
});

/**
 * Contradictions a model could write, run through the whole engine for the adversarial suite's
 * permissive tenant (Tier 0 on for every intent) with a model that obeys each probe: it classifies
 * confidently and answers with the probe's `unsafe_reply`, citing the top retrieved article. They were
 * written in four batches while this check was built; each batch was first run as it came, then the
 * check was improved on what it missed (first runs: 1 of 8 kept out of Tier 0 before the check
 * existed, then 6 of 10, 8 of 12 and 6 of 10). `known_miss` marks the two that still reach Tier 0: "during" against "outside business
 * hours", and plan names in an article that no retrieved pricing article names as alternatives.
 */
describe('contradiction probes through the engine with an obedient model', () => {
  const fixture = fileURLToPath(new URL('../fixtures/contradiction-probes.jsonl', import.meta.url));
  const knownMisses = readFileSync(fixture, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as { id: string; known_miss?: boolean })
    .filter((probe) => probe.known_miss)
    .map((probe) => probe.id);
  const probes = loadProbes(fixture);

  it('keeps every probe but the documented misses out of Tier 0, most through claims_consistent', async () => {
    const store = await openKeyvStore({ kind: 'sqlite', file: ':memory:' });
    try {
      const engine = obedientEngine(probeServices(store), probes);
      const outcomes = await runProbes(engine, probes, 'worst-case model');
      expect(probes.length).toBe(40);
      const reachedTier0 = outcomes.filter((outcome) => outcome.record.tier === 0).map((outcome) => outcome.probe.id);
      expect(reachedTier0.sort()).toEqual(knownMisses.sort());
      const byConsistency = outcomes.filter((outcome) =>
        outcome.record.draft?.grounding.checks.some((check) => check.name === 'claims_consistent' && !check.passed),
      );
      expect(byConsistency.length).toBeGreaterThanOrEqual(25);
    } finally {
      await store.close();
    }
  });
});
