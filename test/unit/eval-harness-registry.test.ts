/**
 * The module registry (suites found by dynamic import from a folder) and the real CLI process:
 * usage errors exit 2, and --list works whatever state the suite files are in.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModuleRegistry, DEFAULT_SUITES } from '../../eval/registry.ts';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

describe('createModuleRegistry', () => {
  let dir: string;
  let dirUrl: URL;

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'eval-registry-'));
    dirUrl = pathToFileURL(`${dir}${path.sep}`);
    const suiteSource = (name: string) =>
      `{ name: '${name}', description: 'd', available: () => true, run: async () => ({ suite: '${name}', metrics: {}, tables: [], charts: [], notes: [] }) }`;
    writeFileSync(path.join(dir, 'good.ts'), `export const suite = ${suiteSource('good')};\n`);
    writeFileSync(path.join(dir, 'throws.ts'), `throw new Error('top-level boom');\nexport const suite = 1;\n`);
    writeFileSync(path.join(dir, 'noexport.ts'), `export default ${suiteSource('noexport')};\n`);
    writeFileSync(path.join(dir, 'halfsuite.ts'), `export const suite = { name: 'halfsuite' };\n`);
    writeFileSync(
      path.join(dir, 'intents-backtest.ts'),
      `export function createIntentsBacktestSuite(options: { trainPath: string }) {\n` +
        `  return { ...${suiteSource('intents-backtest')}, description: options.trainPath };\n}\n`,
    );
    writeFileSync(path.join(dir, 'kb-backtest.ts'), `export const somethingElse = 1;\n`);
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads the named export `suite`', async () => {
    const loaded = await createModuleRegistry(dirUrl).load('good');
    expect(loaded.ok).toBe(true);
    if (loaded.ok) expect(loaded.suite.name).toBe('good');
  });

  it('reports a missing file as absent (not written yet)', async () => {
    const loaded = await createModuleRegistry(dirUrl).load('clinc150');
    expect(loaded).toMatchObject({ ok: false, absent: true });
    if (!loaded.ok) expect(loaded.reason).toMatch(/^not written yet \(.*clinc150\.ts does not exist\)$/);
  });

  it('reports an import that throws as broken, with the error', async () => {
    const loaded = await createModuleRegistry(dirUrl).load('throws');
    expect(loaded).toMatchObject({ ok: false, absent: false });
    if (!loaded.ok) expect(loaded.reason).toMatch(/throws\.ts failed to import: top-level boom/);
  });

  it('requires the named export and the Suite shape', async () => {
    const registry = createModuleRegistry(dirUrl);
    const noExport = await registry.load('noexport');
    expect(noExport).toMatchObject({ ok: false, absent: false });
    if (!noExport.ok) expect(noExport.reason).toContain('export `suite` is missing or not a Suite object');
    const half = await registry.load('halfsuite');
    if (half.ok) throw new Error('expected failure');
    expect(half.reason).toContain('is not a Suite (missing available(), run())');
  });

  it('refuses names that could leave the suites folder', async () => {
    const loaded = await createModuleRegistry(dirUrl).load('../good');
    expect(loaded).toMatchObject({ ok: false, reason: 'invalid suite name "../good"' });
  });

  it('builds backtests through their factory, and names a missing factory', async () => {
    const registry = createModuleRegistry(dirUrl);
    const intents = await registry.intentsBacktest({ trainPath: '/t.jsonl', testPath: '/u.jsonl', targetError: 0.02 });
    expect(intents.ok).toBe(true);
    if (intents.ok) expect(intents.suite.description).toBe('/t.jsonl');
    const kb = await registry.kbBacktest({ kbPath: '/kb', questionsPath: '/q.jsonl' });
    if (kb.ok) throw new Error('expected failure');
    expect(kb.reason).toContain('does not export a function `createKbBacktestSuite`');
  });

  it('defaults to the public suites plus adversarial and regressions', () => {
    expect(createModuleRegistry().names()).toEqual(DEFAULT_SUITES);
    expect(DEFAULT_SUITES).toEqual(['clinc150', 'banking77', 'bitext', 'mtrag', 'adversarial', 'regressions']);
  });
});

describe('eval/cli.ts as a process', () => {
  const cli = (args: string[]) =>
    spawnSync('npx', ['tsx', 'eval/cli.ts', ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });

  it('exits 2 with a clear message for --intents without --test', () => {
    const child = cli(['--intents', 'x.jsonl']);
    expect(child.status).toBe(2);
    expect(child.stderr).toContain('eval: --intents needs --test TEST.jsonl');
    expect(child.stdout).toBe('');
  });

  it('--list exits 0 and names every registered suite, whatever state its file is in', () => {
    const child = cli(['--list', '--shared', path.join(tmpdir(), 'no-such-shared-folder')]);
    expect(child.status).toBe(0);
    for (const name of DEFAULT_SUITES) expect(child.stdout).toMatch(new RegExp(`^${name}\\s+\\S`, 'm'));
    expect(child.stdout).toContain('(not found; pass --shared DIR)');
  });
});
