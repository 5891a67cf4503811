/**
 * A per-tenant limiter for ticket writes. Zendesk limits ticket updates per account (about 100
 * per minute, PLATFORM.md); staying below that keeps 429s the exception rather than the rule.
 * Token bucket: `perMinute` tokens refilled continuously, bursts up to `burst`.
 */
export interface RateLimiter {
  /** Resolves when the caller may send one write. */
  acquire(): Promise<void>;
}

export interface RateLimiterOptions {
  perMinute: number;
  burst?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_TICKET_WRITES_PER_MINUTE = 90;

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const perMinute = options.perMinute;
  if (!(perMinute > 0)) throw new RangeError('perMinute must be positive');
  const burst = Math.max(1, options.burst ?? Math.ceil(perMinute / 6));
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const msPerToken = 60_000 / perMinute;
  let tokens = burst;
  let refilledAt = now();
  // Callers queue in order so a burst of writes cannot starve an earlier one.
  let tail: Promise<void> = Promise.resolve();

  function refill() {
    const at = now();
    tokens = Math.min(burst, tokens + (at - refilledAt) / msPerToken);
    refilledAt = at;
  }

  async function takeOne() {
    refill();
    while (tokens < 1) {
      await sleep(Math.ceil((1 - tokens) * msPerToken));
      refill();
    }
    tokens -= 1;
  }

  return {
    acquire() {
      const turn = tail.then(takeOne);
      tail = turn.catch(() => undefined);
      return turn;
    },
  };
}

/** One limiter per tenant, created on first use. */
export function createTenantRateLimiters(options: RateLimiterOptions) {
  const limiters = new Map<string, RateLimiter>();
  return {
    forTenant(tenantId: string): RateLimiter {
      let limiter = limiters.get(tenantId);
      if (!limiter) {
        limiter = createRateLimiter(options);
        limiters.set(tenantId, limiter);
      }
      return limiter;
    },
  };
}
