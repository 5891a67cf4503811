/** The real service in-process (createRuntime + createServices + createApp) on a loopback port. */
import { createApp } from '../../server/app.ts';
import { loadConfig } from '../../server/config.ts';
import { createRuntime, type Runtime, shutdownRuntime } from '../../server/runtime.ts';
import { createServices, type Services } from '../../server/services.ts';
import { tempDir } from './backends.ts';
import { listen } from './http.ts';
import { silentLogger } from './logger.ts';

export interface RunningService {
  url: string;
  runtime: Runtime;
  services: Services;
  close(): Promise<void>;
}

export async function startService(env: Record<string, string> = {}): Promise<RunningService> {
  const config = loadConfig({ DATA_DIR: tempDir('service'), LOG_LEVEL: 'silent', ...env });
  const runtime = await createRuntime(config, { logger: silentLogger() });
  const services = await createServices(runtime);
  const app = createApp({
    logger: runtime.logger,
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
  const server = await listen(app);
  return {
    url: server.url,
    runtime,
    services,
    async close() {
      await server.close();
      await shutdownRuntime(runtime, 2_000);
    },
  };
}
