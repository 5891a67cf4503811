/**
 * Zendesk webhook signatures: `x-zendesk-webhook-signature` is
 * base64(HMAC-SHA256(key = signing secret as given, message = timestamp + raw body)), with the
 * RFC 3339 timestamp from `x-zendesk-webhook-signature-timestamp` and no separator.
 * Verify on the raw bytes: re-serialising parsed JSON changes them and breaks the signature.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Zendesk signs test deliveries sent before a webhook exists (the "Test webhook" button on an
 * unsaved webhook) with this static secret (PLATFORM.md). Accept it only in tests, never in production.
 */
export const ZENDESK_STATIC_TEST_SECRET = 'dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==';

export const ZENDESK_SIGNATURE_HEADER = 'x-zendesk-webhook-signature';
export const ZENDESK_SIGNATURE_TIMESTAMP_HEADER = 'x-zendesk-webhook-signature-timestamp';

export type SignatureFailure = 'missing' | 'mismatch' | 'stale' | 'malformed';
export type SignatureResult = { ok: true } | { ok: false; reason: SignatureFailure };

export interface VerifyZendeskSignatureInput {
  rawBody: Buffer;
  signature: string | undefined;
  timestamp: string | undefined;
  secret: string | undefined;
  /** Current time in ms (injected so tests control the clock). */
  now: number;
  /** Maximum age of the timestamp; deliveries older than this are replays. */
  maxAgeSeconds?: number;
  /** How far in the future a timestamp may be (clock skew between Zendesk and us). */
  maxFutureSkewSeconds?: number;
}

// RFC 3339 date-time with a mandatory zone; Date.parse alone accepts far looser strings.
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;
// Canonical base64 of a 32-byte digest: 43 characters and one '=' of padding.
const BASE64_SHA256 = /^[A-Za-z0-9+/]{43}=$/;

export function signZendeskPayload(rawBody: Buffer | string, timestamp: string, secret: string): string {
  return createHmac('sha256', secret).update(timestamp).update(rawBody).digest('base64');
}

export function verifyZendeskSignature(input: VerifyZendeskSignatureInput): SignatureResult {
  const { rawBody, signature, timestamp, secret, now } = input;
  const maxAgeSeconds = input.maxAgeSeconds ?? 300;
  const maxFutureSkewSeconds = input.maxFutureSkewSeconds ?? 60;
  if (!signature || !timestamp || !secret) return { ok: false, reason: 'missing' };
  if (!RFC3339.test(timestamp)) return { ok: false, reason: 'malformed' };
  const signedAt = Date.parse(timestamp);
  if (Number.isNaN(signedAt)) return { ok: false, reason: 'malformed' };
  if (!BASE64_SHA256.test(signature)) return { ok: false, reason: 'malformed' };
  // Check the MAC before the age so a forged request learns nothing about our clock window.
  const expected = Buffer.from(signZendeskPayload(rawBody, timestamp, secret), 'base64');
  const given = Buffer.from(signature, 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'mismatch' };
  const ageSeconds = (now - signedAt) / 1000;
  if (ageSeconds > maxAgeSeconds || ageSeconds < -maxFutureSkewSeconds) return { ok: false, reason: 'stale' };
  return { ok: true };
}
