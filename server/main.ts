/** The service: web and workers in one process (the embedded default needs nothing else). */
import type { AddressInfo } from 'node:net';
import { createApp } from './app.ts';
import { loadConfigOrExit, onShutdownSignal } from './lifecycle.ts';
import { createRuntime, shutdownRuntime } from './runtime.ts';
import { createServices } from './services.ts';

const config = loadConfigOrExit();
const runtime = await createRuntime(config);
const { logger } = runtime;

const services = await createServices(runtime);
const app = createApp({
  logger,
  metrics: runtime.metrics,
  store: runtime.store,
  queue: runtime.queue,
  bodyLimitBytes: config.BODY_LIMIT_BYTES,
  adminToken: config.ADMIN_TOKEN,
  rawRouters: services.rawRouters,
  jsonRouters: services.jsonRouters,
  adminRouters: services.adminRouters,
});

await runtime.queue.start({ concurrency: config.WORKER_CONCURRENCY });
const server = app.listen(config.PORT, config.HOST, () => {
  const address = server.address() as AddressInfo;
  logger.info(
    { port: address.port, store: runtime.store.kind, queue: runtime.queue.kind, llm: services.llmName },
    `support agent listening on http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${address.port}`,
  );
});
server.on('error', (error) => {
  logger.fatal({ err: error }, 'could not listen');
  process.exit(1);
});

onShutdownSignal(logger, async () => {
  // Stop accepting requests first, then drain jobs, then close the store.
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await shutdownRuntime(runtime, config.SHUTDOWN_TIMEOUT_MS);
});
