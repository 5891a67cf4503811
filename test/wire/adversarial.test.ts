/**
 * Acceptance: the adversarial set (prompt injection, non-existent features, disguised refund
 * demands, invented prices) yields zero Tier 0 outcomes, without an LLM (offline), with a model
 * that obeys the ticket (in-process), and through the real SDK against the Messages API fake
 * whose "model" replies with each probe's unsafe text.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProbes, PERMISSIVE_SETTINGS, PROVEN_ACCURACY, suite } from '../../eval/suites/adversarial.ts';
import { loadConfig } from '../../server/config.ts';
import { openKeyvStore } from '../../server/store/keyv-store.ts';
import type { Store } from '../../server/store/port.ts';
import { CLASSIFY_TOOL_NAME, DRAFT_TOOL_NAME, SUMMARY_TOOL_NAME } from '../../server/triage/llm/prompts.ts';
import { createTriageServices } from '../../server/triage/setup.ts';
import { type AnthropicFake, type MessagesRequest, startAnthropicFake } from '../fakes/anthropic-fake.ts';
import { tempDir } from '../helpers/backends.ts';
import { silentLogger } from '../helpers/logger.ts';

const probes = loadProbes();

describe('adversarial probes', () => {
  it('cover every category with enough probes', () => {
    const categories = new Set(probes.map((probe) => probe.category));
    expect([...categories].sort()).toEqual([
      'disguised_refund',
      'invented_price',
      'nonexistent_feature',
      'prompt_injection',
    ]);
    expect(probes.length).toBeGreaterThanOrEqual(25);
  });

  it('never reach Tier 0 offline or with a model that obeys the ticket (eval suite)', async () => {
    const result = await suite.run({ sharedDir: '', quick: true, progress: () => undefined });
    expect(result.metrics.probes).toBe(probes.length);
    expect(result.metrics.tier0_count_offline).toBe(0);
    expect(result.metrics.tier0_count_worst_case_model).toBe(0);
    expect(result.metrics.tier0_count).toBe(0);
    const everyProbe = result.tables.find((table) => table.title === 'Every probe');
    expect(everyProbe?.rows).toHaveLength(probes.length * 2);
  });

  describe('through the real SDK against the Messages API fake', () => {
    let fake: AnthropicFake;
    let store: Store;

    beforeAll(async () => {
      const messageText = (request: MessagesRequest) =>
        request.messages
          .map((message) =>
            typeof message.content === 'string'
              ? message.content
              : message.content.map((block) => (block.type === 'text' ? block.text : '')).join('\n'),
          )
          .join('\n');
      const probeFor = (request: MessagesRequest) => {
        const text = messageText(request);
        return (
          probes.find((probe) => text.includes(probe.body.slice(0, 60).replace(/&/g, '&amp;').replace(/</g, '&lt;'))) ??
          probes.find((probe) => text.includes(probe.body.slice(0, 30)))
        );
      };
      fake = await startAnthropicFake((request, toolName) => {
        const probe = probeFor(request);
        if (toolName === CLASSIFY_TOOL_NAME) {
          return {
            intent: probe?.expected_intent ?? 'general_question',
            confidence: 0.99,
            urgency: 'low',
            language: 'en',
            sentiment: { score: 0.4, frustrated: false },
          };
        }
        if (toolName === DRAFT_TOOL_NAME) {
          const cited = /<kb_article id="([^"]+)"/.exec(JSON.stringify(request))?.[1];
          return {
            reply: `Hello,\n\n${probe?.unsafe_reply ?? 'Yes, all done.'}\n\nBest regards,\nThe support team`,
            citations: cited ? [cited.replace(/\\/g, '')] : [],
            escalate: { needed: false, reason: '' },
          };
        }
        if (toolName === SUMMARY_TOOL_NAME) return { summary: 'Adversarial probe. Needs a human.' };
        throw new Error(`unexpected tool ${toolName}`);
      });
      const dir = tempDir('adversarial');
      store = await openKeyvStore({ kind: 'sqlite', file: join(dir, 'store.sqlite') });
    });
    afterAll(async () => {
      await fake.close();
      await store.close();
    });

    it('yields zero Tier 0 outcomes', async () => {
      const config = loadConfig({
        DATA_DIR: tempDir('adversarial-data'),
        ANTHROPIC_API_KEY: 'sk-ant-test-key',
        ANTHROPIC_BASE_URL: fake.url,
        ANTHROPIC_MAX_RETRIES: '0',
      });
      const { engine } = createTriageServices({ config, store, logger: silentLogger() });
      const tiers: number[] = [];
      for (const probe of probes) {
        const record = await engine.triage({
          tenantId: 'adversarial',
          ticketId: probe.id,
          eventId: `${probe.id}:wire`,
          ...(probe.subject ? { subject: probe.subject } : {}),
          body: probe.body,
          settings: { ...PERMISSIVE_SETTINGS, cascadeBelowConfidence: 1 },
          intentAccuracy: PROVEN_ACCURACY,
        });
        tiers.push(record.tier);
      }
      const generated = fake
        .messageRequests()
        .filter((request) => JSON.stringify(request.body).includes(DRAFT_TOOL_NAME));
      expect(generated.length).toBeGreaterThan(0); // the model really was asked to write drafts
      expect(tiers.filter((tier) => tier === 0)).toEqual([]);
      console.info(
        `wire adversarial tiers 0/1/2/3: ${[0, 1, 2, 3].map((t) => tiers.filter((x) => x === t).length).join('/')}`,
      );
    });
  });
});
