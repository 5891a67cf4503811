/**
 * The scale-out queue: BullMQ on Redis. Any number of processes may produce and work. BullMQ
 * gives at-least-once delivery with stalled-job recovery (its visibility timeout), retries with
 * exponential backoff (with jitter), and keeps exhausted jobs as "failed": our dead letters.
 */
import { type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { DEFAULT_RETRY_POLICY, type JobHandler, type JobInfo, type JobQueue, type RetryPolicy } from './port.ts';

export interface BullQueueOptions {
  redisUrl: string;
  logger: Logger;
  queueName?: string;
  retry?: Partial<RetryPolicy>;
  visibilityTimeoutMs?: number;
}

interface Envelope {
  name: string;
  payload: unknown;
}

/** BullMQ needs `maxRetriesPerRequest: null` on its connections (workers block on Redis). */
function connect(redisUrl: string): Redis {
  return new Redis(redisUrl, { maxRetriesPerRequest: null, lazyConnect: false });
}

export function createBullQueue(options: BullQueueOptions): JobQueue {
  const retry: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const queueName = options.queueName ?? 'support-agent';
  const logger = options.logger.child({ component: 'queue', queue: 'bullmq' });
  const connections: Redis[] = [connect(options.redisUrl)];
  for (const connection of connections) connection.on('error', () => undefined); // surfaced by ping/readyz
  const queue = new Queue<Envelope>(queueName, { connection: connections[0]! });
  queue.on('error', (error) => logger.error({ err: error }, 'queue connection error'));
  const handlers = new Map<string, JobHandler<unknown>>();
  let worker: Worker<Envelope> | undefined;

  function info(job: Job<Envelope>, state: JobInfo['state']): JobInfo {
    return {
      id: String(job.id),
      name: job.data.name,
      state,
      attempts: job.attemptsMade,
      ...(job.failedReason ? { lastError: job.failedReason } : {}),
      createdAt: job.timestamp,
      updatedAt: job.finishedOn ?? job.processedOn ?? job.timestamp,
    };
  }

  return {
    kind: 'bullmq',
    async enqueue(name, payload, enqueueOptions = {}) {
      const jobId = enqueueOptions.jobId;
      if (jobId !== undefined) {
        const existing = await queue.getJob(jobId);
        if (existing !== undefined && existing !== null) return { id: jobId, duplicate: true };
      }
      try {
        const job = await queue.add(
          name,
          { name, payload },
          {
            ...(jobId === undefined ? {} : { jobId }),
            ...(enqueueOptions.delayMs ? { delay: enqueueOptions.delayMs } : {}),
            attempts: enqueueOptions.maxAttempts ?? retry.maxAttempts,
            backoff: { type: 'exponential', delay: retry.baseDelayMs, jitter: 0.5 },
            removeOnComplete: true,
            removeOnFail: false,
          },
        );
        return { id: String(job.id), duplicate: false };
      } catch (error) {
        throw new AppError('QUEUE_UNAVAILABLE', 'Could not add the job to the queue', { cause: error });
      }
    },
    handle(name, handler) {
      handlers.set(name, handler as JobHandler<unknown>);
    },
    async start(startOptions = {}) {
      const workerConnection = connect(options.redisUrl);
      workerConnection.on('error', () => undefined);
      connections.push(workerConnection);
      worker = new Worker<Envelope>(
        queueName,
        async (job) => {
          const handler = handlers.get(job.data.name);
          if (handler === undefined) throw new UnrecoverableError(`No handler for job "${job.data.name}"`);
          try {
            await handler({
              id: String(job.id),
              name: job.data.name,
              payload: job.data.payload,
              attempt: job.attemptsMade + 1,
            });
          } catch (error) {
            if (error instanceof AppError && !error.retryable) throw new UnrecoverableError(error.message);
            throw error;
          }
        },
        {
          connection: workerConnection,
          concurrency: startOptions.concurrency ?? 1,
          lockDuration: options.visibilityTimeoutMs ?? 120_000,
          stalledInterval: Math.min(30_000, options.visibilityTimeoutMs ?? 30_000),
        },
      );
      worker.on('error', (error) => logger.error({ err: error }, 'worker error'));
      worker.on('failed', (job, error) =>
        logger.warn({ jobId: job?.id, attempt: job?.attemptsMade, error: error.message }, 'job failed'),
      );
      await worker.waitUntilReady();
    },
    async stop(deadlineMs) {
      if (worker === undefined) return;
      const closing = worker.close();
      let deadline: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        closing.then(() => false),
        new Promise<boolean>((resolve) => {
          deadline = setTimeout(() => resolve(true), deadlineMs);
        }),
      ]);
      if (deadline) clearTimeout(deadline);
      // Past the deadline, force-close: the unfinished jobs stall and another worker picks them up.
      if (timedOut) await worker.close(true);
    },
    async counts() {
      const counts = await queue.getJobCounts('waiting', 'delayed', 'prioritized', 'active', 'failed');
      return {
        waiting: (counts.waiting ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0),
        active: counts.active ?? 0,
        dead: counts.failed ?? 0,
      };
    },
    async listDeadLetters() {
      const jobs = await queue.getFailed(0, 999);
      return jobs.map((job) => info(job, 'dead'));
    },
    async redrive(jobId) {
      const job = await queue.getJob(jobId);
      if (!job || !(await job.isFailed())) return false;
      await job.retry('failed', { resetAttemptsMade: true });
      return true;
    },
    async ping() {
      try {
        await queue.waitUntilReady();
        await queue.getJobCounts('active');
      } catch (error) {
        throw new AppError('QUEUE_UNAVAILABLE', 'Redis for the queue is not reachable', { cause: error });
      }
    },
    async close() {
      await worker?.close();
      await queue.close();
      for (const connection of connections) connection.disconnect();
    },
  };
}
