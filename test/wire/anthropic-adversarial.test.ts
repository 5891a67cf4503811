/**
 * Grounding failures through the real SDK: the fake model obeys every adversarial probe in
 * samples/adversarial.jsonl (answers with the probe's `unsafe_reply`, citing what was retrieved),
 * and the guard rejects every draft. Also checks that probe text reaches the API only inside the
 * untrusted wrapper, even when it tries to close the wrapper itself.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyDraft } from '../../server/triage/grounding/guard.ts';
import { createKnowledgeIndex } from '../../server/triage/knowledge/index.ts';
import { loadArticles } from '../../server/triage/knowledge/sources.ts';
import { createAnthropicLlm } from '../../server/triage/llm/anthropic.ts';
import { type AnthropicFake, type MessagesRequest, startAnthropicFake } from '../fakes/anthropic-fake.ts';

const SAMPLES = new URL('../../samples/', import.meta.url);
const present = existsSync(new URL('adversarial.jsonl', SAMPLES)) && existsSync(new URL('kb', SAMPLES));

interface Probe {
  id: string;
  subject: string;
  body: string;
  unsafe_reply: string;
}

function allowedIds(request: MessagesRequest): string[] {
  const system = Array.isArray(request.system) ? request.system : [];
  return system.flatMap((block) =>
    [...block.text.matchAll(/<kb_article id="([^"]+)"/g)].map((match) => match[1] ?? ''),
  );
}

describe.skipIf(!present)('adversarial probes through the SDK and the fake: the guard rejects obedient drafts', () => {
  const probes: Probe[] = present
    ? readFileSync(new URL('adversarial.jsonl', SAMPLES), 'utf8')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Probe)
    : [];
  const index = present ? createKnowledgeIndex(loadArticles(fileURLToPath(new URL('kb', SAMPLES)))) : undefined;
  let fake: AnthropicFake;
  let current: Probe | undefined;

  beforeAll(async () => {
    fake = await startAnthropicFake((request) => ({
      reply: `Hello,\n\n${current?.unsafe_reply ?? ''}\n\nKind regards,\nThe support team`,
      citations: allowedIds(request),
      escalate: { needed: false, reason: '' },
    }));
  });
  afterAll(async () => {
    await fake.close();
  });

  it.each(probes.map((probe) => [probe.id, probe] as const))('%s', async (_id, probe) => {
    current = probe;
    const llm = createAnthropicLlm({ apiKey: 'sk-ant-test', baseURL: fake.url, timeoutMs: 2_000, maxRetries: 0 });
    const question = `${probe.subject}\n${probe.body}`;
    const passages = index?.search(question, 3) ?? [];
    const draft = await llm.generate({
      passages,
      customerMessage: question,
      tone: 'formal',
      language: 'en',
      frustrated: false,
    });
    expect(draft.provider).toBe('anthropic');

    const body = fake.messageRequests().at(-1)?.body as MessagesRequest;
    const userText = JSON.stringify(body.messages);
    expect(userText.match(/<\/customer_message>/g)).toHaveLength(1);
    expect(JSON.stringify(body.system)).not.toContain(probe.body.slice(0, 30));

    const verdict = verifyDraft({ reply: draft.reply, citations: draft.citations, passages, knownNames: ['Tandem'] });
    expect(verdict.passed, JSON.stringify(verdict.checks, null, 1)).toBe(false);
  });
});
