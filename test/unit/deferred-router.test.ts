/** Routes that load after the service listens answer 503 with Retry-After until they are ready. */
import express from 'express';
import { describe, expect, it } from 'vitest';
import { deferredRouter, mountAll } from '../../server/http/deferred.ts';
import { errorHandler, notFound } from '../../server/http/middleware.ts';
import { listen } from '../helpers/http.ts';
import { silentLogger } from '../helpers/logger.ts';

describe('deferred router', () => {
  it('answers 503 SERVICE_STARTING with Retry-After, then serves the filled routes', async () => {
    const slot = deferredRouter();
    const app = express();
    app.use((request, _response, next) => {
      request.log = silentLogger();
      next();
    });
    app.use('/', slot.router);
    app.use(notFound());
    app.use(errorHandler());
    const server = await listen(app);
    try {
      const early = await fetch(`${server.url}/hello`);
      expect(early.status).toBe(503);
      expect(early.headers.get('retry-after')).toBe('2');
      expect(((await early.json()) as { error: { code: string } }).error.code).toBe('SERVICE_STARTING');
      expect(slot.filled).toBe(false);

      const inner = express.Router();
      inner.get('/', (_request, response) => {
        response.json({ hello: 'world' });
      });
      slot.fill(mountAll([{ path: '/hello', router: inner }]));
      expect(slot.filled).toBe(true);
      expect(await (await fetch(`${server.url}/hello`)).json()).toEqual({ hello: 'world' });
      expect((await fetch(`${server.url}/other`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
