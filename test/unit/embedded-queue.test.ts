/** Embedded queue specifics: a delayed job never blocks due ones; a large backlog drains first come, first served. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEmbeddedQueue } from '../../server/queue/embedded.ts';
import { openKeyvStore } from '../../server/store/keyv-store.ts';
import { tempDir, waitFor } from '../helpers/backends.ts';
import { silentLogger } from '../helpers/logger.ts';

describe('embedded queue', () => {
  it('runs due jobs past a delayed one, and a 2,000-job backlog in arrival order', async () => {
    const store = await openKeyvStore({
      kind: 'sqlite',
      file: join(tempDir('queue'), 'q.sqlite'),
      synchronous: 'NORMAL',
    });
    const queue = createEmbeddedQueue({ store, logger: silentLogger(), tickMs: 20 });
    const order: number[] = [];
    queue.handle<{ n: number }>('work', async (job) => {
      order.push(job.payload.n);
    });
    await queue.enqueue('work', { n: -1 }, { delayMs: 60_000 });
    for (let n = 0; n < 2_000; n += 1) await queue.enqueue('work', { n });
    await queue.start({ concurrency: 1 });
    await waitFor(() => order.length === 2_000, 'backlog drained', 60_000);
    expect(order).toEqual(Array.from({ length: 2_000 }, (_, n) => n));
    // The last handler has returned, but its job is removed from the store only after that.
    await waitFor(async () => (await queue.counts()).active === 0, 'last job acknowledged');
    expect(await queue.counts()).toEqual({ waiting: 1, active: 0, dead: 0 });
    await queue.stop(1_000);
    await store.close();
  });
});
