import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../../server/errors.ts';
import { createBullQueue } from '../../server/queue/bullmq.ts';
import { createEmbeddedQueue } from '../../server/queue/embedded.ts';
import type { JobQueue } from '../../server/queue/port.ts';
import { openKeyvStore } from '../../server/store/keyv-store.ts';
import type { Store } from '../../server/store/port.ts';
import { REDIS_URL, STORE_BACKENDS, uniquePrefix, waitFor } from '../helpers/backends.ts';
import { silentLogger } from '../helpers/logger.ts';

interface QueueCase {
  name: string;
  available: boolean;
  /** Builds a queue; calling it again with the same handle gives a second queue on the same data. */
  create: (shared: { store?: Store; queueName: string }) => Promise<{ queue: JobQueue; store?: Store }>;
}

const fastRetry = { baseDelayMs: 20, maxDelayMs: 100 };

const cases: QueueCase[] = [
  ...STORE_BACKENDS.map(
    (backend): QueueCase => ({
      name: `embedded queue on ${backend.name}`,
      available: backend.available,
      create: async (shared) => {
        const store = shared.store ?? (await openKeyvStore(backend.config()));
        return {
          store,
          queue: createEmbeddedQueue({ store, logger: silentLogger(), retry: fastRetry, tickMs: 20 }),
        };
      },
    }),
  ),
  {
    name: 'BullMQ on Redis',
    available: REDIS_URL !== undefined,
    create: async (shared) => ({
      queue: createBullQueue({
        redisUrl: REDIS_URL!,
        logger: silentLogger(),
        queueName: shared.queueName,
        retry: fastRetry,
      }),
    }),
  },
];

for (const queueCase of cases) {
  describe.skipIf(!queueCase.available)(`queue contract: ${queueCase.name}`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    });

    async function setup(shared: { store?: Store; queueName?: string } = {}) {
      const queueName = shared.queueName ?? `q-${uniquePrefix()}`;
      const built = await queueCase.create({ ...(shared.store ? { store: shared.store } : {}), queueName });
      cleanups.push(async () => {
        await built.queue.stop(1_000);
        await built.queue.close();
      });
      if (built.store && !shared.store) cleanups.push(() => built.store!.close());
      return { ...built, queueName };
    }

    it('runs every enqueued job with its payload', async () => {
      const { queue } = await setup();
      const seen: Array<{ id: string; payload: unknown; attempt: number }> = [];
      queue.handle<{ n: number }>('work', async (job) => {
        seen.push({ id: job.id, payload: job.payload, attempt: job.attempt });
      });
      await queue.start({ concurrency: 3 });
      const ids = await Promise.all(Array.from({ length: 10 }, (_, n) => queue.enqueue('work', { n })));
      await waitFor(() => seen.length === 10, 'all 10 jobs handled');
      expect(seen.map((job) => (job.payload as { n: number }).n).sort((a, b) => a - b)).toEqual([
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
      ]);
      expect(new Set(seen.map((job) => job.id))).toEqual(new Set(ids.map((result) => result.id)));
      expect(seen.every((job) => job.attempt === 1)).toBe(true);
      await waitFor(async () => (await queue.counts()).waiting + (await queue.counts()).active === 0, 'queue drained');
    });

    it('de-duplicates on a caller-chosen job id while the job is known', async () => {
      const { queue } = await setup();
      const first = await queue.enqueue('work', { n: 1 }, { jobId: 'event-42', delayMs: 60_000 });
      const second = await queue.enqueue('work', { n: 2 }, { jobId: 'event-42' });
      expect(first).toEqual({ id: 'event-42', duplicate: false });
      expect(second).toEqual({ id: 'event-42', duplicate: true });
      expect((await queue.counts()).waiting).toBe(1);
    });

    it('retries a failing job with backoff, then succeeds', async () => {
      const { queue } = await setup();
      const attempts: number[] = [];
      queue.handle('flaky', async (job) => {
        attempts.push(job.attempt);
        if (job.attempt < 3) throw new Error(`transient failure ${job.attempt}`);
      });
      await queue.start();
      await queue.enqueue('flaky', {}, { maxAttempts: 5 });
      await waitFor(() => attempts.length === 3, 'three attempts');
      expect(attempts).toEqual([1, 2, 3]);
      expect(await queue.listDeadLetters()).toEqual([]);
    });

    it('dead-letters a job after its attempts run out, and an admin can re-drive it', async () => {
      const { queue } = await setup();
      let healthy = false;
      let successes = 0;
      queue.handle('doomed', async () => {
        if (!healthy) throw new Error('downstream is broken');
        successes += 1;
      });
      await queue.start();
      const { id } = await queue.enqueue('doomed', { x: 1 }, { maxAttempts: 2 });
      await waitFor(async () => (await queue.listDeadLetters()).length === 1, 'job dead-lettered');
      const [dead] = await queue.listDeadLetters();
      expect(dead).toMatchObject({ id, name: 'doomed', state: 'dead', attempts: 2, lastError: 'downstream is broken' });
      expect((await queue.counts()).dead).toBe(1);
      healthy = true;
      expect(await queue.redrive(id)).toBe(true);
      await waitFor(() => successes === 1, 're-driven job succeeded');
      await waitFor(async () => (await queue.listDeadLetters()).length === 0, 'dead-letter list empty');
      expect(await queue.redrive('no-such-job')).toBe(false);
    });

    it('does not retry an error marked non-retryable', async () => {
      const { queue } = await setup();
      let runs = 0;
      queue.handle('bad-input', async () => {
        runs += 1;
        throw new AppError('VALIDATION_FAILED', 'payload is malformed');
      });
      await queue.start();
      await queue.enqueue('bad-input', {}, { maxAttempts: 5 });
      await waitFor(async () => (await queue.listDeadLetters()).length === 1, 'dead-lettered at once');
      expect(runs).toBe(1);
    });

    it('answers ping', async () => {
      const { queue } = await setup();
      await expect(queue.ping()).resolves.toBeUndefined();
    });
  });
}

describe.each(STORE_BACKENDS.filter((backend) => backend.available))('embedded queue recovery on $name', (backend) => {
  it('runs again a job whose process died mid-run, and one whose lease expired', async () => {
    const store = await openKeyvStore(backend.config());
    const first = createEmbeddedQueue({ store, logger: silentLogger(), tickMs: 20, visibilityTimeoutMs: 60_000 });
    let started = 0;
    first.handle('slow', async () => {
      started += 1;
      await new Promise(() => undefined); // never finishes: the "process" dies holding it
    });
    await first.start();
    await first.enqueue('slow', { n: 1 }, { jobId: 'held-job' });
    await waitFor(() => started === 1, 'first process took the job');

    // A new queue on the same data plays the restarted process.
    const second = createEmbeddedQueue({ store, logger: silentLogger(), tickMs: 20, visibilityTimeoutMs: 200 });
    const recovered: Array<{ id: string; attempt: number }> = [];
    let leaseRuns = 0;
    second.handle('slow', async (job) => {
      recovered.push({ id: job.id, attempt: job.attempt });
    });
    second.handle('stuck', async () => {
      leaseRuns += 1;
      if (leaseRuns === 1) await new Promise((resolve) => setTimeout(resolve, 1_000)); // outlives its 200 ms lease
    });
    await second.start();
    await waitFor(() => recovered.length === 1, 'held job recovered');
    expect(recovered[0]).toEqual({ id: 'held-job', attempt: 2 });

    await second.enqueue('stuck', {});
    await waitFor(() => leaseRuns >= 2, 'job handed out again after its lease expired');
    await second.stop(2_000);
    await first.close();
    await store.close();
  });
});
