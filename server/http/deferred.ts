/**
 * A router slot filled once start-up finishes. The service listens (and answers /healthz) before
 * the triage engine and feature routers have loaded; until then their routes answer 503 with
 * Retry-After, which webhook senders retry, instead of a misleading 404.
 */
import express, { type Router } from 'express';
import { AppError } from '../errors.ts';

export interface DeferredRouter {
  router: Router;
  fill(inner: Router): void;
  readonly filled: boolean;
}

export function deferredRouter(): DeferredRouter {
  let inner: Router | undefined;
  const router = express.Router();
  router.use((request, response, next) => {
    if (inner !== undefined) {
      inner(request, response, next);
      return;
    }
    next(new AppError('SERVICE_STARTING', 'The service is starting; retry shortly', { retryAfterSeconds: 2 }));
  });
  return {
    router,
    fill(next) {
      inner = next;
    },
    get filled() {
      return inner !== undefined;
    },
  };
}

/** Mounts each { path, router } on one router, so a whole group can fill a deferred slot. */
export function mountAll(routes: Array<{ path: string; router: Router }>): Router {
  const combined = express.Router();
  for (const { path, router } of routes) combined.use(path, router);
  return combined;
}
