/** SIGTERM: stop taking jobs, let the in-flight job finish (up to the deadline), close the store, exit 0. */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { openKeyvStore } from '../../server/store/keyv-store.ts';
import { tempDir } from '../helpers/backends.ts';

const fixture = new URL('../fixtures/graceful-worker.ts', import.meta.url).pathname;

describe('graceful shutdown', () => {
  it('finishes the in-flight job before exiting on SIGTERM', async () => {
    const dataDir = tempDir('graceful');
    const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
      env: { ...process.env, DATA_DIR: dataDir, ENQUEUE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 30_000;
    while (!output.includes('started slow-1') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(output).toContain('started slow-1');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('finished slow-1');

    const store = await openKeyvStore({ kind: 'sqlite', file: `${dataDir}/support-agent.sqlite` });
    expect(await store.namespace('effects').get('slow-1')).toBe('finished');
    // The finished job is gone from the queue: nothing to redo on the next start.
    expect(await store.namespace('jobs').get('slow-1')).toBeUndefined();
    await store.close();
  });
});
