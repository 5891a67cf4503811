/**
 * The embedded store's SQLite engine: one writer connection with group commit, one reader
 * connection, WAL. Every write waits for the transaction that carries it to commit (with
 * synchronous=FULL that means synced to disk), so a resolved write survives a crash; writes that
 * arrive while a commit is in flight ride together in the next transaction, so one disk sync
 * serves many of them. A single writer never waits on SQLite's busy handler, which sleeps in
 * steps of up to 100 ms when several connections compete for the write lock.
 *
 * It also provides the keyv storage adapters of the embedded store (one per namespace, all on
 * the same connections), reading and writing the `keyv(key, value)` table that @keyv/sqlite uses.
 */
import { EventEmitter } from 'node:events';
import sqlite3 from 'sqlite3';

type Row = Record<string, unknown>;

interface PendingWrite {
  /** An upsert of one keyv row; consecutive upserts in a batch become one multi-row statement. */
  upsert?: { key: string; value: string };
  sql: string;
  parameters: unknown[];
  resolve: (rows: Row[]) => void;
  reject: (error: unknown) => void;
}

const UPSERT_TAIL = 'ON CONFLICT(key) DO UPDATE SET value = excluded.value';

/** Largest number of statements in one transaction: keeps a commit short under a burst. */
const MAX_BATCH = 500;
const PAGE_SIZE = 500;
export const KEYV_TABLE = 'keyv';

function open(file: string): Promise<sqlite3.Database> {
  return new Promise((resolve, reject) => {
    const database = new sqlite3.Database(file, (error) => (error ? reject(error) : resolve(database)));
  });
}

function runPrepared(statement: sqlite3.Statement, parameters: unknown[]): Promise<Row[]> {
  return new Promise((resolve, reject) => {
    statement.all(parameters, (error: Error | null, rows: Row[]) => (error ? reject(error) : resolve(rows)));
  });
}

/**
 * Prepared statements of one connection, by SQL text. `Database#all(sql)` prepares, runs and
 * finalizes a statement each call: three trips through the thread pool instead of one. At most
 * `capacity` are kept (the least recently used is finalized); a statement that fails to prepare is
 * not kept.
 */
export function statementCache(database: sqlite3.Database, capacity = 64) {
  const statements = new Map<string, Promise<sqlite3.Statement>>();
  function prepare(sql: string): Promise<sqlite3.Statement> {
    const cached = statements.get(sql);
    if (cached !== undefined) {
      statements.delete(sql);
      statements.set(sql, cached);
      return cached;
    }
    const prepared = new Promise<sqlite3.Statement>((resolve, reject) => {
      const statement: sqlite3.Statement = database.prepare(sql, (error: Error | null) =>
        error ? reject(error) : resolve(statement),
      );
    });
    prepared.catch(() => statements.delete(sql));
    statements.set(sql, prepared);
    if (statements.size > capacity) {
      const [oldestSql, oldest] = statements.entries().next().value as [string, Promise<sqlite3.Statement>];
      statements.delete(oldestSql);
      // Finalize waits for the statement's queued runs, so one still in use completes first.
      oldest.then((statement) => statement.finalize()).catch(() => undefined);
    }
    return prepared;
  }
  return {
    all: async (sql: string, parameters: unknown[] = []) => runPrepared(await prepare(sql), parameters),
    size: () => statements.size,
    async finalizeAll(): Promise<void> {
      const pending = [...statements.values()];
      statements.clear();
      await Promise.all(
        pending.map((prepared) =>
          prepared
            .then((statement) => new Promise<void>((resolve) => statement.finalize(() => resolve())))
            .catch(() => undefined),
        ),
      );
    },
  };
}

function exec(database: sqlite3.Database, sql: string): Promise<void> {
  return new Promise((resolve, reject) => {
    database.exec(sql, (error: Error | null) => (error ? reject(error) : resolve()));
  });
}

export interface SqliteEngine {
  /** Queued into the next group commit; resolves with the statement's rows once committed. */
  write(sql: string, parameters?: unknown[]): Promise<Row[]>;
  /** Sets one row of the keyv table, in the next group commit. */
  upsert(key: string, value: string): Promise<void>;
  /** Reads committed data on the reader connection. */
  read(sql: string, parameters?: unknown[]): Promise<Row[]>;
  adapter(file: string): SqliteKeyvAdapter;
  close(): Promise<void>;
  /** Transactions committed, statements written and WAL checkpoints run so far (diagnostics, tests). */
  stats(): { commits: number; statements: number; checkpoints: number };
}

/** How often the background connection checkpoints the WAL into the database file. */
export const CHECKPOINT_INTERVAL_MS = 1_000;
/** WAL length (pages of 4 KB) past which a checkpoint makes the WAL start over: about 128 MB. */
const WAL_RESTART_PAGES = 32_768;

export async function openSqliteEngine(
  file: string,
  options: {
    synchronous: 'FULL' | 'NORMAL';
    busyTimeoutMs?: number;
    schema: string[];
    checkpointIntervalMs?: number;
  },
): Promise<SqliteEngine> {
  const writer = await open(file);
  const busyTimeout = options.busyTimeoutMs ?? 10_000;
  writer.configure('busyTimeout', busyTimeout);
  await exec(writer, 'PRAGMA journal_mode=WAL');
  await exec(writer, `PRAGMA synchronous=${options.synchronous}`);
  for (const statement of options.schema) await exec(writer, statement);
  // An in-memory database is private to its connection: reads must use the writer.
  const inMemory = file === ':memory:';
  const reader = inMemory ? writer : await open(file);
  if (reader !== writer) reader.configure('busyTimeout', busyTimeout);

  // Checkpoints run on a connection of their own. Left to the writer, SQLite checkpoints inside
  // the commit that crosses 1,000 WAL pages: that commit, and every write waiting for the next
  // one, stalled for up to 100 ms under load. A PASSIVE checkpoint never blocks the writer; the
  // WAL is reused from its start once a checkpoint has caught up.
  let checkpoints = 0;
  let checkpointer: sqlite3.Database | undefined;
  let checkpointTimer: NodeJS.Timeout | undefined;
  let checkpointRunning: Promise<void> | undefined;
  if (!inMemory) {
    await exec(writer, 'PRAGMA wal_autocheckpoint=0');
    const background = await open(file);
    background.configure('busyTimeout', busyTimeout);
    await exec(background, `PRAGMA synchronous=${options.synchronous}`);
    checkpointer = background;
    const checkpoint = (mode: 'PASSIVE' | 'RESTART') =>
      new Promise<Row[]>((resolve, reject) => {
        background.all(`PRAGMA wal_checkpoint(${mode})`, (error: Error | null, rows: Row[]) =>
          error ? reject(error) : resolve(rows),
        );
      });
    checkpointTimer = setInterval(() => {
      if (checkpointRunning !== undefined) return;
      checkpointRunning = checkpoint('PASSIVE')
        .then(async (rows) => {
          checkpoints += 1;
          // Under a write load with no pause the WAL cannot restart from its start and grows;
          // past the limit one RESTART checkpoint (it holds writers back briefly) bounds it.
          if (Number(rows[0]?.log ?? 0) > WAL_RESTART_PAGES) await checkpoint('RESTART');
        })
        // A failed checkpoint only leaves the WAL longer; the next tick tries again.
        .catch(() => undefined)
        .finally(() => {
          checkpointRunning = undefined;
        });
    }, options.checkpointIntervalMs ?? CHECKPOINT_INTERVAL_MS);
    checkpointTimer.unref();
  }
  const writerStatements = statementCache(writer);
  const readerStatements = reader === writer ? writerStatements : statementCache(reader);

  let pending: PendingWrite[] = [];
  let committing = false;
  let commits = 0;
  let statements = 0;

  async function flush(): Promise<void> {
    if (committing || pending.length === 0) return;
    committing = true;
    const batch = pending.slice(0, MAX_BATCH);
    pending = pending.slice(batch.length);
    const outcomes: Array<{ rows: Row[] } | { error: unknown }> = [];
    try {
      await exec(writer, 'BEGIN IMMEDIATE');
      // Each statement is a round trip through the event loop; a busy loop makes them slow, so
      // runs of upserts go as one statement. Order is kept: a delete between two sets stays between.
      for (let index = 0; index < batch.length; ) {
        const write = batch[index]!;
        if (write.upsert === undefined) {
          // A failing statement (a constraint, say) fails alone; the rest of the batch commits.
          outcomes.push(
            await writerStatements.all(write.sql, write.parameters).then(
              (rows) => ({ rows }),
              (error) => ({ error }),
            ),
          );
          index += 1;
          continue;
        }
        let end = index;
        while (end < batch.length && batch[end]!.upsert !== undefined) end += 1;
        const run = batch.slice(index, end);
        const sql = `INSERT INTO ${KEYV_TABLE}(key, value) VALUES ${run.map(() => '(?, ?)').join(', ')} ${UPSERT_TAIL}`;
        const outcome = await writerStatements
          .all(
            sql,
            run.flatMap((item) => [item.upsert!.key, item.upsert!.value]),
          )
          .then(
            (rows) => ({ rows }),
            (error) => ({ error }),
          );
        for (let count = 0; count < run.length; count += 1) outcomes.push('rows' in outcome ? { rows: [] } : outcome);
        index = end;
      }
      await exec(writer, 'COMMIT');
      commits += 1;
      statements += batch.length;
      batch.forEach((write, index) => {
        const outcome = outcomes[index]!;
        if ('rows' in outcome) write.resolve(outcome.rows);
        else write.reject(outcome.error);
      });
    } catch (error) {
      await exec(writer, 'ROLLBACK').catch(() => undefined);
      for (const write of batch) write.reject(error);
    } finally {
      committing = false;
      if (pending.length > 0) void flush();
    }
  }

  const engine: SqliteEngine = {
    write(sql, parameters = []) {
      return new Promise((resolve, reject) => {
        pending.push({ sql, parameters, resolve, reject });
        // Writes issued in the same turn of the event loop share one transaction.
        if (pending.length === 1) setImmediate(() => void flush());
      });
    },
    upsert(key, value) {
      return new Promise((resolve, reject) => {
        pending.push({ upsert: { key, value }, sql: '', parameters: [], resolve: () => resolve(), reject });
        if (pending.length === 1) setImmediate(() => void flush());
      });
    },
    read: (sql, parameters = []) => readerStatements.all(sql, parameters),
    adapter: (url) => new SqliteKeyvAdapter(engine, url),
    async close() {
      while (committing || pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 5));
      const closeOne = (database: sqlite3.Database) => new Promise<void>((resolve) => database.close(() => resolve()));
      if (checkpointTimer) clearInterval(checkpointTimer);
      await checkpointRunning;
      await writerStatements.finalizeAll();
      if (readerStatements !== writerStatements) await readerStatements.finalizeAll();
      if (checkpointer) await closeOne(checkpointer);
      if (reader !== writer) await closeOne(reader);
      await closeOne(writer);
    },
    stats: () => ({ commits, statements, checkpoints }),
  };
  return engine;
}

/**
 * A keyv storage adapter over the shared engine. Keyv prefixes keys with `${namespace}:` and
 * stores serialised values with their expiry; this adapter only stores and finds them.
 */
export class SqliteKeyvAdapter extends EventEmitter {
  /** keyv reads `opts.dialect` to know the adapter can list its keys. */
  readonly opts: { dialect: 'sqlite'; url: string };
  readonly ttlSupport = false;
  namespace?: string;
  readonly #engine: SqliteEngine;

  constructor(engine: SqliteEngine, url: string) {
    super();
    this.#engine = engine;
    this.opts = { dialect: 'sqlite', url };
  }

  async get(key: string): Promise<string | undefined> {
    const rows = await this.#engine.read(`SELECT value FROM ${KEYV_TABLE} WHERE key = ?`, [key]);
    return rows[0]?.value as string | undefined;
  }

  async getMany(keys: string[]): Promise<Array<string | undefined>> {
    const rows = await this.#engine.read(
      `SELECT key, value FROM ${KEYV_TABLE} WHERE key IN (SELECT value FROM json_each(?))`,
      [JSON.stringify(keys)],
    );
    const byKey = new Map(rows.map((row) => [row.key as string, row.value as string]));
    return keys.map((key) => byKey.get(key));
  }

  async set(key: string, value: string): Promise<boolean> {
    await this.#engine.upsert(key, value);
    return true;
  }

  async delete(key: string): Promise<boolean> {
    const rows = await this.#engine.write(`DELETE FROM ${KEYV_TABLE} WHERE key = ? RETURNING key`, [key]);
    return rows.length > 0;
  }

  async deleteMany(keys: string[]): Promise<boolean> {
    const rows = await this.#engine.write(
      `DELETE FROM ${KEYV_TABLE} WHERE key IN (SELECT value FROM json_each(?)) RETURNING key`,
      [JSON.stringify(keys)],
    );
    return rows.length > 0;
  }

  async has(key: string): Promise<boolean> {
    const rows = await this.#engine.read(`SELECT 1 AS found FROM ${KEYV_TABLE} WHERE key = ?`, [key]);
    return rows.length > 0;
  }

  async clear(): Promise<void> {
    const [low, high] = prefixRange(this.namespace);
    await this.#engine.write(`DELETE FROM ${KEYV_TABLE} WHERE key >= ? AND key < ?`, [low, high]);
  }

  /** Keys of one namespace in key order, a page at a time (keyset pagination, not OFFSET). */
  async *iterator(namespace?: string): AsyncGenerator<[string, string]> {
    const [low, high] = prefixRange(namespace);
    let after: string | undefined;
    for (;;) {
      const rows =
        after === undefined
          ? await this.#engine.read(
              `SELECT key, value FROM ${KEYV_TABLE} WHERE key >= ? AND key < ? ORDER BY key LIMIT ?`,
              [low, high, PAGE_SIZE],
            )
          : await this.#engine.read(
              `SELECT key, value FROM ${KEYV_TABLE} WHERE key > ? AND key < ? ORDER BY key LIMIT ?`,
              [after, high, PAGE_SIZE],
            );
      for (const row of rows) yield [row.key as string, row.value as string];
      if (rows.length < PAGE_SIZE) return;
      after = rows.at(-1)!.key as string;
    }
  }

  async disconnect(): Promise<void> {
    // The connections belong to the engine, closed with the store.
  }
}

/** [low, high) covering every key that starts with `${namespace}:` (everything without a namespace). */
function prefixRange(namespace: string | undefined): [string, string] {
  if (namespace === undefined || namespace === '') return ['', '\u{10FFFF}'];
  return [`${namespace}:`, `${namespace};`]; // ';' is the character after ':'
}
