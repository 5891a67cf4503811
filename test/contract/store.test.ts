import KeyvPostgres from '@keyv/postgres';
import sqlite3 from 'sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openKeyvStore, type StoreConfig } from '../../server/store/keyv-store.ts';
import type { Store } from '../../server/store/port.ts';
import { STORE_BACKENDS } from '../helpers/backends.ts';

for (const backend of STORE_BACKENDS) {
  describe.skipIf(!backend.available)(`store contract on ${backend.name}`, () => {
    let store: Store;
    let config: StoreConfig;
    beforeAll(async () => {
      config = backend.config();
      store = await openKeyvStore(config);
    });
    afterAll(async () => {
      await store.close();
    });

    it('answers ping', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
      expect(store.kind).toBe(backend.name);
    });

    it('sets, gets, overwrites and deletes JSON values', async () => {
      const tickets = store.namespace<{ n: number; nested: { list: string[] } }>('tickets');
      await tickets.set('a', { n: 1, nested: { list: ['x', 'ü', '🙂'] } });
      expect(await tickets.get('a')).toEqual({ n: 1, nested: { list: ['x', 'ü', '🙂'] } });
      await tickets.set('a', { n: 2, nested: { list: [] } });
      expect(await tickets.get('a')).toEqual({ n: 2, nested: { list: [] } });
      expect(await tickets.has('a')).toBe(true);
      expect(await tickets.delete('a')).toBe(true);
      expect(await tickets.get('a')).toBeUndefined();
      expect(await tickets.has('a')).toBe(false);
      expect(await tickets.delete('a')).toBe(false);
    });

    it('keeps namespaces apart', async () => {
      await store.namespace('tickets').set('same', 'ticket');
      await store.namespace('feedback').set('same', 'feedback');
      expect(await store.namespace('tickets').get('same')).toBe('ticket');
      expect(await store.namespace('feedback').get('same')).toBe('feedback');
      const feedbackKeys: string[] = [];
      for await (const [key] of store.namespace('feedback').entries()) feedbackKeys.push(key);
      expect(feedbackKeys).toEqual(['same']);
    });

    it('keeps tenants apart: one tenant never reads or lists another tenant’s keys', async () => {
      const acme = store.forTenant('acme').namespace<string>('tickets');
      const globex = store.forTenant('globex').namespace<string>('tickets');
      await acme.set('t1', 'acme-1');
      await acme.set('t2', 'acme-2');
      await globex.set('t1', 'globex-1');
      expect(await acme.get('t1')).toBe('acme-1');
      expect(await globex.get('t1')).toBe('globex-1');
      expect(await globex.get('t2')).toBeUndefined();
      const listed: Array<[string, string]> = [];
      for await (const entry of acme.entries()) listed.push(entry);
      expect(listed.sort()).toEqual([
        ['t1', 'acme-1'],
        ['t2', 'acme-2'],
      ]);
      expect(() => store.forTenant('../etc').namespace('tickets')).toThrow(/Invalid tenant id/);
    });

    it('lists every entry of a namespace, past one page', async () => {
      const jobs = store.namespace<number>('jobs');
      await Promise.all(Array.from({ length: 1_200 }, (_, index) => jobs.set(`job-${index}`, index)));
      const seen = new Set<number>();
      for await (const [, value] of jobs.entries()) seen.add(value);
      expect(seen.size).toBe(1_200);
    });

    it('expires entries after their TTL', async () => {
      const idempotency = store.namespace<string>('idempotency');
      await idempotency.set('short', 'v', 150);
      await idempotency.set('long', 'v', 60_000);
      expect(await idempotency.get('short')).toBe('v');
      expect(await idempotency.has('short')).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 400));
      // has() must agree with get(): the webhook's de-duplication asks has().
      expect(await idempotency.has('short')).toBe(false);
      expect(await idempotency.get('short')).toBeUndefined();
      expect(await idempotency.has('long')).toBe(true);
    });

    it('sweeps expired entries out of the database and keeps live ones', async () => {
      const idempotency = store.namespace<boolean>('idempotency');
      await idempotency.set('sweep-short', true, 100);
      await idempotency.set('sweep-long', true, 60_000);
      await store.namespace('tickets').set('sweep-no-ttl', true);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const stored = (key: string) => rowsInDatabase(config, `${config.prefix ?? ''}idempotency:${key}`);
      // Redis expires keys itself; the SQL databases keep them until swept.
      if (config.kind !== 'redis') expect(await stored('sweep-short')).toBe(1);
      expect(await store.sweepExpired()).toBeGreaterThanOrEqual(config.kind === 'redis' ? 0 : 1);
      if (config.kind !== 'redis') {
        expect(await stored('sweep-short')).toBe(0);
        expect(await stored('sweep-long')).toBe(1);
      }
      expect(await idempotency.has('sweep-long')).toBe(true);
      expect(await store.namespace('tickets').get('sweep-no-ttl')).toBe(true);
    });

    it('claims a key exactly once, even under concurrent claims, and again after it expires', async () => {
      const idempotency = store.namespace('idempotency');
      const results = await Promise.all(Array.from({ length: 20 }, () => idempotency.claim('delivery-1', 300)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await idempotency.claim('delivery-2', 10_000)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 450));
      expect(await idempotency.claim('delivery-1', 300)).toBe(true);
      expect(await idempotency.claim('delivery-2', 10_000)).toBe(false);
      // Tenant views claim in their own key space.
      expect(await store.forTenant('acme').namespace('idempotency').claim('delivery-2', 10_000)).toBe(true);
    });
  });
}

describe('store errors', () => {
  it('reports an unreachable database as STORE_UNAVAILABLE without leaking the URL password', async () => {
    const store = await openKeyvStore({ kind: 'postgres', url: 'postgres://user:hunter2secret@127.0.0.1:1/db' });
    const failure = await store.ping().catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(String((failure as Error).message)).not.toContain('hunter2secret');
    await store.close().catch(() => undefined);
  });
});

/** Rows of the keyv table with this key, read straight from the database. */
async function rowsInDatabase(config: StoreConfig, key: string): Promise<number> {
  if (config.kind === 'sqlite') {
    const database = await new Promise<sqlite3.Database>((resolve, reject) => {
      const opened = new sqlite3.Database(config.file, (error) => (error ? reject(error) : resolve(opened)));
    });
    const rows = await new Promise<Array<{ n: number }>>((resolve, reject) => {
      database.all(
        'SELECT count(*) AS n FROM keyv WHERE key = ?',
        [key],
        (error: Error | null, found: Array<{ n: number }>) => (error ? reject(error) : resolve(found)),
      );
    });
    await new Promise<void>((resolve) => database.close(() => resolve()));
    return rows[0]?.n ?? 0;
  }
  if (config.kind === 'postgres') {
    // @keyv/postgres shares one pool per URL with the store under test: the store's close ends it.
    const postgres = new KeyvPostgres({ uri: config.url, table: 'keyv' });
    const query = postgres.query as unknown as (sql: string, values: unknown[]) => Promise<Array<{ n: string }>>;
    const rows = await query('SELECT count(*) AS n FROM keyv WHERE key = $1', [key]);
    return Number(rows[0]?.n ?? 0);
  }
  throw new Error('Redis keeps no rows to count');
}
