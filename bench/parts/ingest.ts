/**
 * Figure 1, webhook ingest: signed deliveries (unique invocation ids, valid signatures) against the
 * real service in a child process with its queue workers not started, and against a bare Express
 * endpoint answering 204, both driven by autocannon from this process with the same signing work.
 */
import autocannon, { type AutocannonResult } from 'autocannon';
import { type PacedResult, pacedLoad } from '../lib/paced-load.ts';
import { askChild, stopChild } from '../lib/processes.ts';
import { progress } from '../lib/progress.ts';
import { createDeliverySigner, newSecret, serviceEnv, startChild } from '../lib/service-child.ts';
import { runTempDir } from '../lib/temp.ts';

export interface LoadRun {
  /** Successful (2xx) responses per second over the run. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  ok: number;
  non2xx: number;
  errors: number;
  durationS: number;
}

export interface IngestResult {
  bare: LoadRun;
  serviceMax: LoadRun;
  /** autocannon with overallRate: each connection's per-second quota sent back to back (bursts). */
  serviceAt500: LoadRun;
  /** Open loop, evenly spaced: the latency figure at this rate. */
  servicePaced: PacedResult;
  /** The same, right after the full-speed run (the WAL of 30,000 writes is being checkpointed). */
  servicePacedAfterMax: PacedResult;
  ratio: number;
  /** Jobs the store holds after the runs, against the 2xx answers the service gave. */
  persistedJobs: number;
  acceptedDeliveries: number;
  workers: 'not started';
  connections: number;
  /** Store calls during the warm-up run (full rate): per operation, calls and summed wall time. */
  storeDuringWarmup: StoreTimings;
}

export type StoreTimings = Record<string, { count: number; totalMs: number }>;

/** "jobs.set 1.0/req 80.1 ms avg" for the operations that took the most time in total. */
export function describeStore(timings: StoreTimings, per: number, unit: string): string {
  return Object.entries(timings)
    .sort((a, b) => b[1].totalMs - a[1].totalMs)
    .slice(0, 4)
    .map(
      ([operation, { count, totalMs }]) =>
        `${operation} ${(count / per).toFixed(1)}/${unit} avg ${(totalMs / Math.max(1, count)).toFixed(1)} ms`,
    )
    .join(', ');
}

export interface IngestOptions {
  durationS: number;
  warmupS: number;
  connections: number;
  rate: number;
  zendesk: { url: string; email: string; apiToken: string };
}

async function load(
  url: string,
  next: ReturnType<typeof createDeliverySigner>,
  options: { durationS: number; connections: number; overallRate?: number },
): Promise<LoadRun> {
  const result: AutocannonResult = await autocannon({
    url,
    connections: options.connections,
    duration: options.durationS,
    timeout: 10,
    ...(options.overallRate === undefined ? {} : { overallRate: options.overallRate }),
    requests: [
      {
        method: 'POST',
        path: '/webhooks/zendesk',
        setupRequest: (request) => {
          const delivery = next();
          return { ...request, headers: delivery.headers, body: delivery.body };
        },
      },
    ],
  });
  let ok = 0;
  for (const [status, { count }] of Object.entries(result.statusCodeStats ?? {})) {
    if (status.startsWith('2')) ok += Number(count);
  }
  return {
    rps: ok / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    durationS: result.duration,
  };
}

function describe(run: LoadRun): string {
  return `${run.rps.toFixed(0)} req/s, p50 ${run.p50Ms} ms, p99 ${run.p99Ms} ms, non-2xx ${run.non2xx}, errors ${run.errors}`;
}

export async function measureIngest(options: IngestOptions): Promise<IngestResult> {
  const secret = newSecret();
  let ticket = 0;
  const ticketIds = () => String(1_000 + (ticket++ % 100_000));
  const signer = createDeliverySigner(secret, ticketIds);
  const adminToken = newSecret();

  progress('ingest: bare Express endpoint (204)');
  const bareChild = await startChild('bare');
  let bare: LoadRun;
  try {
    await load(bareChild.url, signer, { durationS: options.warmupS, connections: options.connections });
    bare = await load(bareChild.url, signer, { durationS: options.durationS, connections: options.connections });
  } finally {
    await stopChild(bareChild.child);
  }
  progress(`ingest: bare ${describe(bare)}`);

  progress('ingest: real service (embedded SQLite store and queue, workers not started)');
  const dataDir = runTempDir('bench-ingest');
  const service = await startChild(
    'service',
    serviceEnv({
      dataDir,
      zendeskUrl: options.zendesk.url,
      email: options.zendesk.email,
      apiToken: options.zendesk.apiToken,
      secret,
      adminToken,
      extra: { BENCH_START_WORKERS: '0', BENCH_STORE_TIMING: '1' },
    }),
  );
  try {
    const before = await askChild<{ waiting: number }>(service.child, { type: 'counts' });
    // Store timers run during the warm-up only (at the same full rate): the measured runs do not
    // pay for the diagnostics.
    await askChild(service.child, { type: 'store-timings' });
    const warmup = await load(service.url, signer, { durationS: options.warmupS, connections: options.connections });
    const storeDuringWarmup = await askChild<StoreTimings>(service.child, { type: 'store-timings' });
    await askChild(service.child, { type: 'store-timing-off' });
    progress(
      `ingest: store calls per accepted delivery (warm-up at full rate): ${describeStore(storeDuringWarmup, warmup.ok, 'req')}`,
    );
    const paced = () =>
      pacedLoad({
        url: service.url,
        rate: options.rate,
        durationS: options.durationS,
        connections: options.connections,
        next: () => {
          const delivery = signer();
          return { path: '/webhooks/zendesk', headers: delivery.headers, body: delivery.body };
        },
      });
    const describePaced = (run: PacedResult) =>
      `${run.achievedRps.toFixed(0)} req/s, p50 ${run.p50Ms.toFixed(1)} ms, p90 ${run.p90Ms.toFixed(1)} ms, p99 ${run.p99Ms.toFixed(1)} ms, max ${run.maxMs.toFixed(1)} ms, non-2xx ${run.non2xx}, errors ${run.errors}`;
    // The 500/s runs come before the overload: they describe a service taking 500 a second, not
    // one still checkpointing the WAL of a run at full speed (that is measured last, and reported).
    const servicePaced = await paced();
    progress(`ingest: service at ${options.rate}/s (open loop, evenly spaced) ${describePaced(servicePaced)}`);
    const serviceAt500 = await load(service.url, signer, {
      durationS: options.durationS,
      connections: options.connections,
      overallRate: options.rate,
    });
    progress(`ingest: service at ${options.rate}/s (autocannon, per-second bursts) ${describe(serviceAt500)}`);
    const serviceMax = await load(service.url, signer, {
      durationS: options.durationS,
      connections: options.connections,
    });
    progress(`ingest: service max ${describe(serviceMax)}`);
    const servicePacedAfterMax = await paced();
    progress(
      `ingest: service at ${options.rate}/s right after the full-speed run (evenly spaced) ${describePaced(servicePacedAfterMax)}`,
    );
    const after = await askChild<{ waiting: number }>(service.child, { type: 'counts' });
    return {
      bare,
      serviceMax,
      serviceAt500,
      servicePaced,
      servicePacedAfterMax,
      ratio: serviceMax.rps / bare.rps,
      persistedJobs: after.waiting - before.waiting,
      acceptedDeliveries: warmup.ok + serviceMax.ok + serviceAt500.ok + servicePaced.ok + servicePacedAfterMax.ok,
      workers: 'not started',
      connections: options.connections,
      storeDuringWarmup,
    };
  } finally {
    await stopChild(service.child);
  }
}
