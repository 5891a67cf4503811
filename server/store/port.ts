/**
 * The store port: namespaced key-value data, everything keyed by tenant where it belongs to one.
 * The pipeline sees only this; whether SQLite, PostgreSQL or Redis sits behind it is wiring.
 */

export const NAMESPACES = [
  'tenants',
  'tickets',
  'jobs',
  'idempotency',
  'feedback',
  'knowledge',
  'models',
  'effects',
  'cache',
] as const;
export type Namespace = (typeof NAMESPACES)[number];

/** Namespaces whose entries carry TTLs (webhook invocation ids for a day, LLM classifications for a week). */
export const EXPIRING_NAMESPACES: readonly Namespace[] = ['idempotency', 'cache'];

export interface KeyValue<T = unknown> {
  get(key: string): Promise<T | undefined>;
  /** ttlMs: the entry disappears after this many milliseconds. */
  set(key: string, value: T, ttlMs?: number): Promise<void>;
  delete(key: string): Promise<boolean>;
  has(key: string): Promise<boolean>;
  /** All live entries of this namespace (and tenant, for tenant views). Order is unspecified. */
  entries(): AsyncIterable<[string, T]>;
  /**
   * Atomically creates the key when it is absent (or expired) and reports whether this call
   * created it. Safe across processes. Claims live in their own key space: get/has/entries do
   * not see them.
   */
  claim(key: string, ttlMs: number): Promise<boolean>;
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres' | 'redis';
  namespace<T = unknown>(name: Namespace): KeyValue<T>;
  /** A view whose keys all belong to one tenant; one tenant's view never sees another's keys. */
  forTenant(tenantId: string): { namespace<T = unknown>(name: Namespace): KeyValue<T> };
  /**
   * Removes entries whose TTL has passed from the namespaces that use TTLs (the databases keep them
   * until then: SQLite and PostgreSQL have no expiry of their own). Returns the live entries seen.
   */
  sweepExpired(): Promise<number>;
  /** Resolves when the backing database answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,99}$/i;

export function assertTenantId(tenantId: string): void {
  if (!TENANT_ID_PATTERN.test(tenantId)) {
    throw new Error(`Invalid tenant id "${tenantId.slice(0, 40)}": letters, digits, '.', '_' and '-' only`);
  }
}

/** Prefixes every key with the tenant id; iteration only yields that tenant's keys. */
export function tenantView<T>(inner: KeyValue<T>, tenantId: string): KeyValue<T> {
  assertTenantId(tenantId);
  const prefix = `${tenantId}/`;
  return {
    get: (key) => inner.get(prefix + key),
    set: (key, value, ttlMs) => inner.set(prefix + key, value, ttlMs),
    delete: (key) => inner.delete(prefix + key),
    has: (key) => inner.has(prefix + key),
    claim: (key, ttlMs) => inner.claim(prefix + key, ttlMs),
    async *entries() {
      for await (const [key, value] of inner.entries()) {
        if (key.startsWith(prefix)) yield [key.slice(prefix.length), value];
      }
    },
  };
}
