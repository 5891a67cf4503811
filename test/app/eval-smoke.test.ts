/**
 * CI smoke of the evaluation harness as a user runs it: every suite in quick mode, ending with one
 * JSON line. Public-data suites need ../shared (CI has it); without it they are reported as skipped.
 * No figure is asserted beyond the product's own hard rule (zero adversarial Tier 0).
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const repoRoot = new URL('../..', import.meta.url).pathname;

describe('npm run eval -- --quick --json', () => {
  it('runs every suite and ends stdout with one JSON object', async () => {
    const child = spawn(
      'npm',
      ['run', 'eval', '--silent', '--', '--quick', '--json', '--out', `${process.env.TMPDIR ?? '/tmp'}/eval-smoke`],
      {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, stderr.slice(-2000)).toBe(0);
    const last = stdout.trim().split('\n').at(-1)!;
    const summary = JSON.parse(last) as {
      suite: string;
      metrics: Record<string, number | null>;
      suites: Array<{ suite: string }>;
    };
    expect(summary.suite).toBe('all');
    const ran = summary.suites.map((item) => item.suite);
    expect(ran).toContain('adversarial');
    expect(summary.metrics['adversarial.tier0_count']).toBe(0);
    for (const value of Object.values(summary.metrics)) {
      expect(value === null || Number.isFinite(value)).toBe(true);
    }
  }, 300_000);
});
