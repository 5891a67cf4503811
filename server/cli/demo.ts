/**
 * npm run demo: replays the shipped sample tickets (samples/tickets.jsonl) through the whole
 * pipeline — the durable queue, the triage engine, the tier policy — in a throw-away data folder,
 * and prints one row per ticket and the resulting tier mix. Offline by default; with
 * ANTHROPIC_API_KEY set it uses the model (and costs money).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { loadConfigOrExit } from '../lifecycle.ts';
import { createLogger } from '../logger.ts';
import { createEmbeddedQueue } from '../queue/embedded.ts';
import { openKeyvStore } from '../store/keyv-store.ts';
import { defaultSettings } from '../tenants/settings.ts';
import type { TicketRecord } from '../triage/record.ts';
import { createTriageServices } from '../triage/setup.ts';

const SAMPLE_TICKETS = fileURLToPath(new URL('../../samples/tickets.jsonl', import.meta.url));

const ticketSchema = z.object({
  id: z.string(),
  subject: z.string().optional(),
  body: z.string(),
  expected_intent: z.string().optional(),
  customer: z
    .object({
      name: z.string().optional(),
      plan: z.string().optional(),
      tone: z.enum(['formal', 'casual']).optional(),
      priorTicketsSameIssue: z.number().optional(),
    })
    .passthrough()
    .optional(),
});
type SampleTicket = z.infer<typeof ticketSchema>;

function pad(value: string, width: number): string {
  return value.length > width ? `${value.slice(0, width - 1)}…` : value.padEnd(width);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { tickets: { type: 'string' }, json: { type: 'boolean' } },
  });
  const path = values.tickets ?? SAMPLE_TICKETS;
  const tickets: SampleTicket[] = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, index) => {
      const parsed = ticketSchema.safeParse(JSON.parse(line));
      if (!parsed.success) throw new Error(`${path} line ${index + 1}: ${parsed.error.issues[0]?.message}`);
      return parsed.data;
    });

  const config = loadConfigOrExit();
  const dataDir = mkdtempSync(join(tmpdir(), 'support-agent-demo-'));
  const logger = createLogger({ level: 'warn', destination: process.stderr as never });
  const store = await openKeyvStore({ kind: 'sqlite', file: join(dataDir, 'demo.sqlite'), synchronous: 'NORMAL' });
  const queue = createEmbeddedQueue({ store, logger, tickMs: 20 });
  const { engine, llm } = createTriageServices({ config: { ...config, DATA_DIR: config.DATA_DIR }, store, logger });
  const records = new Map<string, TicketRecord>();
  const settings = defaultSettings();

  queue.handle<SampleTicket>('triage-sample', async (job) => {
    const ticket = job.payload;
    const record = await engine.triage({
      tenantId: 'demo',
      ticketId: ticket.id,
      eventId: `${ticket.id}:1`,
      ...(ticket.subject ? { subject: ticket.subject } : {}),
      body: ticket.body,
      ...(ticket.customer ? { customer: ticket.customer } : {}),
      settings,
    });
    await store.forTenant('demo').namespace('tickets').set(`${ticket.id}:1`, record);
    records.set(ticket.id, record);
  });
  process.stderr.write(`Replaying ${tickets.length} sample tickets through the queue (${llm.provider} engine)...\n`);
  const started = performance.now();
  for (const ticket of tickets) await queue.enqueue('triage-sample', ticket, { jobId: `demo-${ticket.id}` });
  await queue.start({ concurrency: 4 });
  while (records.size < tickets.length) {
    const counts = await queue.counts();
    if (counts.dead > 0)
      throw new Error(`${counts.dead} demo job(s) failed: ${JSON.stringify(await queue.listDeadLetters())}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const seconds = (performance.now() - started) / 1000;
  await queue.stop(1_000);
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });

  const ordered = tickets.map((ticket) => ({ ticket, record: records.get(ticket.id)! }));
  if (values.json) {
    process.stdout.write(`${JSON.stringify(ordered.map(({ record }) => record))}\n`);
    return;
  }
  const header = `${pad('ticket', 7)} ${pad('expected', 17)} ${pad('intent', 17)} ${pad('conf', 5)} ${pad('tier', 4)} ${pad('action', 13)} ${pad('team', 16)} citations`;
  process.stdout.write(`${header}\n${'-'.repeat(header.length + 20)}\n`);
  for (const { ticket, record } of ordered) {
    const intent = record.classification.outOfScope ? `${record.classification.intent}?` : record.classification.intent;
    process.stdout.write(
      `${pad(ticket.id, 7)} ${pad(ticket.expected_intent ?? '', 17)} ${pad(intent, 17)} ${pad(record.classification.confidence.toFixed(2), 5)} ${pad(String(record.tier), 4)} ${pad(record.action, 13)} ${pad(record.escalation?.team ?? '', 16)} ${record.citations.map((citation) => citation.articleId + (citation.stale ? ' (stale)' : '')).join(', ')}\n`,
    );
  }
  const mix = [0, 1, 2, 3].map((tier) => ordered.filter(({ record }) => record.tier === tier).length);
  const labelled = ordered.filter(({ ticket }) => ticket.expected_intent);
  const correct = labelled.filter(
    ({ ticket, record }) => record.classification.intent === ticket.expected_intent,
  ).length;
  process.stdout.write(
    `\nTier mix: ${mix.map((count, tier) => `Tier ${tier}: ${count} (${((100 * count) / ordered.length).toFixed(0)}%)`).join(', ')}\n` +
      `Intent matches the sample's label: ${correct}/${labelled.length}. ${ordered.length} tickets in ${seconds.toFixed(1)} s through the embedded queue.\n` +
      'Question marks mark out-of-scope verdicts. Offline drafts are always Tier 1; Tier 0 needs the model, an enabled intent and measured accuracy.\n',
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
