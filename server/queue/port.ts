/**
 * The queue port. Jobs are at-least-once: a handler may run again after a crash or a lease
 * timeout, so handlers make their effects idempotent (keyed by job id or event id).
 */

export interface EnqueueOptions {
  /** Re-enqueueing an id that is still queued (or dead-lettered) returns the existing job. */
  jobId?: string;
  delayMs?: number;
  maxAttempts?: number;
}

export interface JobContext<T = unknown> {
  id: string;
  name: string;
  payload: T;
  /** 1 on the first run. */
  attempt: number;
}

export type JobHandler<T = unknown> = (job: JobContext<T>) => Promise<void>;

export interface JobInfo {
  id: string;
  name: string;
  state: 'waiting' | 'active' | 'dead';
  attempts: number;
  lastError?: string;
  createdAt: number;
  updatedAt: number;
}

export interface QueueCounts {
  waiting: number;
  active: number;
  dead: number;
}

export interface JobQueue {
  readonly kind: 'embedded' | 'bullmq';
  enqueue<T>(name: string, payload: T, options?: EnqueueOptions): Promise<{ id: string; duplicate: boolean }>;
  /** Registers the handler for a job name. Handlers must be registered before start(). */
  handle<T>(name: string, handler: JobHandler<T>): void;
  /** Starts taking jobs (workers). A producer-only process never calls it. */
  start(options?: { concurrency?: number }): Promise<void>;
  /** Stops taking jobs and waits for in-flight ones up to the deadline. */
  stop(deadlineMs: number): Promise<void>;
  counts(): Promise<QueueCounts>;
  listDeadLetters(): Promise<JobInfo[]>;
  /** Puts a dead-lettered job back in the queue with a fresh attempt budget. */
  redrive(jobId: string): Promise<boolean>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 1_000, maxDelayMs: 5 * 60_000 };

/** Exponential backoff with full jitter: a random delay in [base*2^(n-1)/2, base*2^(n-1)], capped. */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
