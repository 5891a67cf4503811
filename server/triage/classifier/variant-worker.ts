/**
 * Trains one linear variant (one way of handling 'oos') on a worker thread, so that the two variants
 * `trainIntentModel` compares use both cores. Loaded by the bootstrap in model.ts; the parent blocks
 * on `signal` ([state, heartbeat]) until the result is posted on `port`. Progress lines are sent with
 * the result and replayed by the parent; each one also beats the heartbeat.
 */
import { type MessagePort, workerData } from 'node:worker_threads';
import { runVariantJob, type VariantJob, WORKER_DONE } from './model.ts';

const { job, port, signal } = workerData as { job: VariantJob; port: MessagePort; signal: Int32Array };
const lines: string[] = [];
try {
  const candidate = runVariantJob(job, (line) => {
    lines.push(line);
    Atomics.add(signal, 1, 1);
  });
  port.postMessage({ ok: true, candidate, lines }, [candidate.model.weights.buffer as ArrayBuffer]);
} catch (error) {
  port.postMessage({ ok: false, error: error instanceof Error ? error.message : String(error), lines });
} finally {
  Atomics.store(signal, 0, WORKER_DONE);
  Atomics.notify(signal, 0);
}
