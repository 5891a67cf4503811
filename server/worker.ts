/** A worker process for scale-out (QUEUE=bullmq): takes jobs, serves no HTTP. */
import { loadConfigOrExit, onShutdownSignal } from './lifecycle.ts';
import { createRuntime, shutdownRuntime } from './runtime.ts';
import { createServices } from './services.ts';

const config = loadConfigOrExit();
if (config.QUEUE !== 'bullmq') {
  process.stderr.write(
    'npm run worker is for scale-out: set QUEUE=bullmq and REDIS_URL. With the embedded queue, npm start runs the workers.\n',
  );
  process.exit(1);
}
const runtime = await createRuntime(config);
await createServices(runtime);
await runtime.queue.start({ concurrency: config.WORKER_CONCURRENCY });
runtime.logger.info({ concurrency: config.WORKER_CONCURRENCY }, 'worker started');
onShutdownSignal(runtime.logger, () => shutdownRuntime(runtime, config.SHUTDOWN_TIMEOUT_MS));
