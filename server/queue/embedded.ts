/**
 * The embedded queue: jobs live in the store (so a 2xx to a producer means the job is on disk),
 * and one process runs them. At-least-once: a job taken by a process that died is taken again
 * when the queue starts; a job whose handler outlives its lease (visibility timeout) is handed out
 * again. Failed runs back off exponentially with jitter; after maxAttempts the job is dead-lettered
 * and waits for an admin to re-drive it.
 */
import { randomUUID } from 'node:crypto';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { KeyValue, Store } from '../store/port.ts';
import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  type EnqueueOptions,
  type JobHandler,
  type JobInfo,
  type JobQueue,
  type QueueCounts,
  type RetryPolicy,
} from './port.ts';

interface StoredJob {
  id: string;
  name: string;
  payload: unknown;
  state: 'waiting' | 'active' | 'dead';
  attempts: number;
  maxAttempts: number;
  runAt: number;
  leaseUntil?: number;
  lastError?: string;
  createdAt: number;
  updatedAt: number;
}

interface Entry {
  job: StoredJob;
  /** Resolves once the job is on disk; it may not run before. */
  durable: Promise<void>;
  /** Changes every time the job is handed out, so a stale run cannot settle a newer one. */
  lease: number;
}

export interface EmbeddedQueueOptions {
  store: Store;
  logger: Logger;
  retry?: Partial<RetryPolicy>;
  visibilityTimeoutMs?: number;
  /** How often delayed jobs and expired leases are checked. */
  tickMs?: number;
  random?: () => number;
}

export function createEmbeddedQueue(options: EmbeddedQueueOptions): JobQueue {
  const kv: KeyValue<StoredJob> = options.store.namespace<StoredJob>('jobs');
  const retry: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const visibilityTimeoutMs = options.visibilityTimeoutMs ?? 120_000;
  const tickMs = options.tickMs ?? 250;
  const random = options.random ?? Math.random;
  const logger = options.logger.child({ component: 'queue', queue: 'embedded' });

  const entries = new Map<string, Entry>();
  // Ids by state, so picking the next job and checking leases never scan the whole backlog.
  // Sets keep insertion order: waiting jobs are taken first come, first served.
  const waiting = new Set<string>();
  const active = new Set<string>();
  const handlers = new Map<string, JobHandler<unknown>>();
  const inFlight = new Set<Promise<void>>();
  let loaded: Promise<void> | undefined;
  let running = false;
  let concurrency = 1;
  let timer: NodeJS.Timeout | undefined;
  let leaseCounter = 0;

  function setState(job: StoredJob, state: StoredJob['state']): void {
    job.state = state;
    waiting.delete(job.id);
    active.delete(job.id);
    if (state === 'waiting') waiting.add(job.id);
    else if (state === 'active') active.add(job.id);
  }

  function forget(id: string): void {
    entries.delete(id);
    waiting.delete(id);
    active.delete(id);
  }

  function load(): Promise<void> {
    loaded ??= (async () => {
      const now = Date.now();
      let recovered = 0;
      for await (const [id, job] of kv.entries()) {
        if (job.state === 'active') {
          // Whoever held it is gone (this queue is owned by one process): run it again.
          job.runAt = now;
          delete job.leaseUntil;
          recovered += 1;
          job.state = 'waiting';
        }
        entries.set(id, { job, durable: Promise.resolve(), lease: 0 });
        setState(job, job.state);
      }
      if (entries.size > 0) logger.info({ jobs: entries.size, recovered }, 'queue loaded from store');
    })();
    return loaded;
  }

  async function persist(job: StoredJob): Promise<void> {
    job.updatedAt = Date.now();
    await kv.set(job.id, job);
  }

  /** The first waiting job that is due and has a handler (delayed retries are skipped over). */
  function nextReady(now: number): Entry | undefined {
    for (const id of waiting) {
      const entry = entries.get(id);
      if (entry === undefined) continue;
      if (entry.job.runAt > now || !handlers.has(entry.job.name)) continue;
      return entry;
    }
    return undefined;
  }

  function expireLeases(now: number): void {
    for (const id of [...active]) {
      const entry = entries.get(id);
      if (entry === undefined) continue;
      const { job } = entry;
      if (job.state === 'active' && job.leaseUntil !== undefined && job.leaseUntil < now) {
        logger.warn({ jobId: job.id, name: job.name }, 'job lease expired; handing it out again');
        setState(job, 'waiting');
        job.runAt = now;
        delete job.leaseUntil;
        entry.lease = ++leaseCounter;
        void persist(job).catch((error: unknown) => logger.error({ err: error }, 'could not persist expired lease'));
      }
    }
  }

  let activeCount = 0;
  function pump(): void {
    if (!running) return;
    const now = Date.now();
    while (activeCount < concurrency) {
      const entry = nextReady(now);
      if (entry === undefined) return;
      setState(entry.job, 'active');
      const run = runJob(entry).finally(() => {
        inFlight.delete(run);
        activeCount -= 1;
        pump();
      });
      activeCount += 1;
      inFlight.add(run);
    }
  }

  async function runJob(entry: Entry): Promise<void> {
    const { job } = entry;
    const lease = ++leaseCounter;
    entry.lease = lease;
    try {
      await entry.durable;
      job.attempts += 1;
      job.leaseUntil = Date.now() + visibilityTimeoutMs;
      await persist(job);
    } catch (error) {
      // Could not record the lease: put it back and try later.
      job.runAt = Date.now() + tickMs;
      setState(job, 'waiting');
      logger.error({ err: error, jobId: job.id }, 'could not lease job');
      return;
    }
    const handler = handlers.get(job.name)!;
    let failure: unknown;
    try {
      await handler({ id: job.id, name: job.name, payload: job.payload, attempt: job.attempts });
    } catch (error) {
      failure = error;
    }
    if (entry.lease !== lease || entries.get(job.id) !== entry) return; // re-leased meanwhile
    try {
      if (failure === undefined) {
        await kv.delete(job.id);
        forget(job.id);
        return;
      }
      const message = failure instanceof Error ? failure.message : String(failure);
      const retryable = !(failure instanceof AppError) || failure.retryable;
      job.lastError = message.slice(0, 2_000);
      delete job.leaseUntil;
      if (!retryable || job.attempts >= job.maxAttempts) {
        setState(job, 'dead');
        logger.error({ jobId: job.id, name: job.name, attempts: job.attempts, error: message }, 'job dead-lettered');
      } else {
        const delay =
          failure instanceof AppError && failure.retryAfterSeconds !== undefined
            ? failure.retryAfterSeconds * 1_000
            : backoffDelay(job.attempts, retry, random);
        job.runAt = Date.now() + delay;
        setState(job, 'waiting');
        logger.warn(
          { jobId: job.id, name: job.name, attempt: job.attempts, delayMs: delay, error: message },
          'job failed; retrying',
        );
      }
      await persist(job);
    } catch (error) {
      logger.error({ err: error, jobId: job.id }, 'could not record job outcome; it will run again after its lease');
    }
  }

  function info(job: StoredJob): JobInfo {
    return {
      id: job.id,
      name: job.name,
      state: job.state,
      attempts: job.attempts,
      ...(job.lastError === undefined ? {} : { lastError: job.lastError }),
      createdAt: job.createdAt,
      updatedAt: job.updatedAt,
    };
  }

  return {
    kind: 'embedded',
    async enqueue(name, payload, enqueueOptions: EnqueueOptions = {}) {
      await load();
      const id = enqueueOptions.jobId ?? randomUUID();
      if (entries.has(id)) return { id, duplicate: true };
      const now = Date.now();
      const job: StoredJob = {
        id,
        name,
        payload,
        state: 'waiting',
        attempts: 0,
        maxAttempts: enqueueOptions.maxAttempts ?? retry.maxAttempts,
        runAt: now + (enqueueOptions.delayMs ?? 0),
        createdAt: now,
        updatedAt: now,
      };
      const durable = kv.set(id, job);
      const entry: Entry = { job, durable, lease: 0 };
      entries.set(id, entry);
      setState(job, 'waiting');
      try {
        await durable;
      } catch (error) {
        forget(id);
        throw new AppError('QUEUE_UNAVAILABLE', 'Could not persist the job', { cause: error });
      }
      pump();
      return { id, duplicate: false };
    },
    handle(name, handler) {
      handlers.set(name, handler as JobHandler<unknown>);
    },
    async start(startOptions = {}) {
      await load();
      concurrency = startOptions.concurrency ?? concurrency;
      running = true;
      timer = setInterval(() => {
        expireLeases(Date.now());
        pump();
      }, tickMs);
      timer.unref();
      pump();
    },
    async stop(deadlineMs) {
      running = false;
      if (timer) clearInterval(timer);
      if (inFlight.size === 0) return;
      let deadline: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...inFlight]),
        new Promise<void>((resolve) => {
          deadline = setTimeout(resolve, deadlineMs);
        }),
      ]);
      if (deadline) clearTimeout(deadline);
      if (inFlight.size > 0)
        logger.warn({ inFlight: inFlight.size }, 'stopped with jobs still running; they will be retried');
    },
    async counts(): Promise<QueueCounts> {
      await load();
      const counts: QueueCounts = { waiting: 0, active: 0, dead: 0 };
      for (const { job } of entries.values()) counts[job.state] += 1;
      return counts;
    },
    async listDeadLetters() {
      await load();
      return [...entries.values()].filter(({ job }) => job.state === 'dead').map(({ job }) => info(job));
    },
    async redrive(jobId) {
      await load();
      const entry = entries.get(jobId);
      if (entry === undefined || entry.job.state !== 'dead') return false;
      const { job } = entry;
      job.attempts = 0;
      job.runAt = Date.now();
      setState(job, 'waiting');
      await persist(job);
      pump();
      return true;
    },
    ping: () => options.store.ping(),
    async close() {
      running = false;
      if (timer) clearInterval(timer);
    },
  };
}
