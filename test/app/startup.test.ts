/**
 * The service as a user starts it: `npm start` with no environment at all answers /healthz;
 * bad configuration stops start-up with one message naming each bad key.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';

const repoRoot = new URL('../..', import.meta.url).pathname;
const bareEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' };

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer()
      .once('error', () => resolve(false))
      .once('listening', () => probe.close(() => resolve(true)))
      .listen(port, '0.0.0.0');
  });
}

describe('npm start', () => {
  it('with no environment at all answers /healthz 200 within 5 s', async () => {
    expect(await portFree(3000), 'port 3000 must be free for this test (is a dev server running?)').toBe(true);
    // Its own process group, so the whole tree (npm, sh, node) is stopped afterwards.
    const child = spawn('npm', ['start', '--silent'], {
      cwd: repoRoot,
      env: bareEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const started = Date.now();
    let status = 0;
    try {
      while (Date.now() - started < 5_000 && status !== 200) {
        status = await fetch('http://127.0.0.1:3000/healthz')
          .then((response) => response.status)
          .catch(() => 0);
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(status, `no 200 within 5 s; stderr: ${stderr.slice(-1000)}`).toBe(200);
      console.info(`/healthz answered 200 after ${Date.now() - started} ms`);
      const ready = await fetch('http://127.0.0.1:3000/readyz');
      expect(await ready.json()).toEqual({ status: 'ready', store: 'ok', queue: 'ok' });
    } finally {
      const exited = new Promise((resolve) => child.on('exit', resolve));
      process.kill(-child.pid!, 'SIGTERM');
      await exited;
    }
  });

  it('stops on bad configuration with one message naming each bad key', async () => {
    const child = spawn('npm', ['start', '--silent'], {
      cwd: repoRoot,
      env: { ...bareEnv, DATABASE_URL: 'mysql://root:topsecret@db/x', QUEUE: 'kafka' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).not.toBe(0);
    expect(stderr).toContain('Invalid configuration (2 problems)');
    expect(stderr).toContain('DATABASE_URL: must be a URL like postgres://');
    expect(stderr).toContain('QUEUE: must be one of embedded, bullmq');
    expect(stderr).not.toContain('topsecret');
  });
});
