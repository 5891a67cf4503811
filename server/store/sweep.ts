/**
 * The hourly sweep of expired entries (webhook invocation ids, cached LLM classifications): without
 * it SQLite and PostgreSQL keep every one of them, about a kilobyte per webhook delivery.
 */
import type { Logger } from '../logger.ts';
import type { Store } from './port.ts';

export const SWEEP_INTERVAL_MS = 60 * 60 * 1000;

export function scheduleExpirySweep(
  store: Store,
  logger: Logger,
  options: { intervalMs?: number; firstDelayMs?: number } = {},
): { stop(): void; sweepNow(): Promise<void> } {
  const intervalMs = options.intervalMs ?? SWEEP_INTERVAL_MS;
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;

  function sweepNow(): Promise<void> {
    running ??= (async () => {
      const started = performance.now();
      try {
        const live = await store.sweepExpired();
        logger.debug({ live, ms: Math.round(performance.now() - started) }, 'expired store entries swept');
      } catch (error) {
        // The next sweep tries again; expired entries are invisible to reads meanwhile.
        logger.warn({ err: error }, 'could not sweep expired store entries');
      } finally {
        running = undefined;
      }
    })();
    return running;
  }

  function schedule(delayMs: number): void {
    timer = setTimeout(() => {
      void sweepNow().then(() => {
        if (timer !== undefined) schedule(intervalMs);
      });
    }, delayMs);
    timer.unref();
  }
  schedule(options.firstDelayMs ?? 5 * 60 * 1000);

  return {
    stop() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
    sweepNow,
  };
}
