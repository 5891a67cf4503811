/** The scheduled sweep of expired entries on the embedded store. */
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { describe, expect, it } from 'vitest';
import { openKeyvStore } from '../../server/store/keyv-store.ts';
import { scheduleExpirySweep } from '../../server/store/sweep.ts';
import { tempDir, waitFor } from '../helpers/backends.ts';
import { silentLogger } from '../helpers/logger.ts';

function countRows(file: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const database = new sqlite3.Database(file, (openError) => {
      if (openError) return reject(openError);
      database.all(
        "SELECT count(*) AS n FROM keyv WHERE key LIKE 'idempotency:%'",
        (error: Error | null, rows: Array<{ n: number }>) => {
          database.close(() => (error ? reject(error) : resolve(rows[0]?.n ?? 0)));
        },
      );
    });
  });
}

describe('expiry sweep', () => {
  it('removes expired rows on its schedule, keeps live ones, and stops when told', async () => {
    const file = join(tempDir('sweep'), 'store.sqlite');
    const store = await openKeyvStore({ kind: 'sqlite', file, synchronous: 'NORMAL' });
    const idempotency = store.namespace<boolean>('idempotency');
    await Promise.all(Array.from({ length: 30 }, (_, n) => idempotency.set(`old-${n}`, true, 50)));
    await idempotency.set('fresh', true, 60_000);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await countRows(file)).toBe(31);

    const sweep = scheduleExpirySweep(store, silentLogger(), { firstDelayMs: 10, intervalMs: 60_000 });
    await waitFor(async () => (await countRows(file)) === 1, 'expired rows swept');
    expect(await idempotency.has('fresh')).toBe(true);

    sweep.stop();
    await idempotency.set('later', true, 20);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await countRows(file)).toBe(2); // no sweep ran after stop
    await sweep.sweepNow();
    expect(await countRows(file)).toBe(1);
    await store.close();
  });
});
