/**
 * Figure 3, end to end: signed webhooks for tickets seeded in the Zendesk sandbox, through the real
 * service (child process: route, durable queue, Zendesk job, triage engine, real Anthropic adapter)
 * to the write-back in the sandbox. The LLM is the loopback latency stand-in (small model 0.6 s,
 * large model 4 s). Tickets per second = written tickets / (last write-back − first delivery).
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { MARKER_PREFIX } from '../../server/zendesk/guard.ts';
import type { ZendeskSandbox } from '../../test/fakes/zendesk-sandbox.ts';
import type { BenchTicket } from '../data/tickets.ts';
import { askChild, stopChild } from '../lib/processes.ts';
import { progress } from '../lib/progress.ts';
import { createDeliverySigner, newSecret, serviceEnv, startChild } from '../lib/service-child.ts';
import { percentile } from '../lib/stats.ts';
import { runTempDir } from '../lib/temp.ts';
import { describeStore, type StoreTimings } from './ingest.ts';

export interface E2eRun {
  concurrency: number;
  tickets: number;
  /** Tickets whose write-back landed (the sandbox holds our note), counted once each. */
  written: number;
  /** Of those, tickets whose job ran again after its write and found it there (a slow answer timed out). */
  foundWrittenOnRetry: number;
  /** Tickets that got more than one note of ours (must be 0). */
  duplicateNotes: number;
  skipped: number;
  other: number;
  ticketsPerSecond: number;
  latencyP50S: number;
  latencyP99S: number;
  wallS: number;
  timedOut: boolean;
  /** Store calls over the run: per operation, calls and summed wall time. */
  store: StoreTimings;
}

export interface E2eOptions {
  sandbox: ZendeskSandbox;
  llmUrl: string;
  kbPath: string;
  modelCacheFile: string;
  tickets: BenchTicket[];
  concurrencies: number[];
  /** Tickets per run, from the concurrency. */
  ticketsFor: (concurrency: number) => number;
}

interface Outcome {
  at: number;
  ticketId: string;
  kind: string;
  detail?: string;
}

async function sendAll(
  url: string,
  deliveries: Array<{ ticketId: string }>,
  next: (ticketId: string) => { body: string; headers: Record<string, string> },
  parallel: number,
  sentAt: Map<string, number>,
): Promise<number> {
  let index = 0;
  let failures = 0;
  async function worker() {
    while (index < deliveries.length) {
      const { ticketId } = deliveries[index++] as { ticketId: string };
      const delivery = next(ticketId);
      sentAt.set(ticketId, Date.now());
      const response = await fetch(`${url}/webhooks/zendesk`, {
        method: 'POST',
        headers: delivery.headers,
        body: delivery.body,
      }).catch(() => undefined);
      if (response?.status !== 202) failures += 1;
      await response?.arrayBuffer();
    }
  }
  await Promise.all(Array.from({ length: parallel }, worker));
  return failures;
}

export async function runE2e(options: E2eOptions, concurrency: number): Promise<E2eRun> {
  const { sandbox } = options;
  const count = options.ticketsFor(concurrency);
  const requesters = Array.from({ length: 20 }, (_, index) =>
    sandbox.seedUser({ name: `Customer ${concurrency}-${index}`, role: 'end-user' }),
  );
  const ticketIds: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const source = options.tickets[index % options.tickets.length] as BenchTicket;
    const requester = requesters[index % requesters.length]!;
    const ticket = sandbox.seedTicket({
      subject: source.subject ?? 'Question',
      description: source.body,
      requesterId: requester.id,
    });
    ticketIds.push(String(ticket.id));
  }

  const dataDir = runTempDir(`bench-e2e-${concurrency}`);
  mkdirSync(join(dataDir, 'models'), { recursive: true });
  // The default model was trained once for the whole bench; start-up training is not what is measured.
  copyFileSync(options.modelCacheFile, join(dataDir, 'models', 'default-intent-model.json'));
  const secret = newSecret();
  const service = await startChild(
    'service',
    serviceEnv({
      dataDir,
      zendeskUrl: sandbox.url,
      email: sandbox.email,
      apiToken: sandbox.apiToken,
      secret,
      adminToken: newSecret(),
      extra: {
        BENCH_START_WORKERS: '1',
        WORKER_CONCURRENCY: String(concurrency),
        ANTHROPIC_API_KEY: 'bench-not-a-real-key',
        ANTHROPIC_BASE_URL: options.llmUrl,
        ANTHROPIC_MAX_RETRIES: '0',
        KB_PATH: options.kbPath,
        BENCH_STORE_TIMING: '1',
      },
    }),
  );
  try {
    const sentAt = new Map<string, number>();
    let pending = '';
    const signer = createDeliverySigner(secret, () => pending);
    const started = Date.now();
    const failures = await sendAll(
      service.url,
      ticketIds.map((ticketId) => ({ ticketId })),
      (ticketId) => {
        pending = ticketId;
        return signer();
      },
      32,
      sentAt,
    );
    if (failures > 0) progress(`e2e: ${failures} deliveries were not answered 202`);
    // Bounded: every ticket needs at most a few LLM round trips; allow generous slack.
    const deadline = Date.now() + Math.max(60_000, (count / concurrency) * 15_000);
    let outcomes: Outcome[] = [];
    let timedOut = false;
    while (outcomes.length < count) {
      if (Date.now() > deadline) {
        timedOut = true;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
      outcomes = outcomes.concat(
        await askChild<Outcome[]>(service.child, { type: 'outcomes', since: outcomes.length }),
      );
    }
    const store = await askChild<StoreTimings>(service.child, { type: 'store-timings' });
    // A job whose write-back answer came too late for its client retries, finds its own note (the
    // safe_update conflict, then the marker) and ends as already_written: the ticket was written
    // once, at or before that outcome. The sandbox's notes are the ground truth for the count.
    const written = outcomes.filter((outcome) => outcome.kind === 'written' || outcome.kind === 'already_written');
    const foundWrittenOnRetry = outcomes.filter((outcome) => outcome.kind === 'already_written').length;
    let duplicateNotes = 0;
    let notedTickets = 0;
    for (const ticketId of ticketIds) {
      const ours = sandbox.comments(Number(ticketId)).filter((comment) => comment.body.includes(`[${MARKER_PREFIX}`));
      if (ours.length > 0) notedTickets += 1;
      if (ours.length > 1) duplicateNotes += 1;
    }
    if (notedTickets !== written.length) {
      progress(`e2e: the sandbox holds notes on ${notedTickets} tickets; job outcomes say ${written.length}`);
    }
    const lastAt = Math.max(...written.map((outcome) => outcome.at));
    const wallS = (lastAt - started) / 1000;
    const latencies = written.map((outcome) => (outcome.at - (sentAt.get(outcome.ticketId) ?? started)) / 1000);
    const skipped = outcomes.filter((outcome) => outcome.kind === 'skipped').length;
    const run: E2eRun = {
      concurrency,
      tickets: count,
      written: written.length,
      foundWrittenOnRetry,
      duplicateNotes,
      skipped,
      other: outcomes.length - written.length - skipped,
      ticketsPerSecond: written.length > 0 ? written.length / wallS : 0,
      latencyP50S: percentile(latencies, 50),
      latencyP99S: percentile(latencies, 99),
      wallS,
      timedOut,
      store,
    };
    progress(
      `e2e: concurrency ${concurrency}: ${run.written}/${count} written in ${wallS.toFixed(1)} s = ${run.ticketsPerSecond.toFixed(2)} tickets/s (latency p50 ${run.latencyP50S.toFixed(1)} s${timedOut ? ', TIMED OUT' : ''}); found written on a retry ${foundWrittenOnRetry}, tickets with two notes ${duplicateNotes}`,
    );
    if (written.length < count) {
      const notWritten = new Map<string, number>();
      for (const outcome of outcomes) {
        if (outcome.kind === 'written' || outcome.kind === 'already_written') continue;
        const label = `${outcome.kind}${outcome.detail ? `:${outcome.detail}` : ''}`;
        notWritten.set(label, (notWritten.get(label) ?? 0) + 1);
      }
      progress(
        `e2e: not written: ${[...notWritten].map(([label, n]) => `${label} ${n}`).join(', ') || 'none'}; no outcome yet ${count - outcomes.length}`,
      );
    }
    progress(`e2e: store calls per ticket: ${describeStore(store, Math.max(1, count), 'ticket')}`);
    return run;
  } finally {
    await stopChild(service.child);
  }
}

export async function measureE2e(options: E2eOptions): Promise<E2eRun[]> {
  const runs: E2eRun[] = [];
  for (const concurrency of options.concurrencies) runs.push(await runE2e(options, concurrency));
  return runs;
}
