import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../server/app.ts';
import { rawBody } from '../../server/http/middleware.ts';
import { createMetrics } from '../../server/metrics.ts';
import { createEmbeddedQueue } from '../../server/queue/embedded.ts';
import { openKeyvStore } from '../../server/store/keyv-store.ts';
import type { Store } from '../../server/store/port.ts';
import { tempDir } from '../helpers/backends.ts';
import { listen } from '../helpers/http.ts';
import { memoryLogger } from '../helpers/logger.ts';

describe('HTTP skeleton', () => {
  let store: Store;
  let base: string;
  let close: () => Promise<void>;
  const { logger, output } = memoryLogger();

  beforeAll(async () => {
    store = await openKeyvStore({ kind: 'sqlite', file: `${tempDir('http')}/store.sqlite` });
    const queue = createEmbeddedQueue({ store, logger });
    const metrics = createMetrics({ queue });
    // Two probe routes that store what they receive, to show that rejected input stores nothing.
    const jsonProbe = express.Router();
    jsonProbe.post('/items', async (request, response) => {
      await store.namespace('feedback').set(`item-${Date.now()}-${Math.random()}`, request.body);
      response.status(201).json({ stored: true });
    });
    const rawProbe = express.Router();
    rawProbe.post('/raw', ...rawBody(1024), async (request, response) => {
      await store.namespace('feedback').set(`raw-${Date.now()}`, (request.body as Buffer).toString('base64'));
      response.status(202).json({ bytes: (request.body as Buffer).length });
    });
    const app = createApp({
      logger,
      metrics,
      store,
      queue,
      bodyLimitBytes: 1024,
      adminToken: 'admin-token-for-tests',
      jsonRouters: [{ path: '/probe', router: jsonProbe }],
      rawRouters: [{ path: '/hooks', router: rawProbe }],
    });
    ({ url: base, close } = await listen(app));
  });

  afterAll(async () => {
    await close();
    await store.close();
  });

  async function storedCount(): Promise<number> {
    let count = 0;
    for await (const _ of store.namespace('feedback').entries()) count += 1;
    return count;
  }

  it('answers /healthz, /readyz and /metrics', async () => {
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', store: 'ok', queue: 'ok' });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('support_agent_http_requests_total');
    expect(metrics).toContain('support_agent_queue_jobs{state="waiting"}');
  });

  const badRequests: Array<{ name: string; init: () => RequestInit & { path: string }; status: number; code: string }> =
    [
      {
        name: 'invalid JSON',
        init: () => ({
          path: '/probe/items',
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"a":',
        }),
        status: 400,
        code: 'INVALID_JSON',
      },
      {
        name: 'a body over the limit',
        init: () => ({
          path: '/probe/items',
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ text: 'x'.repeat(5_000) }),
        }),
        status: 413,
        code: 'PAYLOAD_TOO_LARGE',
      },
      {
        name: 'a wrong content type',
        init: () => ({
          path: '/probe/items',
          method: 'POST',
          headers: { 'content-type': 'text/plain' },
          body: 'hello',
        }),
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
      },
      {
        name: 'an unknown route',
        init: () => ({
          path: '/no/such/route',
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        }),
        status: 404,
        code: 'NOT_FOUND',
      },
      {
        name: 'a raw webhook body over the limit',
        init: () => ({
          path: '/hooks/raw',
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: 'y'.repeat(4_000),
        }),
        status: 413,
        code: 'PAYLOAD_TOO_LARGE',
      },
      {
        name: 'a webhook with a wrong content type',
        init: () => ({
          path: '/hooks/raw',
          method: 'POST',
          headers: { 'content-type': 'application/xml' },
          body: '<a/>',
        }),
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
      },
      {
        name: 'the admin API without a token',
        init: () => ({ path: '/admin/dead-letters', method: 'GET' }),
        status: 401,
        code: 'UNAUTHORIZED',
      },
    ];

  it.each(badRequests)(
    'rejects $name with a JSON 4xx, stores nothing and keeps serving',
    async ({ init, status, code }) => {
      const before = await storedCount();
      const { path, ...requestInit } = init();
      const response = await fetch(`${base}${path}`, requestInit);
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toMatch(/application\/json/);
      const body = (await response.json()) as { error: { code: string; message: string; requestId: string } };
      expect(body.error.code).toBe(code);
      expect(body.error.message.length).toBeGreaterThan(5);
      expect(body.error.requestId).toBe(response.headers.get('x-request-id'));
      expect(await storedCount()).toBe(before);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
    },
  );

  it('accepts good input on the same routes', async () => {
    const before = await storedCount();
    const ok = await fetch(`${base}/probe/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    expect(ok.status).toBe(201);
    const raw = await fetch(`${base}/hooks/raw`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"exact":  "bytes"}',
    });
    expect(await raw.json()).toEqual({ bytes: 19 });
    expect(await storedCount()).toBe(before + 2);
  });

  it('serves the admin API with the token and keeps request ids in logs', async () => {
    const response = await fetch(`${base}/admin/queue`, {
      headers: { authorization: 'Bearer admin-token-for-tests', 'x-request-id': 'trace-123' },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ kind: 'embedded', counts: { waiting: 0, active: 0, dead: 0 } });
    expect(response.headers.get('x-request-id')).toBe('trace-123');
    expect(output()).toContain('"requestId":"trace-123"');
    const redrive = await fetch(`${base}/admin/dead-letters/nope/redrive`, {
      method: 'POST',
      headers: { authorization: 'Bearer admin-token-for-tests' },
    });
    expect(redrive.status).toBe(404);
  });
});
