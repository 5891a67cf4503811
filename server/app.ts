/**
 * createApp(deps) builds the HTTP app from its dependencies; main() wires real ones and listens.
 * Feature routers (webhooks, sidebar API, playground, admin) are mounted here and nowhere else.
 */
import express, { type Router } from 'express';
import { AppError } from './errors.ts';
import {
  asyncRoute,
  errorHandler,
  installRequestLogger,
  jsonBody,
  notFound,
  requestContext,
} from './http/middleware.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import type { JobQueue } from './queue/port.ts';
import type { Store } from './store/port.ts';

export interface AppDeps {
  logger: Logger;
  metrics: Metrics;
  store: Store;
  queue: JobQueue;
  bodyLimitBytes: number;
  adminToken?: string | undefined;
  /** Routers that parse their own bodies (webhooks need the raw bytes), mounted before JSON parsing. */
  rawRouters?: Array<{ path: string; router: Router }>;
  /** Routers that take JSON bodies. */
  jsonRouters?: Array<{ path: string; router: Router }>;
  /** Routers mounted under /admin, behind the admin bearer token. */
  adminRouters?: Router[];
}

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // No ETags: every response is computed per request (webhook answers, API records); hashing each
  // body for a conditional GET nobody sends cost about a tenth of a webhook delivery's CPU.
  app.set('etag', false);
  app.set('trust proxy', false);
  installRequestLogger(app, deps.logger);
  app.use(requestContext(deps.logger, deps.metrics));

  app.get('/healthz', (_request, response) => {
    response.json({ status: 'ok' });
  });

  app.get(
    '/readyz',
    asyncRoute(async (_request, response) => {
      const checks = await Promise.allSettled([deps.store.ping(), deps.queue.ping()]);
      const [store, queue] = checks.map((check) => (check.status === 'fulfilled' ? 'ok' : 'unavailable'));
      const ready = store === 'ok' && queue === 'ok';
      response.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', store, queue });
    }),
  );

  app.get(
    '/metrics',
    asyncRoute(async (_request, response) => {
      response.setHeader('content-type', deps.metrics.registry.contentType);
      response.send(await deps.metrics.registry.metrics());
    }),
  );

  for (const { path, router } of deps.rawRouters ?? []) app.use(path, router);

  const json = jsonBody(deps.bodyLimitBytes);
  app.use('/admin', adminAuth(deps.adminToken), ...json, adminRouter(deps), ...(deps.adminRouters ?? []));
  for (const { path, router } of deps.jsonRouters ?? []) app.use(path, ...json, router);

  app.use(notFound());
  app.use(errorHandler());
  return app;
}

function adminAuth(adminToken: string | undefined): express.RequestHandler {
  return (request, _response, next) => {
    if (adminToken === undefined) {
      next(new AppError('FORBIDDEN', 'The admin API is disabled: set ADMIN_TOKEN to enable it'));
      return;
    }
    const header = request.get('authorization') ?? '';
    if (!constantTimeEquals(header, `Bearer ${adminToken}`)) {
      next(new AppError('UNAUTHORIZED', 'A valid admin bearer token is required'));
      return;
    }
    next();
  };
}

function constantTimeEquals(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  let difference = left.length ^ right.length;
  for (let index = 0; index < right.length; index += 1) difference |= (left[index] ?? 0) ^ (right[index] ?? 0);
  return difference === 0;
}

function adminRouter(deps: AppDeps): Router {
  const router = express.Router();
  router.get(
    '/queue',
    asyncRoute(async (_request, response) => {
      response.json({ kind: deps.queue.kind, counts: await deps.queue.counts() });
    }),
  );
  router.get(
    '/dead-letters',
    asyncRoute(async (_request, response) => {
      response.json({ jobs: await deps.queue.listDeadLetters() });
    }),
  );
  router.post(
    '/dead-letters/:jobId/redrive',
    asyncRoute(async (request, response) => {
      const jobId = String(request.params.jobId);
      if (!(await deps.queue.redrive(jobId))) throw new AppError('NOT_FOUND', `No dead-lettered job ${jobId}`);
      response.status(202).json({ id: jobId, state: 'waiting' });
    }),
  );
  return router;
}
