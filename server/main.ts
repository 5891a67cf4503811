/**
 * The service: web and workers in one process (the embedded default needs nothing else).
 * It listens as soon as the store is open, so liveness answers at once; the triage engine and the
 * feature routers load right after (their routes answer 503 until then), then the workers start.
 */
import type { AddressInfo } from 'node:net';
import { createApp } from './app.ts';
import { deferredRouter, mountAll } from './http/deferred.ts';
import { loadConfigOrExit, onShutdownSignal } from './lifecycle.ts';
import { createRuntime, shutdownRuntime } from './runtime.ts';
import { scheduleExpirySweep } from './store/sweep.ts';

const config = loadConfigOrExit();
const runtime = await createRuntime(config);
const { logger } = runtime;

const raw = deferredRouter();
const api = deferredRouter();
const admin = deferredRouter();
const app = createApp({
  logger,
  metrics: runtime.metrics,
  store: runtime.store,
  queue: runtime.queue,
  bodyLimitBytes: config.BODY_LIMIT_BYTES,
  adminToken: config.ADMIN_TOKEN,
  rawRouters: [{ path: '/', router: raw.router }],
  jsonRouters: [{ path: '/api', router: api.router }],
  adminRouters: [admin.router],
});

const server = app.listen(config.PORT, config.HOST);
server.on('error', (error) => {
  logger.fatal({ err: error }, 'could not listen');
  process.exit(1);
});
await new Promise<void>((resolve) => server.once('listening', () => resolve()));

const sweep = scheduleExpirySweep(runtime.store, logger);

let stopping = false;
onShutdownSignal(logger, async () => {
  stopping = true;
  sweep.stop();
  // Stop accepting requests first, then drain jobs, then close the store.
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await shutdownRuntime(runtime, config.SHUTDOWN_TIMEOUT_MS);
});

// Loaded after listening: the engine's module graph and the first model training take a moment.
const { createServices } = await import('./services.ts');
const services = await createServices(runtime);
raw.fill(mountAll(services.rawRouters));
api.fill(
  mountAll(
    services.jsonRouters.map(({ path, router }) => {
      if (!path.startsWith('/api')) throw new Error(`JSON routers live under /api (got ${path})`);
      return { path: path.slice('/api'.length) || '/', router };
    }),
  ),
);
admin.fill(mountAll(services.adminRouters.map((router) => ({ path: '/', router }))));
if (!stopping) await runtime.queue.start({ concurrency: config.WORKER_CONCURRENCY });

const address = server.address() as AddressInfo;
logger.info(
  { port: address.port, store: runtime.store.kind, queue: runtime.queue.kind, llm: services.llmName },
  `support agent listening on http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${address.port}`,
);
