/**
 * The store on keyv: one Keyv (and one adapter) per namespace, because keyv adapters carry their
 * namespace as mutable state and must not be shared between namespaces. keyv has no atomic
 * insert-if-absent, so `claim` talks to the backing database directly (INSERT .. ON CONFLICT on
 * SQL, SET NX on Redis).
 *
 * PostgreSQL and Redis use the @keyv adapters. SQLite uses our own adapter (sqlite-engine.ts) on
 * the same table layout as @keyv/sqlite: @keyv/sqlite opens one connection per adapter and writes
 * one autocommit at a time, which managed about 150 durable writes a second here; a single writer
 * with group commit keeps every write durable at far higher rates.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type KeyvPostgresType from '@keyv/postgres';
import type KeyvRedisType from '@keyv/redis';
import Keyv from 'keyv';
import { AppError } from '../errors.ts';
import { EXPIRING_NAMESPACES, type KeyValue, NAMESPACES, type Namespace, type Store, tenantView } from './port.ts';
import { KEYV_TABLE, openSqliteEngine, type SqliteEngine } from './sqlite-engine.ts';

export type StoreConfig = (
  | { kind: 'sqlite'; file: string; synchronous?: 'FULL' | 'NORMAL' }
  | { kind: 'postgres'; url: string }
  | { kind: 'redis'; url: string }
) & {
  /** Prepended to every namespace, so several deployments (or test runs) can share one database. */
  prefix?: string;
};

interface Backend {
  /** Runs before the store is handed out, while no adapter connection exists yet. */
  init(): Promise<void>;
  createAdapter(namespace: Namespace): unknown;
  claim(key: string, ttlMs: number): Promise<boolean>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

const KEY_SIZE = 512;
const CLAIMS_TABLE = 'support_agent_claims';

function sqliteBackend(engine: SqliteEngine, file: string): Backend {
  return {
    init: async () => undefined,
    createAdapter: () => engine.adapter(`sqlite://${file}`),
    async claim(key, ttlMs) {
      const now = Date.now();
      const rows = await engine.write(
        `INSERT INTO ${CLAIMS_TABLE}(key, expires_at) VALUES(?, ?)
         ON CONFLICT(key) DO UPDATE SET expires_at = excluded.expires_at WHERE ${CLAIMS_TABLE}.expires_at <= ?
         RETURNING key`,
        [key, now + ttlMs, now],
      );
      return rows.length === 1;
    },
    async ping() {
      await engine.read('SELECT 1');
    },
    close: () => engine.close(),
  };
}

function postgresBackend(KeyvPostgres: typeof KeyvPostgresType, url: string): Backend {
  const adapters: KeyvPostgresType[] = [];
  const control = new KeyvPostgres({ uri: url, table: 'keyv', keySize: KEY_SIZE });
  const controlQuery = (sql: string, values?: unknown[]) =>
    (control.query as unknown as (sql: string, values?: unknown[]) => Promise<Array<Record<string, unknown>>>)(
      sql,
      values,
    );
  let ready: Promise<unknown> | undefined;
  const init = async () => {
    ready ??= controlQuery(
      `CREATE TABLE IF NOT EXISTS ${CLAIMS_TABLE}(key VARCHAR(${KEY_SIZE}) PRIMARY KEY, expires_at BIGINT NOT NULL)`,
    ).catch((error: unknown) => {
      ready = undefined; // let the next call try again
      throw error;
    });
    await ready;
  };
  return {
    init,
    createAdapter() {
      const adapter = new KeyvPostgres({ uri: url, table: 'keyv', keySize: KEY_SIZE, iterationLimit: 500 });
      adapters.push(adapter);
      return adapter;
    },
    async claim(key, ttlMs) {
      await init();
      const now = Date.now();
      const rows = await controlQuery(
        `INSERT INTO ${CLAIMS_TABLE}(key, expires_at) VALUES($1, $2)
         ON CONFLICT(key) DO UPDATE SET expires_at = excluded.expires_at WHERE ${CLAIMS_TABLE}.expires_at <= $3
         RETURNING key`,
        [key, now + ttlMs, now],
      );
      return rows.length === 1;
    },
    async ping() {
      await init();
      await controlQuery('SELECT 1');
    },
    async close() {
      // @keyv/postgres shares one pg pool per URL; disconnecting the control adapter ends it.
      await control.disconnect();
    },
  };
}

function redisBackend(KeyvRedis: typeof KeyvRedisType, url: string): Backend {
  const adapters: KeyvRedisType<unknown>[] = [];
  const control = new KeyvRedis(url, { throwOnConnectError: true, connectionTimeout: 5_000 });
  return {
    init: async () => undefined,
    createAdapter() {
      const adapter = new KeyvRedis(url, { throwOnConnectError: true, connectionTimeout: 5_000 });
      adapters.push(adapter);
      return adapter;
    },
    async claim(key, ttlMs) {
      const client = await control.getClient();
      const result = await (
        client as unknown as { set(k: string, v: string, o: { NX: true; PX: number }): Promise<string | null> }
      ).set(`claim::${key}`, '1', { NX: true, PX: ttlMs });
      return result === 'OK';
    },
    async ping() {
      const client = await control.getClient();
      await (client as unknown as { ping(): Promise<string> }).ping();
    },
    async close() {
      await Promise.allSettled(adapters.map((adapter) => adapter.disconnect()));
      await control.disconnect();
    },
  };
}

function keyvNamespace<T>(keyv: Keyv<T>, claim: (key: string, ttlMs: number) => Promise<boolean>): KeyValue<T> {
  return {
    get: (key) => keyv.get(key),
    async set(key, value, ttlMs) {
      const ok = await keyv.set(key, value, ttlMs);
      if (ok === false) throw new AppError('STORE_UNAVAILABLE', 'The store did not accept a write');
    },
    delete: (key) => keyv.delete(key),
    // Not keyv.has: with an adapter that has its own `has` (SQLite, PostgreSQL) keyv skips the expiry
    // check, so an expired entry still counted. get() checks it (and removes the expired entry).
    has: async (key) => (await keyv.get(key)) !== undefined,
    claim,
    async *entries() {
      if (keyv.iterator === undefined) throw new AppError('INTERNAL', 'This store cannot list entries');
      for await (const [key, value] of keyv.iterator(keyv.namespace)) {
        if (value !== undefined) yield [String(key), value as T];
      }
    },
  };
}

async function openSqlite(file: string, synchronous: 'FULL' | 'NORMAL'): Promise<SqliteEngine> {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  return openSqliteEngine(file, {
    synchronous,
    schema: [
      `CREATE TABLE IF NOT EXISTS ${KEYV_TABLE}(key VARCHAR(${KEY_SIZE}) PRIMARY KEY, value TEXT)`,
      `CREATE TABLE IF NOT EXISTS ${CLAIMS_TABLE}(key VARCHAR(${KEY_SIZE}) PRIMARY KEY, expires_at INTEGER NOT NULL)`,
    ],
  });
}

/**
 * Opens the store. The PostgreSQL and Redis adapters are loaded only when chosen, which keeps
 * the embedded default's start-up fast.
 */
export async function openKeyvStore(config: StoreConfig): Promise<Store> {
  const backend =
    config.kind === 'sqlite'
      ? sqliteBackend(await openSqlite(config.file, config.synchronous ?? 'FULL'), config.file)
      : config.kind === 'postgres'
        ? postgresBackend((await import('@keyv/postgres')).default, config.url)
        : redisBackend((await import('@keyv/redis')).default, config.url);
  return storeOnBackend(config, backend);
}

function storeOnBackend(config: StoreConfig, backend: Backend): Store {
  const prefix = config.prefix ?? '';
  if (!/^[a-z0-9]*$/.test(prefix))
    throw new AppError('CONFIG_INVALID', 'The store prefix must be lowercase letters and digits');
  const namespaces = new Map<Namespace, KeyValue<unknown>>();

  function namespace<T>(name: Namespace): KeyValue<T> {
    if (!NAMESPACES.includes(name)) throw new AppError('INTERNAL', `Unknown store namespace "${name}"`);
    let kv = namespaces.get(name);
    if (kv === undefined) {
      const keyv = new Keyv<unknown>({ store: backend.createAdapter(name) as never, namespace: `${prefix}${name}` });
      // Without a listener keyv's EventEmitter would throw on adapter errors; the failing call
      // still rejects, which is where callers learn about it (nothing is kept here).
      keyv.on('error', () => undefined);
      kv = keyvNamespace(keyv, (key, ttlMs) => backend.claim(`${prefix}${name}:${key}`, ttlMs));
      namespaces.set(name, kv);
    }
    return kv as KeyValue<T>;
  }

  return {
    kind: config.kind,
    namespace,
    forTenant(tenantId) {
      return { namespace: <T>(name: Namespace) => tenantView(namespace<T>(name), tenantId) };
    },
    async ping() {
      try {
        await backend.ping();
      } catch (error) {
        throw new AppError('STORE_UNAVAILABLE', `The ${config.kind} store is not reachable`, { cause: error });
      }
    },
    async sweepExpired() {
      // Redis expires keys itself. Elsewhere keyv's iterator deletes each expired entry it meets,
      // one write at a time, so a sweep never holds the writer for long.
      if (config.kind === 'redis') return 0;
      let live = 0;
      for (const name of EXPIRING_NAMESPACES) for await (const _entry of namespace(name).entries()) live += 1;
      return live;
    },
    close: () => backend.close(),
  };
}
