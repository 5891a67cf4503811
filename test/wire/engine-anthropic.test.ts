/**
 * The whole engine with the real @anthropic-ai/sdk against the loopback Messages API fake:
 * the classification cascade (and its cache), grounded generation reaching Tier 0, grounding
 * failures demoting, the model's escalate field, and the offline fallback on an outage.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.ts';
import { openKeyvStore } from '../../server/store/keyv-store.ts';
import type { Store } from '../../server/store/port.ts';
import { defaultSettings, type TenantSettings } from '../../server/tenants/settings.ts';
import { CLASSIFY_TOOL_NAME, DRAFT_TOOL_NAME, SUMMARY_TOOL_NAME } from '../../server/triage/llm/prompts.ts';
import type { TriageInput } from '../../server/triage/record.ts';
import { createTriageServices, type TriageServices } from '../../server/triage/setup.ts';
import { DEFAULT_INTENTS } from '../../server/triage/types.ts';
import { type AnthropicFake, type MessagesRequest, startAnthropicFake } from '../fakes/anthropic-fake.ts';
import { tempDir } from '../helpers/backends.ts';
import { silentLogger } from '../helpers/logger.ts';

/** The KB articles the engine put in the prompt: what a model could quote. */
function kbArticlesIn(request: MessagesRequest): Array<{ id: string; text: string }> {
  const texts: string[] = [];
  const system = (request as { system?: string | Array<{ type: string; text?: string }> }).system;
  if (typeof system === 'string') texts.push(system);
  else for (const block of system ?? []) if (block.text) texts.push(block.text);
  for (const message of request.messages) {
    if (typeof message.content === 'string') texts.push(message.content);
    else for (const block of message.content) if (block.type === 'text') texts.push(block.text);
  }
  const articles: Array<{ id: string; text: string }> = [];
  for (const match of texts.join('\n').matchAll(/<kb_article id="([^"]+)"[^>]*>\n([\s\S]*?)\n<\/kb_article>/g)) {
    articles.push({ id: match[1]!, text: match[2]! });
  }
  return articles;
}

/** The first plain sentence of an article, as a careful model would quote it. */
function firstSentence(text: string): string {
  const sentence = text
    .split('\n')
    .filter((line) => line.trim() && !line.startsWith('#'))
    .join(' ')
    .match(/[^.!?]+[.!?]/)?.[0];
  return (sentence ?? text.slice(0, 120)).trim();
}

type DraftScript = (articles: Array<{ id: string; text: string }>) => unknown;

const groundedDraft: DraftScript = (articles) => ({
  reply: `Hello,\n\n${firstSentence(articles[0]!.text)}\n\nBest regards,\nThe support team`,
  citations: [articles[0]!.id],
  escalate: { needed: false, reason: '' },
});

describe('triage engine with the Anthropic SDK against the Messages API fake', () => {
  let fake: AnthropicFake;
  let store: Store;
  let services: TriageServices;
  let draftScript: DraftScript = groundedDraft;
  let classifiedIntent = 'password_reset';

  const settings = (overrides: Partial<TenantSettings> = {}): TenantSettings => ({
    ...defaultSettings(),
    tier0Intents: [...DEFAULT_INTENTS],
    ...overrides,
  });
  const proven = Object.fromEntries(DEFAULT_INTENTS.map((intent) => [intent, { accuracy: 0.99, reviews: 100 }]));
  let counter = 0;
  const input = (body: string, overrides: Partial<TriageInput> = {}): TriageInput => {
    counter += 1;
    return {
      tenantId: 'acme',
      ticketId: `t${counter}`,
      eventId: `t${counter}:1`,
      body,
      settings: settings(),
      intentAccuracy: proven,
      ...overrides,
    };
  };

  beforeAll(async () => {
    fake = await startAnthropicFake((request, toolName) => {
      if (toolName === CLASSIFY_TOOL_NAME) {
        return {
          intent: classifiedIntent,
          confidence: 0.97,
          urgency: 'low',
          language: 'en',
          sentiment: { score: 0, frustrated: false },
        };
      }
      if (toolName === DRAFT_TOOL_NAME) return draftScript(kbArticlesIn(request));
      if (toolName === SUMMARY_TOOL_NAME) return { summary: 'The customer needs a human. The agent could not answer.' };
      throw new Error(`unexpected tool ${toolName}`);
    });
    const dir = tempDir('engine-wire');
    store = await openKeyvStore({ kind: 'sqlite', file: join(dir, 'store.sqlite') });
    const config = loadConfig({
      DATA_DIR: dir,
      ANTHROPIC_API_KEY: 'sk-ant-test-key',
      ANTHROPIC_BASE_URL: fake.url,
      ANTHROPIC_TIMEOUT_MS: '2000',
      ANTHROPIC_MAX_RETRIES: '0',
    });
    services = createTriageServices({ config, store, logger: silentLogger() });
  });
  afterAll(async () => {
    await fake.close();
    await store.close();
  });
  beforeEach(() => {
    fake.reset();
    draftScript = groundedDraft;
    classifiedIntent = 'password_reset';
  });

  const toolsCalled = () =>
    fake.messageRequests().map((request) => (request.body as { tool_choice?: { name?: string } }).tool_choice?.name);

  it('asks the small model only when the local classifier is unsure, and caches its answer', async () => {
    const text = 'I forgot my password and the reset email never arrived, how long is the link valid?';
    const sure = await services.engine.triage(input(text, { settings: settings({ cascadeBelowConfidence: 0 }) }));
    expect(sure.classification.source).toBe('local');
    expect(toolsCalled()).not.toContain(CLASSIFY_TOOL_NAME);

    fake.reset();
    classifiedIntent = 'billing_query';
    const unsure = await services.engine.triage(input(text, { settings: settings({ cascadeBelowConfidence: 1 }) }));
    expect(unsure.classification.source).toBe('llm');
    expect(unsure.classification.intent).toBe('billing_query');
    expect(toolsCalled().filter((name) => name === CLASSIFY_TOOL_NAME)).toHaveLength(1);
    const classifyCall = fake.messageRequests().find((r) => (r.body as { model: string }).model === 'claude-haiku-4-5');
    expect(classifyCall).toBeDefined();
    expect(unsure.cost.calls.map((call) => call.step)).toContain('classify');

    fake.reset();
    const again = await services.engine.triage(input(text, { settings: settings({ cascadeBelowConfidence: 1 }) }));
    expect(again.classification.source).toBe('cache');
    expect(again.classification.intent).toBe('billing_query');
    expect(toolsCalled()).not.toContain(CLASSIFY_TOOL_NAME);
  });

  it('reaches Tier 0 with a grounded, cited draft from the large model, with usage and cost', async () => {
    const record = await services.engine.triage(
      input('How do I reset my password? The reset email did not arrive.', {
        settings: settings({ cascadeBelowConfidence: 0 }),
      }),
    );
    expect(record.draft?.provider).toBe('anthropic');
    expect(record.draft?.grounding.passed).toBe(true);
    expect(record.tier).toBe(0);
    expect(record.action).toBe('public_reply');
    expect(record.citations.length).toBe(1);
    expect(record.budget?.method).toBe('api');
    const generate = record.cost.calls.find((call) => call.step === 'generate');
    expect(generate?.model).toBe('claude-sonnet-4-6');
    expect(record.cost.costUsd).toBeGreaterThan(0);
    expect(
      record.cost.inputTokens + record.cost.cacheCreationInputTokens + record.cost.cacheReadInputTokens,
    ).toBeGreaterThan(0);
    const body = fake.messageRequests().at(-1)!.body as { system?: Array<{ cache_control?: unknown }> };
    expect(JSON.stringify(body)).toContain('"cache_control":{"type":"ephemeral"}');
  });

  it.each<[string, DraftScript, RegExp]>([
    [
      'an invented price',
      (articles) => ({
        reply: `Hello,\n\n${firstSentence(articles[0]!.text)} The Business plan costs $99 per member per month.\n\nBest regards,\nThe support team`,
        citations: [articles[0]!.id],
        escalate: { needed: false, reason: '' },
      }),
      /facts_grounded|sentences_supported/,
    ],
    [
      'a citation of an article that was not retrieved',
      (articles) => ({
        reply: `Hello,\n\n${firstSentence(articles[0]!.text)}\n\nBest regards,\nThe support team`,
        citations: [articles[0]!.id, 'made-up-article'],
        escalate: { needed: false, reason: '' },
      }),
      /citations_retrieved/,
    ],
    [
      'a claim of a completed action',
      (articles) => ({
        reply: `Hello,\n\n${firstSentence(articles[0]!.text)} I have reset your password for you.\n\nBest regards,\nThe support team`,
        citations: [articles[0]!.id],
        escalate: { needed: false, reason: '' },
      }),
      /no_unconfirmed_actions/,
    ],
  ])('demotes %s to Tier 1 with the reason', async (_name, script, reason) => {
    draftScript = script;
    const record = await services.engine.triage(
      input('How do I reset my password? The reset email did not arrive.', {
        settings: settings({ cascadeBelowConfidence: 0 }),
      }),
    );
    expect(record.draft?.grounding.passed).toBe(false);
    expect(record.tier).toBe(1);
    expect(record.action).toBe('internal_note');
    expect(record.tierReasons.join(' ')).toMatch(reason);
  });

  it('escalates when the model sets escalate.needed, with a handoff package', async () => {
    draftScript = () => ({
      reply: 'Hello,\n\nI do not know the answer to this.\n\nBest regards,\nThe support team',
      citations: [],
      escalate: { needed: true, reason: 'the articles do not cover this account-specific question' },
    });
    const record = await services.engine.triage(
      input('How do I reset my password? The reset email did not arrive.', {
        settings: settings({ cascadeBelowConfidence: 0 }),
      }),
    );
    expect(record.tier).toBe(2);
    expect(record.action).toBe('escalate');
    expect(record.escalation?.team).toBe('account');
    expect(record.escalation?.summary).toBe('The customer needs a human. The agent could not answer.');
    expect(record.escalation?.whyItFailed.join(' ')).toMatch(/account-specific/);
  });

  it('falls back to the offline provider during an outage and never auto-sends', async () => {
    fake.failNext({ kind: 'overloaded' }, 50);
    const record = await services.engine.triage(
      input('How do I reset my password? The reset email did not arrive.', {
        settings: settings({ cascadeBelowConfidence: 0 }),
      }),
    );
    expect(record.draft?.provider).toBe('offline');
    expect(record.draft?.fallbackReason).toBeTruthy();
    expect(record.tier).toBe(1);
    expect(record.tierReasons.join(' ')).toMatch(/unavailable/);
  });
});
