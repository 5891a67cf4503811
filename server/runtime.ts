/** Builds the real dependencies from the config: the store, the queue, the logger and metrics. */
import { type Config, SECRET_KEYS } from './config.ts';
import { createLogger, type Logger } from './logger.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { createEmbeddedQueue } from './queue/embedded.ts';
import type { JobQueue } from './queue/port.ts';
import { openKeyvStore } from './store/keyv-store.ts';
import type { Store } from './store/port.ts';

export interface Runtime {
  config: Config;
  logger: Logger;
  store: Store;
  queue: JobQueue;
  metrics: Metrics;
}

export async function createRuntime(config: Config, options: { logger?: Logger } = {}): Promise<Runtime> {
  const logger =
    options.logger ?? createLogger({ level: config.LOG_LEVEL, secrets: SECRET_KEYS.map((key) => config[key]) });
  const store = await openKeyvStore(
    config.store.kind === 'sqlite' ? { ...config.store, synchronous: config.SQLITE_SYNCHRONOUS } : config.store,
  );
  const retry = { maxAttempts: config.QUEUE_MAX_ATTEMPTS };
  // BullMQ is loaded only when chosen: it is the slowest import of all.
  const queue =
    config.QUEUE === 'bullmq'
      ? (await import('./queue/bullmq.ts')).createBullQueue({
          redisUrl: config.REDIS_URL!,
          logger,
          retry,
          visibilityTimeoutMs: config.QUEUE_VISIBILITY_TIMEOUT_MS,
        })
      : createEmbeddedQueue({ store, logger, retry, visibilityTimeoutMs: config.QUEUE_VISIBILITY_TIMEOUT_MS });
  const metrics = createMetrics({ queue });
  return { config, logger, store, queue, metrics };
}

/** Stops taking jobs, lets in-flight work finish up to the deadline, then closes everything. */
export async function shutdownRuntime(runtime: Runtime, deadlineMs: number): Promise<void> {
  await runtime.queue.stop(deadlineMs);
  await runtime.queue.close();
  await runtime.store.close();
}
