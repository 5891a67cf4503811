/**
 * Acceptance: 200 jobs, the worker process SIGKILLed mid-run and restarted: every effect is
 * recorded exactly once and none is lost (at-least-once delivery + an idempotent handler).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openKeyvStore } from '../../server/store/keyv-store.ts';
import { REDIS_URL, tempDir, uniquePrefix } from '../helpers/backends.ts';

const fixture = new URL('../fixtures/crash-worker.ts', import.meta.url).pathname;

function startWorker(env: Record<string, string>): { child: ChildProcess; lines: string[]; exited: Promise<void> } {
  // `node --import tsx` keeps it one process: the tsx CLI would fork a child that outlives a SIGKILL.
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    lines.push(...parts);
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  child.on('exit', (code, signal) => {
    if (code !== 0 && code !== null && signal === null) lines.push(`exited ${code}: ${stderr.slice(-2000)}`);
  });
  return { child, lines, exited };
}

async function until(lines: string[], predicate: (lines: string[]) => boolean, label: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate(lines)) {
    const failure = lines.find((line) => line.startsWith('exited'));
    if (failure) throw new Error(`worker died: ${failure}`);
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${label}; last lines: ${lines.slice(-5).join(' | ')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const queueKinds = [
  { kind: 'embedded', available: true },
  { kind: 'bullmq', available: REDIS_URL !== undefined },
];

describe.each(queueKinds)('crash safety with the $kind queue', ({ kind, available }) => {
  it.skipIf(!available)('records all 200 effects exactly once after a SIGKILL mid-run', async () => {
    const dir = tempDir('crash');
    const env = {
      STORE_FILE: join(dir, 'store.sqlite'),
      EXECUTIONS_LOG: join(dir, 'executions.log'),
      QUEUE_KIND: kind,
      QUEUE_NAME: `crash-${uniquePrefix()}`,
      ...(REDIS_URL ? { REDIS_URL } : {}),
    };

    const first = startWorker({ ...env, ENQUEUE: '200' });
    await until(first.lines, (lines) => lines.filter((line) => line.startsWith('done ')).length >= 30, '30 jobs done');
    first.child.kill('SIGKILL');
    await first.exited;
    const doneBeforeKill = first.lines.filter((line) => line.startsWith('done ')).length;
    expect(first.lines).toContain('enqueued');
    expect(doneBeforeKill).toBeLessThan(200); // the kill really was mid-run

    const second = startWorker(env);
    await until(second.lines, (lines) => lines.includes('idle'), 'restarted worker drained the queue', 90_000);
    second.child.kill('SIGTERM');
    await second.exited;

    const store = await openKeyvStore({ kind: 'sqlite', file: env.STORE_FILE });
    const effects = new Map<string, { jobId: string; n: number }>();
    for await (const [key, value] of store.namespace<{ jobId: string; n: number }>('effects').entries()) {
      effects.set(key, value);
    }
    await store.close();

    expect(effects.size).toBe(200);
    for (let n = 0; n < 200; n += 1) expect(effects.get(`job-${n}`)).toEqual({ jobId: `job-${n}`, n });
    const executions = readFileSync(env.EXECUTIONS_LOG, 'utf8').trim().split('\n');
    // At-least-once: every job ran; jobs cut off by the kill ran again after the restart.
    expect(new Set(executions).size).toBe(200);
    expect(executions.length).toBeGreaterThanOrEqual(200);
    console.info(
      `[${kind}] done before kill: ${doneBeforeKill}; executions: ${executions.length} (${executions.length - 200} re-deliveries)`,
    );
  });
});
