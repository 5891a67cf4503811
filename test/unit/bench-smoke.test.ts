/**
 * Smoke test of `npm run bench -- --quick --json`: it runs to the end, prints its table, and its
 * last stdout line is one JSON object with every figure as a finite number or null (a part that
 * could not run). Timings are never asserted: benchmarks report, they do not flake. It also checks
 * that every child process the bench started is gone afterwards.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const REQUIRED_KEYS = [
  'ingest_ratio',
  'ingest_p99_ms',
  'overhead_p99_ms',
  'e2e_tickets_per_s',
  'rss_idle_mb',
  'rss_kb20k_mb',
  'cost_per_ticket_usd',
  'seed_cost_per_ticket_usd',
  'cost_ratio',
  'retrieval_p99_ms_2k',
  'retrieval_p99_ms_20k',
] as const;

function runBench(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'bench', '--', '--quick', '--json'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm run bench -- --quick --json', () => {
  it('prints the table and a last JSON line with every figure', { timeout: 600_000 }, async () => {
    const { code, stdout, stderr } = await runBench();
    expect(code, stderr.slice(-3_000)).toBe(0);

    const lines = stdout.trimEnd().split('\n');
    const result = JSON.parse(lines.at(-1) ?? '') as Record<string, unknown>;
    for (const key of REQUIRED_KEYS) {
      expect(result, `missing ${key}`).toHaveProperty(key);
      const value = result[key];
      expect(value === null || (typeof value === 'number' && Number.isFinite(value)), `${key} = ${String(value)}`).toBe(
        true,
      );
    }
    expect(result.quick).toBe(true);
    expect(result.errors).toEqual([]);
    expect(stdout).toMatch(/figure\s+\| measured/);
    expect(stdout).toMatch(/cpus .*node v\d+/);

    const pids = result.child_pids as number[];
    expect(pids.length).toBeGreaterThan(0);
    expect(pids.filter(isAlive)).toEqual([]);
  });
});
