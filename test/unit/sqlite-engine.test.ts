/** The embedded store's SQLite engine: group commit, read-your-committed-writes, order within a batch. */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { describe, expect, it } from 'vitest';
import { KEYV_TABLE, openSqliteEngine, statementCache } from '../../server/store/sqlite-engine.ts';
import { tempDir, waitFor } from '../helpers/backends.ts';

const schema = [`CREATE TABLE IF NOT EXISTS ${KEYV_TABLE}(key VARCHAR(512) PRIMARY KEY, value TEXT)`];

describe('SQLite engine', () => {
  it('commits concurrent writes together, and each resolved write is on disk for a new connection', async () => {
    const file = join(tempDir('engine'), 'db.sqlite');
    const engine = await openSqliteEngine(file, { synchronous: 'FULL', schema });
    await Promise.all(Array.from({ length: 300 }, (_, index) => engine.upsert(`k${index}`, `v${index}`)));
    const { commits, statements } = engine.stats();
    expect(statements).toBe(300);
    expect(commits).toBeLessThan(300); // grouped, not one commit per write
    await engine.close();

    const reopened = await openSqliteEngine(file, { synchronous: 'FULL', schema });
    const rows = await reopened.read(`SELECT count(*) AS n FROM ${KEYV_TABLE}`);
    expect(rows[0]?.n).toBe(300);
    await reopened.close();
  });

  it('keeps the order of writes to one key within a batch (set, delete, set)', async () => {
    const engine = await openSqliteEngine(join(tempDir('engine'), 'db.sqlite'), { synchronous: 'NORMAL', schema });
    const adapter = engine.adapter('sqlite://test');
    await Promise.all([
      adapter.set('a', '1'),
      adapter.delete('a'),
      adapter.set('a', '2'),
      adapter.set('b', '1'),
      adapter.delete('b'),
    ]);
    expect(await adapter.get('a')).toBe('2');
    expect(await adapter.get('b')).toBeUndefined();
    await engine.close();
  });

  it('fails a bad statement alone and commits the rest of its batch', async () => {
    const engine = await openSqliteEngine(join(tempDir('engine'), 'db.sqlite'), { synchronous: 'NORMAL', schema });
    const results = await Promise.allSettled([
      engine.upsert('good-1', 'x'),
      engine.write('INSERT INTO no_such_table VALUES (1)'),
      engine.upsert('good-2', 'y'),
    ]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const rows = await engine.read(`SELECT key FROM ${KEYV_TABLE} ORDER BY key`);
    expect(rows.map((row) => row.key)).toEqual(['good-1', 'good-2']);
    await engine.close();
  });

  it('lists a namespace in key order across pages without touching its neighbours', async () => {
    const engine = await openSqliteEngine(join(tempDir('engine'), 'db.sqlite'), { synchronous: 'NORMAL', schema });
    const adapter = engine.adapter('sqlite://test');
    await Promise.all(
      Array.from({ length: 1_234 }, (_, index) => adapter.set(`jobs:${String(index).padStart(5, '0')}`, 'x')),
    );
    await adapter.set('jobsx:1', 'neighbour');
    await adapter.set('jobs;1', 'neighbour');
    const keys: string[] = [];
    for await (const [key] of adapter.iterator('jobs')) keys.push(key);
    expect(keys).toHaveLength(1_234);
    expect(keys[0]).toBe('jobs:00000');
    expect(keys.at(-1)).toBe('jobs:01233');
    await engine.close();
  });

  it('checkpoints the WAL in the background, so it starts over instead of growing with every write', async () => {
    const file = join(tempDir('engine'), 'db.sqlite');
    const engine = await openSqliteEngine(file, { synchronous: 'NORMAL', schema, checkpointIntervalMs: 20 });
    const value = 'x'.repeat(2_000);
    let written = 0;
    for (let round = 0; round < 20; round += 1) {
      await Promise.all(Array.from({ length: 200 }, () => engine.upsert(`k${written++}`, value)));
      const before = engine.stats().checkpoints;
      await waitFor(() => engine.stats().checkpoints > before, 'a checkpoint after the round');
    }
    // 4,000 rows of 2 KB is about 8 MB of pages; without checkpoints (auto-checkpoint is off on the
    // writer) the WAL would hold all of them.
    expect(engine.stats().checkpoints).toBeGreaterThanOrEqual(20);
    expect(statSync(`${file}-wal`).size).toBeLessThan(2_000_000);
    expect(statSync(file).size).toBeGreaterThan(8_000_000);
    const rows = await engine.read(`SELECT count(*) AS n FROM ${KEYV_TABLE}`);
    expect(rows[0]?.n).toBe(4_000);
    await engine.close();
  });

  it('reuses prepared statements, keeps at most its capacity, and does not keep one that failed', async () => {
    const database = await new Promise<sqlite3.Database>((resolve, reject) => {
      const opened = new sqlite3.Database(':memory:', (error) => (error ? reject(error) : resolve(opened)));
    });
    const cache = statementCache(database, 2);
    await cache.all('CREATE TABLE t(n INTEGER)');
    await Promise.all(Array.from({ length: 50 }, (_, n) => cache.all('INSERT INTO t VALUES (?)', [n])));
    expect(await cache.all('SELECT count(*) AS c FROM t')).toEqual([{ c: 50 }]);
    expect(cache.size()).toBe(2);
    // Evicting a statement while runs are queued on it lets them finish.
    const queued = Array.from({ length: 20 }, (_, n) => cache.all('SELECT ? AS n', [n]));
    await cache.all('SELECT 1 AS one');
    await cache.all('SELECT 2 AS two');
    expect((await Promise.all(queued)).map((rows) => rows[0]?.n)).toEqual(Array.from({ length: 20 }, (_, n) => n));
    await expect(cache.all('SELECT * FROM no_such_table')).rejects.toThrow(/no such table/);
    expect(cache.size()).toBe(1); // it pushed out the oldest, then was dropped itself
    await cache.all('CREATE TABLE no_such_table(x)');
    expect(await cache.all('SELECT * FROM no_such_table')).toEqual([]);
    await cache.finalizeAll();
    await new Promise<void>((resolve) => database.close(() => resolve()));
  });
});
