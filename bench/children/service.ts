/**
 * The service in a child process for the benchmark, so its CPU and memory are its own. It is
 * wired exactly as `npm start` wires it (createRuntime, createServices, createApp) from the
 * environment the bench sets; only two things differ, both through public options:
 * - BENCH_START_WORKERS=0 (ingest): the queue's workers are never started, so ingest is measured
 *   alone — deliveries are verified, de-duplicated and persisted as jobs, and nothing runs them.
 * - Zendesk's per-account write limit (about 100 updates a minute) is lifted and the Help Center
 *   sync schedule is off: neither is what the benchmark measures.
 * BENCH_STORE_TIMING=1 wraps the store's namespace methods with timers (diagnostics: how much of a
 * request's time is spent waiting on the store); the parent reads them over IPC.
 * With ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL set by the bench, the real Anthropic adapter talks
 * to the bench's loopback Messages API stand-in with realistic latencies.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../server/app.ts';
import { loadConfig } from '../../server/config.ts';
import { createLogger } from '../../server/logger.ts';
import { createRuntime, shutdownRuntime } from '../../server/runtime.ts';
import { createServices } from '../../server/services.ts';
import { NAMESPACES, type Store } from '../../server/store/port.ts';
import type { JobOutcome } from '../../server/zendesk/job.ts';

interface Outcome {
  at: number;
  ticketId: string;
  kind: JobOutcome['kind'];
  detail?: string;
}

const config = loadConfig(process.env);
const startWorkers = process.env.BENCH_START_WORKERS === '1';
const logger = createLogger({ level: 'silent' });
const runtime = await createRuntime(config, { logger });
const outcomes: Outcome[] = [];
const storeTimings = new Map<string, { count: number; totalMs: number }>();

function recordStoreCall(operation: string, ms: number): void {
  const entry = storeTimings.get(operation) ?? { count: 0, totalMs: 0 };
  entry.count += 1;
  entry.totalMs += ms;
  storeTimings.set(operation, entry);
}

/**
 * Times calls on the store's namespaces (shared objects: the queue and every tenant view use
 * them) while `timing` is on. Off, a call costs one plain function call more, so a measured run can
 * switch it off and not pay for the timers and the extra await.
 */
let timing = process.env.BENCH_STORE_TIMING === '1';
function instrumentStore(store: Store): void {
  for (const name of NAMESPACES) {
    const kv = store.namespace(name) as unknown as Record<string, (...args: unknown[]) => unknown>;
    for (const method of ['get', 'set', 'has', 'delete', 'claim']) {
      const original = kv[method]!;
      const timed = async (...args: unknown[]) => {
        const started = performance.now();
        try {
          return await original.apply(kv, args);
        } finally {
          recordStoreCall(`${name}.${method}`, performance.now() - started);
        }
      };
      kv[method] = (...args: unknown[]) => (timing ? timed(...args) : original.apply(kv, args));
    }
    const entries = kv.entries! as () => AsyncIterable<unknown>;
    kv.entries = async function* timedEntries() {
      const started = performance.now();
      try {
        yield* entries.call(kv);
      } finally {
        if (timing) recordStoreCall(`${name}.entries`, performance.now() - started);
      }
    };
  }
}
if (timing) instrumentStore(runtime.store);
const services = await createServices(runtime, {
  zendesk: {
    kbSyncIntervalMs: 0,
    writesPerMinute: 1_000_000,
    onOutcome: (payload, outcome) =>
      outcomes.push({
        at: Date.now(),
        ticketId: payload.ticketId,
        kind: outcome.kind,
        ...(outcome.kind === 'skipped' ? { detail: outcome.reason } : {}),
        ...(outcome.kind === 'written' ? { detail: outcome.write } : {}),
      }),
  },
});
const app = createApp({
  logger,
  metrics: runtime.metrics,
  store: runtime.store,
  queue: runtime.queue,
  bodyLimitBytes: config.BODY_LIMIT_BYTES,
  adminToken: config.ADMIN_TOKEN,
  rawRouters: services.rawRouters,
  jsonRouters: services.jsonRouters,
});
if (startWorkers) await runtime.queue.start({ concurrency: config.WORKER_CONCURRENCY });
const server: Server = await new Promise((resolve) => {
  const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
});

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  services.zendesk.stop();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await shutdownRuntime(runtime, 2_000).catch(() => undefined);
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
// The bench went away without stopping us: do not linger.
process.on('disconnect', () => void shutdown());

process.on('message', (message: { id: number; type: string; since?: number }) => {
  const answer = async (): Promise<unknown> => {
    if (message.type === 'counts') return runtime.queue.counts();
    if (message.type === 'outcomes') return outcomes.slice(message.since ?? 0);
    if (message.type === 'memory') return process.memoryUsage();
    if (message.type === 'store-timing-off') {
      timing = false;
      return true;
    }
    if (message.type === 'store-timings') {
      const snapshot = Object.fromEntries(storeTimings);
      storeTimings.clear();
      return snapshot;
    }
    throw new Error(`unknown request ${message.type}`);
  };
  answer().then(
    (result) => process.send?.({ id: message.id, result }),
    (error: unknown) => process.send?.({ id: message.id, error: String(error) }),
  );
});

const { port } = server.address() as AddressInfo;
process.send?.({ type: 'ready', url: `http://127.0.0.1:${port}`, pid: process.pid, llm: services.llmName });
