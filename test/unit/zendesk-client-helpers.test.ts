import { describe, expect, it } from 'vitest';
import {
  backoffDelayMs,
  nextCursor,
  parseRetryAfter,
  resolveZendeskBaseUrl,
} from '../../integration/zendesk/client.ts';
import { htmlToPlainText } from '../../integration/zendesk/help-center.ts';
import { createRateLimiter } from '../../integration/zendesk/rate-limiter.ts';

describe('Zendesk client helpers', () => {
  it('parses Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('2', now)).toBe(2);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:05 GMT', now)).toBe(5);
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });

  it('backs off exponentially within [ceiling/2, ceiling], capped', () => {
    expect(backoffDelayMs(1, 100, 1000, () => 0)).toBe(50);
    expect(backoffDelayMs(3, 100, 1000, () => 1)).toBe(400);
    expect(backoffDelayMs(10, 100, 1000, () => 1)).toBe(1000);
  });

  it('resolves the base URL from ZENDESK_API_URL or the subdomain', () => {
    expect(resolveZendeskBaseUrl({ ZENDESK_API_URL: 'http://127.0.0.1:9999/' })).toBe('http://127.0.0.1:9999');
    expect(resolveZendeskBaseUrl({ ZENDESK_SUBDOMAIN: 'acme' })).toBe('https://acme.zendesk.com');
    expect(() => resolveZendeskBaseUrl({ ZENDESK_SUBDOMAIN: 'evil.com/x' })).toThrow(/ZENDESK/);
    expect(() => resolveZendeskBaseUrl({})).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('takes the next cursor from meta or links.next', () => {
    expect(nextCursor({ has_more: false, after_cursor: 'x' })).toBeUndefined();
    expect(nextCursor({ has_more: true, after_cursor: 'abc' })).toBe('abc');
    expect(nextCursor({ has_more: true }, { next: 'https://a.zendesk.com/api/v2/x?page[size]=2&page[after]=q1' })).toBe(
      'q1',
    );
  });

  it('converts article HTML to plain text', () => {
    expect(
      htmlToPlainText('<p>Hello&nbsp;<b>world</b> &amp; &#x263A;</p><script>x()</script><ul><li>a</li></ul>'),
    ).toBe('Hello world & ☺\n- a');
  });
});

describe('createRateLimiter', () => {
  it('lets a burst through, then spaces writes at perMinute', async () => {
    let now = 0;
    const sleeps: number[] = [];
    const limiter = createRateLimiter({
      perMinute: 60,
      burst: 2,
      now: () => now,
      sleep: async (ms) => {
        sleeps.push(ms);
        now += ms;
      },
    });
    for (let index = 0; index < 5; index++) await limiter.acquire();
    // Two from the burst, then one per second.
    expect(sleeps).toEqual([1000, 1000, 1000]);
    expect(now).toBe(3000);
  });
});
