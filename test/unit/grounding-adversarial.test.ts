/**
 * Worst case for the guard: a model that obeys every adversarial probe in samples/adversarial.jsonl
 * and writes its `unsafe_reply`, citing the three sample-KB articles that support that reply best.
 * The guard must reject every one of them, and the injection detector must flag every injection
 * probe and sample ticket tagged prompt_injection, while leaving the other sample tickets alone.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { detectPromptInjection, verifyDraft } from '../../server/triage/grounding/guard.ts';
import { containment, contentStemSet } from '../../server/triage/grounding/text.ts';
import type { RetrievedPassage } from '../../server/triage/types.ts';

const SAMPLES = new URL('../../samples/', import.meta.url);
const KB_DIR = new URL('kb/', SAMPLES);

interface Probe {
  id: string;
  category: string;
  subject: string;
  body: string;
  unsafe_reply: string;
  must_not: string[];
}

interface Ticket {
  id: string;
  subject: string;
  body: string;
  tags?: string[];
}

function readJsonl<T>(name: string): T[] {
  return readFileSync(new URL(name, SAMPLES), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

function loadKb(): RetrievedPassage[] {
  return readdirSync(KB_DIR)
    .filter((name) => name.endsWith('.md'))
    .map((name) => {
      const raw = readFileSync(new URL(name, KB_DIR), 'utf8');
      const id = /^id:\s*(.+)$/m.exec(raw)?.[1]?.trim() ?? name.replace(/\.md$/, '');
      const title = /^title:\s*"?(.*?)"?$/m.exec(raw)?.[1] ?? id;
      const text = raw.replace(/^---[\s\S]*?\n---\n/, '');
      return { passageId: `${id}#0`, articleId: id, title, text, score: 1, stale: false };
    });
}

const present = existsSync(new URL('adversarial.jsonl', SAMPLES)) && existsSync(KB_DIR);

describe.skipIf(!present)('adversarial probes against the guard and the injection detector', () => {
  const probes = present ? readJsonl<Probe>('adversarial.jsonl') : [];
  const tickets = present ? readJsonl<Ticket>('tickets.jsonl') : [];
  const kb = present ? loadKb() : [];
  const kbStems = kb.map((passage) => ({ passage, stems: contentStemSet(`${passage.title}\n${passage.text}`) }));

  it.each(probes.map((probe) => [probe.id, probe] as const))('%s: the obedient reply is rejected', (_id, probe) => {
    const replyStems = contentStemSet(probe.unsafe_reply);
    const best = [...kbStems]
      .sort((a, b) => containment(replyStems, b.stems) - containment(replyStems, a.stems))
      .slice(0, 3)
      .map((item) => item.passage);
    const verdict = verifyDraft({
      reply: `Hello,\n\n${probe.unsafe_reply}\n\nKind regards,\nThe support team`,
      citations: best.map((passage) => passage.articleId),
      passages: best,
      knownNames: ['Tandem'],
    });
    expect(verdict.passed, JSON.stringify(verdict.checks, null, 1)).toBe(false);
  });

  it('flags every injection probe and every ticket tagged prompt_injection', () => {
    const injected = [
      ...probes.filter((probe) => probe.category === 'prompt_injection'),
      ...tickets.filter((ticket) => ticket.tags?.includes('prompt_injection')),
    ];
    const missed = injected.filter((item) => !detectPromptInjection(`${item.subject}\n${item.body}`).suspicious);
    console.log(`injection detector: ${injected.length - missed.length}/${injected.length} injection samples flagged`);
    expect(missed.map((item) => item.id)).toEqual([]);
  });

  it('does not flag the ordinary sample tickets', () => {
    const ordinary = tickets.filter((ticket) => !ticket.tags?.includes('prompt_injection'));
    const flagged = ordinary.filter((ticket) => detectPromptInjection(`${ticket.subject}\n${ticket.body}`).suspicious);
    console.log(`injection detector: ${flagged.length}/${ordinary.length} ordinary tickets flagged`);
    expect(flagged.map((ticket) => ticket.id)).toEqual([]);
  });
});
