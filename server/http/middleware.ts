/** Cross-cutting HTTP pieces: request ids and logging, body parsing with clear errors, the error shape. */
import { randomUUID } from 'node:crypto';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { AppError, isAppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';

declare global {
  namespace Express {
    interface Request {
      id: string;
      log: Logger;
    }
  }
}

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._-]{1,100}$/;

const CHILD_LOGGER = Symbol('childLogger');

/**
 * `request.log`: the request's logger, made on first use (most requests never log; a pino child
 * for each one cost about 5% of a webhook delivery's CPU). Defined once on the app's request
 * prototype: an accessor defined on each request object slowed every later property read on it.
 */
export function installRequestLogger(app: express.Express, logger: Logger): void {
  Object.defineProperty(app.request, 'log', {
    configurable: true,
    get(this: express.Request & { [CHILD_LOGGER]?: Logger }): Logger {
      this[CHILD_LOGGER] ??= logger.child({ requestId: this.id });
      return this[CHILD_LOGGER];
    },
  });
}

/** Request ids, the response's x-request-id, and per-request metrics and log line. */
export function requestContext(logger: Logger, metrics: Metrics): RequestHandler {
  return (request, response, next) => {
    const incoming = request.get('x-request-id');
    const id = incoming !== undefined && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID();
    request.id = id;
    response.setHeader('x-request-id', id);
    const started = process.hrtime.bigint();
    response.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // The matched route pattern keeps label cardinality bounded (never raw paths with ids).
      const route = request.route?.path ? `${request.baseUrl}${String(request.route.path)}` : 'unmatched';
      metrics.httpRequests.inc({ method: request.method, route, status: String(response.statusCode) });
      metrics.httpDuration.observe({ method: request.method, route }, seconds);
      const level = response.statusCode >= 500 ? 'error' : response.statusCode >= 400 ? 'warn' : 'debug';
      if (!logger.isLevelEnabled(level)) return;
      request.log[level](
        { method: request.method, route, status: response.statusCode, ms: Math.round(seconds * 1000) },
        'request',
      );
    });
    next();
  };
}

/** JSON bodies for API routes: requires application/json on requests that carry a body. */
export function jsonBody(limitBytes: number): RequestHandler[] {
  return [requireContentType('application/json'), express.json({ limit: limitBytes, strict: true })];
}

/** Raw bodies for webhook routes: signatures are computed over the exact bytes received. */
export function rawBody(limitBytes: number, contentType = 'application/json'): RequestHandler[] {
  return [requireContentType(contentType), express.raw({ type: () => true, limit: limitBytes })];
}

function hasBody(request: express.Request): boolean {
  const length = request.get('content-length');
  return request.get('transfer-encoding') !== undefined || (length !== undefined && length !== '0');
}

export function requireContentType(type: string): RequestHandler {
  return (request, _response, next) => {
    if (['POST', 'PUT', 'PATCH'].includes(request.method) && hasBody(request) && !request.is(type)) {
      next(new AppError('UNSUPPORTED_MEDIA_TYPE', `Content-Type must be ${type}`));
      return;
    }
    next();
  };
}

export function notFound(): RequestHandler {
  return (request, _response, next) => {
    next(new AppError('NOT_FOUND', `No route for ${request.method} ${request.path}`));
  };
}

/** Maps body-parser failures and everything else to the one JSON error shape. */
export function errorHandler(): ErrorRequestHandler {
  return (error: unknown, request, response, _next) => {
    const appError = toAppError(error);
    if (appError.status >= 500) request.log?.error({ err: error }, 'request failed');
    if (appError.retryAfterSeconds !== undefined) response.setHeader('retry-after', String(appError.retryAfterSeconds));
    response.status(appError.status).json(appError.toJSON(request.id));
  };
}

export function toAppError(error: unknown): AppError {
  if (isAppError(error)) return error;
  const bodyError = error as { type?: string; status?: number; limit?: number } | undefined;
  switch (bodyError?.type) {
    case 'entity.parse.failed':
      return new AppError('INVALID_JSON', 'The request body is not valid JSON');
    case 'entity.too.large':
      return new AppError('PAYLOAD_TOO_LARGE', `The request body is larger than ${bodyError.limit} bytes`);
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return new AppError('UNSUPPORTED_MEDIA_TYPE', 'Unsupported body charset or encoding');
    case 'request.aborted':
    case 'request.size.invalid':
      return new AppError('BAD_REQUEST', 'The request body was incomplete');
    default:
      if (bodyError?.status !== undefined && bodyError.status >= 400 && bodyError.status < 500) {
        return new AppError('BAD_REQUEST', 'Bad request');
      }
      return new AppError('INTERNAL', 'Internal error', { cause: error });
  }
}

/** Wraps an async handler so rejections reach the error handler (Express 5 does this too; explicit is clearer). */
export function asyncRoute(
  handler: (request: express.Request, response: express.Response) => Promise<void>,
): RequestHandler {
  return (request, response, next) => {
    handler(request, response).catch(next);
  };
}
