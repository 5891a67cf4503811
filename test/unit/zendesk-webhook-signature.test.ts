import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  signZendeskPayload,
  verifyZendeskSignature,
  ZENDESK_STATIC_TEST_SECRET,
} from '../../integration/zendesk/webhook-signature.ts';

const secret = 'whsec-example-signing-secret';
const timestamp = '2025-03-25T05:09:27Z';
const now = Date.parse(timestamp) + 10_000;
const rawBody = Buffer.from('{"ticket_id": "42",  "event":"ticket_created"}');
const signature = signZendeskPayload(rawBody, timestamp, secret);

function verify(overrides: Partial<Parameters<typeof verifyZendeskSignature>[0]> = {}) {
  return verifyZendeskSignature({ rawBody, signature, timestamp, secret, now, ...overrides });
}

describe('verifyZendeskSignature', () => {
  it('accepts base64(HMAC-SHA256(secret, timestamp + raw body))', () => {
    // Computed independently of signZendeskPayload, from the documented recipe.
    const expected = createHmac('sha256', secret)
      .update(Buffer.concat([Buffer.from(timestamp), rawBody]))
      .digest('base64');
    expect(signature).toBe(expected);
    expect(verify()).toEqual({ ok: true });
  });

  it('accepts the static test secret like any other', () => {
    const signed = signZendeskPayload(rawBody, timestamp, ZENDESK_STATIC_TEST_SECRET);
    expect(verify({ signature: signed, secret: ZENDESK_STATIC_TEST_SECRET })).toEqual({ ok: true });
    // The secret is used as-is, not base64-decoded first.
    const decodedKey = Buffer.from(ZENDESK_STATIC_TEST_SECRET, 'base64');
    const wrong = createHmac('sha256', decodedKey).update(timestamp).update(rawBody).digest('base64');
    expect(verify({ signature: wrong, secret: ZENDESK_STATIC_TEST_SECRET })).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('rejects a tampered body', () => {
    expect(verify({ rawBody: Buffer.from('{"ticket_id": "43",  "event":"ticket_created"}') })).toEqual({
      ok: false,
      reason: 'mismatch',
    });
  });

  it('rejects a wrong secret', () => {
    expect(verify({ secret: 'another-secret' })).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('rejects hex instead of base64', () => {
    const hex = createHmac('sha256', secret).update(timestamp).update(rawBody).digest('hex');
    expect(verify({ signature: hex }).ok).toBe(false);
  });

  it('rejects a "." between timestamp and body', () => {
    const dotted = createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('base64');
    expect(verify({ signature: dotted })).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('rejects a timestamp older than 5 minutes and one too far in the future', () => {
    const old = '2025-03-25T04:59:00Z';
    expect(verify({ timestamp: old, signature: signZendeskPayload(rawBody, old, secret) })).toEqual({
      ok: false,
      reason: 'stale',
    });
    const future = '2025-03-25T05:20:00Z';
    expect(verify({ timestamp: future, signature: signZendeskPayload(rawBody, future, secret) })).toEqual({
      ok: false,
      reason: 'stale',
    });
    // Small skew is tolerated.
    const ahead = '2025-03-25T05:09:57Z';
    expect(verify({ timestamp: ahead, signature: signZendeskPayload(rawBody, ahead, secret) })).toEqual({ ok: true });
  });

  it('honours maxAgeSeconds', () => {
    expect(verify({ maxAgeSeconds: 5 })).toEqual({ ok: false, reason: 'stale' });
  });

  it('reports missing pieces', () => {
    expect(verify({ signature: undefined })).toEqual({ ok: false, reason: 'missing' });
    expect(verify({ timestamp: undefined })).toEqual({ ok: false, reason: 'missing' });
    expect(verify({ secret: undefined })).toEqual({ ok: false, reason: 'missing' });
    expect(verify({ signature: '' })).toEqual({ ok: false, reason: 'missing' });
  });

  it('reports a malformed timestamp or signature', () => {
    expect(verify({ timestamp: '1711343367' })).toEqual({ ok: false, reason: 'malformed' });
    expect(verify({ timestamp: 'March 25 2025' })).toEqual({ ok: false, reason: 'malformed' });
    expect(verify({ signature: 'not base64!' })).toEqual({ ok: false, reason: 'malformed' });
  });

  it('fails when the JSON is re-serialised instead of using the raw bytes', () => {
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(rawBody.toString('utf8'))));
    expect(reserialised.equals(rawBody)).toBe(false);
    expect(verify({ rawBody: reserialised })).toEqual({ ok: false, reason: 'mismatch' });
  });
});
