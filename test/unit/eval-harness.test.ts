/**
 * The eval harness run in-process (`runEval`) with fake suites defined here and injected through a
 * fake registry: output shapes, exit codes, skip/fail reporting, report files.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type EvalIo, runEval } from '../../eval/cli.ts';
import type { IntentsBacktestOptions, KbBacktestOptions, LoadResult, SuiteRegistry } from '../../eval/registry.ts';
import type { Suite, SuiteOptions, SuiteResult } from '../../eval/types.ts';

/**
 * `SuiteResult.metrics` is typed `Record<MetricName, ...>`, which makes every well-known name required;
 * suites report only the names that apply, so the fakes here cast a partial record.
 */
function metrics(values: Record<string, number | null>): SuiteResult['metrics'] {
  return values as SuiteResult['metrics'];
}

interface FakeSuite extends Suite {
  runs: SuiteOptions[];
}

function fakeSuite(
  name: string,
  behaviour: { available?: boolean; result?: Partial<SuiteResult>; fail?: Error; missing?: string } = {},
): FakeSuite {
  const runs: SuiteOptions[] = [];
  const suite: FakeSuite & { describeMissing?: () => string } = {
    name,
    description: `fake ${name}`,
    runs,
    available: () => behaviour.available ?? true,
    async run(options) {
      runs.push(options);
      options.progress('working');
      options.progress(`${name}: prefixed by the suite`);
      if (behaviour.fail) throw behaviour.fail;
      return {
        suite: name,
        metrics: metrics({ intent_accuracy: 0.9, macro_f1: 0.85, tier0_count: 0 }),
        tables: [{ title: 'per intent', header: ['intent', 'accuracy', 'n'], rows: [['billing', 0.95, 40]] }],
        charts: [],
        notes: [`${name} note`],
        ...behaviour.result,
      };
    },
  };
  if (behaviour.missing !== undefined) suite.describeMissing = () => behaviour.missing ?? '';
  return suite;
}

type Entry = Suite | { absent: boolean; reason: string };

interface FakeRegistry extends SuiteRegistry {
  intentsCalls: IntentsBacktestOptions[];
  kbCalls: KbBacktestOptions[];
}

function fakeRegistry(entries: Record<string, Entry>, backtest: Suite = fakeSuite('intents-backtest')): FakeRegistry {
  const toResult = (entry: Entry | undefined, name: string): LoadResult => {
    if (entry === undefined) return { ok: false, absent: true, reason: `no ${name}` };
    if ('run' in entry) return { ok: true, suite: entry };
    return { ok: false, absent: entry.absent, reason: entry.reason };
  };
  const registry: FakeRegistry = {
    intentsCalls: [],
    kbCalls: [],
    names: () => Object.keys(entries),
    load: async (name) => toResult(entries[name], name),
    intentsBacktest: async (options) => {
      registry.intentsCalls.push(options);
      return { ok: true, suite: backtest };
    },
    kbBacktest: async (options) => {
      registry.kbCalls.push(options);
      return { ok: true, suite: fakeSuite('kb-backtest') };
    },
  };
  return registry;
}

let work: string;
let shared: string;
let out: string;

beforeEach(() => {
  work = mkdtempSync(path.join(tmpdir(), 'eval-harness-'));
  shared = path.join(work, 'shared');
  out = path.join(work, 'reports');
  // `shared` is deliberately never created: fake suites decide availability themselves, and the
  // harness's "shared folder not found" message is checked below.
});

afterEach(() => {
  rmSync(work, { recursive: true, force: true });
});

interface Captured {
  code: number;
  stdout: string[];
  stderr: string[];
}

async function run(argv: string[], registry: SuiteRegistry): Promise<Captured> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const io: EvalIo = {
    stdout: (line) => stdout.push(...line.split('\n')),
    stderr: (line) => stderr.push(...line.split('\n')),
    registry,
    cwd: work,
    repoRoot: path.join(work, 'repo'),
    now: () => new Date('2025-01-02T03:04:05.678Z'),
    machine: { os: 'TestOS 1.0 x64', cpuModel: 'Test CPU', cpuCount: 2, memoryGb: 8, node: 'v20.0.0' },
  };
  const code = await runEval(argv, io);
  return { code, stdout, stderr };
}

function lastJson(lines: string[]): Record<string, unknown> {
  const last = lines.at(-1) ?? '';
  return JSON.parse(last) as Record<string, unknown>;
}

describe('runEval --json', () => {
  it('ends stdout with exactly {suite, metrics} when one suite is selected', async () => {
    const registry = fakeRegistry({ alpha: fakeSuite('alpha'), beta: fakeSuite('beta') });
    const result = await run(['--suite', 'alpha', '--json', '--out', out], registry);
    expect(result.code).toBe(0);
    const json = lastJson(result.stdout);
    expect(Object.keys(json).sort()).toEqual(['metrics', 'suite']);
    expect(json).toEqual({ suite: 'alpha', metrics: { intent_accuracy: 0.9, macro_f1: 0.85, tier0_count: 0 } });
    // Only the last stdout line is JSON; the table comes before it.
    expect(result.stdout.join('\n')).toContain('alpha: metrics');
  });

  it('keys metrics "<suite>.<metric>" in the combined object of a default run', async () => {
    const registry = fakeRegistry({
      alpha: fakeSuite('alpha'),
      beta: fakeSuite('beta', { result: { metrics: metrics({ recall_at_1: 0.5, mrr: 0.625 }) } }),
    });
    const result = await run(['--json', '--out', out, '--shared', shared], registry);
    expect(result.code).toBe(0);
    expect(lastJson(result.stdout)).toEqual({
      suite: 'all',
      metrics: {
        'alpha.intent_accuracy': 0.9,
        'alpha.macro_f1': 0.85,
        'alpha.tier0_count': 0,
        'beta.recall_at_1': 0.5,
        'beta.mrr': 0.625,
      },
      suites: [
        { suite: 'alpha', metrics: { intent_accuracy: 0.9, macro_f1: 0.85, tier0_count: 0 } },
        { suite: 'beta', metrics: { recall_at_1: 0.5, mrr: 0.625 } },
      ],
    });
  });

  it('uses the combined shape when --suite is repeated', async () => {
    const registry = fakeRegistry({ alpha: fakeSuite('alpha'), beta: fakeSuite('beta'), gamma: fakeSuite('gamma') });
    const result = await run(['--suite', 'beta', '--suite', 'alpha', '--json', '--out', out], registry);
    const json = lastJson(result.stdout);
    expect(json.suite).toBe('all');
    expect((json.suites as Array<{ suite: string }>).map((s) => s.suite)).toEqual(['beta', 'alpha']);
  });

  it('prints no JSON line without --json', async () => {
    const result = await run(['--suite', 'alpha', '--out', out], fakeRegistry({ alpha: fakeSuite('alpha') }));
    expect(result.code).toBe(0);
    expect(() => lastJson(result.stdout)).toThrow();
    expect(result.stdout.some((line) => line.startsWith('Report: '))).toBe(true);
  });

  it('sends progress to stderr with elapsed seconds, never to stdout', async () => {
    const result = await run(['--suite', 'alpha', '--out', out], fakeRegistry({ alpha: fakeSuite('alpha') }));
    expect(result.stderr.some((line) => /^\[\s*\d+\.\d+s\] alpha: working$/.test(line))).toBe(true);
    expect(result.stdout.join('\n')).not.toContain('working');
    // A suite that prefixes its own name is not prefixed twice.
    expect(result.stderr.some((line) => /\] alpha: prefixed by the suite$/.test(line))).toBe(true);
  });

  it('passes --quick and the shared folder to the suite', async () => {
    const alpha = fakeSuite('alpha');
    await run(['--suite', 'alpha', '--quick', '--shared', 'data/shared', '--out', out], fakeRegistry({ alpha }));
    expect(alpha.runs).toHaveLength(1);
    expect(alpha.runs[0]?.quick).toBe(true);
    expect(alpha.runs[0]?.sharedDir).toBe(path.join(work, 'data', 'shared'));
  });
});

describe('skipped and failed suites', () => {
  it('lists suites that are not written or have no data as skipped in a default run, with the reason', async () => {
    const registry = fakeRegistry({
      alpha: fakeSuite('alpha'),
      later: { absent: true, reason: 'not written yet (eval/suites/later.ts does not exist)' },
      nodata: fakeSuite('nodata', { available: false, missing: 'expected datasets/nodata/train.csv' }),
    });
    const result = await run(['--json', '--out', out], registry);
    expect(result.code).toBe(0);
    const json = lastJson(result.stdout);
    expect(json.skipped).toEqual([
      { suite: 'later', reason: 'not written yet (eval/suites/later.ts does not exist)' },
      { suite: 'nodata', reason: 'data missing: expected datasets/nodata/train.csv' },
    ]);
    expect(json.failed).toBeUndefined();
    const table = result.stdout.join('\n');
    expect(table).toMatch(/later\s+skipped\s+not written yet/);
    expect(table).toMatch(/nodata\s+skipped\s+data missing: expected datasets\/nodata\/train\.csv/);
    const report = readFileSync(path.join(out, 'latest.md'), 'utf8');
    expect(report).toContain('| later | skipped |');
  });

  it('fails (exit 1) when a requested suite has no data, and says what is missing', async () => {
    const registry = fakeRegistry({ alpha: fakeSuite('alpha', { available: false }) });
    const result = await run(['--suite', 'alpha', '--json', '--out', out, '--shared', shared], registry);
    expect(result.code).toBe(1);
    const json = lastJson(result.stdout);
    expect(json.suite).toBe('alpha');
    expect(json.metrics).toEqual({});
    const failed = json.failed as Array<{ suite: string; reason: string }>;
    expect(failed[0]?.reason).toContain(`shared folder not found at ${shared}`);
    expect(result.stderr.join('\n')).toContain(`shared folder not found at ${shared}`);
  });

  it('fails when a requested suite is not written yet', async () => {
    const registry = fakeRegistry({ later: { absent: true, reason: 'not written yet' } });
    const result = await run(['--suite', 'later', '--out', out], registry);
    expect(result.code).toBe(1);
    expect(result.stderr.join('\n')).toContain('later: FAILED: not written yet');
  });

  it('reports a broken module as failed but still runs the others', async () => {
    const alpha = fakeSuite('alpha');
    const registry = fakeRegistry({
      broken: { absent: false, reason: 'eval/suites/broken.ts failed to import: boom' },
      alpha,
    });
    const result = await run(['--json', '--out', out], registry);
    expect(result.code).toBe(1);
    expect(alpha.runs).toHaveLength(1);
    const json = lastJson(result.stdout);
    expect(json.failed).toEqual([{ suite: 'broken', reason: 'eval/suites/broken.ts failed to import: boom' }]);
    expect(json.metrics).toHaveProperty('alpha.intent_accuracy', 0.9);
  });

  it('reports a suite that throws as failed with its message, and keeps going', async () => {
    const beta = fakeSuite('beta');
    const registry = fakeRegistry({ alpha: fakeSuite('alpha', { fail: new Error('classifier exploded') }), beta });
    const result = await run(['--json', '--out', out], registry);
    expect(result.code).toBe(1);
    expect(beta.runs).toHaveLength(1);
    expect(lastJson(result.stdout).failed).toEqual([{ suite: 'alpha', reason: 'classifier exploded' }]);
  });

  it('rejects a malformed SuiteResult with the path of the problem', async () => {
    const bad = fakeSuite('alpha', { result: { metrics: metrics({ intent_accuracy: 'high' as unknown as number }) } });
    const result = await run(['--suite', 'alpha', '--out', out], fakeRegistry({ alpha: bad }));
    expect(result.code).toBe(1);
    expect(result.stderr.join('\n')).toContain('invalid SuiteResult at metrics.intent_accuracy');
  });

  it('turns a NaN metric into null with a note, and drops a malformed chart with a note', async () => {
    const suite = fakeSuite('alpha', {
      result: {
        metrics: metrics({ oos_precision: Number.NaN }),
        charts: [{ title: 'bad', kind: 'bar', x: ['a', 'b'], series: [{ name: 's', values: [1] }] }],
      },
    });
    const result = await run(['--suite', 'alpha', '--json', '--out', out], fakeRegistry({ alpha: suite }));
    expect(result.code).toBe(0);
    expect(lastJson(result.stdout).metrics).toEqual({ oos_precision: null });
    const report = readFileSync(path.join(out, 'latest.md'), 'utf8');
    expect(report).toContain('metric oos_precision was NaN, reported as null');
    expect(report).toContain('chart 1 dropped: every series needs one value per x label');
    expect(readdirSync(out).filter((f) => f.endsWith('.svg'))).toEqual([]);
  });

  it('exits 1 when nothing ran at all', async () => {
    const registry = fakeRegistry({ later: { absent: true, reason: 'not written yet' } });
    const result = await run(['--out', out], registry);
    expect(result.code).toBe(1);
    expect(result.stderr.join('\n')).toContain('nothing ran');
  });
});

describe('report files', () => {
  it('writes <stamp>-<suite>.md and latest.md with command, machine, date, tables, notes and SVG links', async () => {
    const suite = fakeSuite('alpha', {
      result: {
        tables: [{ title: 'Hotspots <top>', header: ['pair', 'count'], rows: [['a|b', 3]] }],
        charts: [
          {
            title: 'Recall & <k>',
            kind: 'line',
            xLabel: 'k',
            yLabel: 'recall',
            x: ['1', '3', '5'],
            series: [{ name: 'bm25', values: [0.4, 0.6, 0.7] }],
          },
          { title: 'Per intent', kind: 'bar', x: ['a', 'b'], series: [{ name: 'acc', values: [0.9, 0.8] }] },
        ],
        notes: ['split: validation carved <deterministically>'],
      },
    });
    const result = await run(['--suite', 'alpha', '--quick', '--out', out], fakeRegistry({ alpha: suite }));
    expect(result.code).toBe(0);
    const files = readdirSync(out).sort();
    const markdownName = '2025-01-02T03-04-05Z-alpha.md';
    expect(files).toContain(markdownName);
    expect(files).toContain('latest.md');
    const svgs = files.filter((f) => f.endsWith('.svg'));
    expect(svgs).toEqual(['2025-01-02T03-04-05Z-alpha-per-intent.svg', '2025-01-02T03-04-05Z-alpha-recall-k.svg']);
    expect(result.stdout).toContain(`Report: ${path.join(out, markdownName)}`);

    const markdown = readFileSync(path.join(out, markdownName), 'utf8');
    expect(readFileSync(path.join(out, 'latest.md'), 'utf8')).toBe(markdown);
    expect(markdown).toContain('- Command: `npm run eval -- --suite alpha --quick --out');
    expect(markdown).toContain('- Date: 2025-01-02T03:04:05.678Z');
    expect(markdown).toContain('TestOS 1.0 x64, 2 × Test CPU, 8 GB RAM, Node v20.0.0');
    expect(markdown).toContain('quick (subsampled');
    expect(markdown).toContain('| intent_accuracy | 0.900 |');
    expect(markdown).toContain('### Hotspots &lt;top&gt;');
    expect(markdown).toContain('| a\\|b | 3 |');
    expect(markdown).toContain('- split: validation carved &lt;deterministically&gt;');
    for (const svg of svgs) {
      expect(markdown).toContain(`](${svg})`);
      const text = readFileSync(path.join(out, svg), 'utf8');
      expect(text.startsWith('<svg')).toBe(true);
      expect(text.trimEnd().endsWith('</svg>')).toBe(true);
    }
    const recall = readFileSync(path.join(out, svgs.find((f) => f.includes('recall')) ?? ''), 'utf8');
    expect(recall).toContain('Recall &amp; &lt;k&gt;');
    expect(recall).not.toContain('<k>');
  });

  it('names chart files by suite in a combined run', async () => {
    const chart = { title: 'Per intent', kind: 'bar' as const, x: ['a'], series: [{ name: 's', values: [1] }] };
    const registry = fakeRegistry({
      alpha: fakeSuite('alpha', { result: { charts: [chart, chart] } }),
      beta: fakeSuite('beta', { result: { charts: [chart] } }),
    });
    await run(['--out', out], registry);
    expect(readdirSync(out).filter((f) => f.endsWith('.svg'))).toEqual([
      '2025-01-02T03-04-05Z-all-alpha-per-intent-2.svg',
      '2025-01-02T03-04-05Z-all-alpha-per-intent.svg',
      '2025-01-02T03-04-05Z-all-beta-per-intent.svg',
    ]);
  });

  it('does not overwrite a report from the same second', async () => {
    const registry = fakeRegistry({ alpha: fakeSuite('alpha') });
    await run(['--suite', 'alpha', '--out', out], registry);
    await run(['--suite', 'alpha', '--out', out], registry);
    const reports = readdirSync(out).filter((f) => f.endsWith('.md') && f !== 'latest.md');
    expect(reports.sort()).toEqual(['2025-01-02T03-04-05Z-alpha-2.md', '2025-01-02T03-04-05Z-alpha.md']);
  });
});

describe('backtests', () => {
  it('builds the intents backtest from absolute paths with the default target error', async () => {
    writeFileSync(path.join(work, 'train.jsonl'), '');
    writeFileSync(path.join(work, 'test.jsonl'), '');
    const registry = fakeRegistry({ alpha: fakeSuite('alpha') });
    const result = await run(['--intents', 'train.jsonl', '--test', 'test.jsonl', '--json', '--out', out], registry);
    expect(result.code).toBe(0);
    expect(registry.intentsCalls).toEqual([
      { trainPath: path.join(work, 'train.jsonl'), testPath: path.join(work, 'test.jsonl'), targetError: 0.02 },
    ]);
    // Backtest flags alone run only the backtest, not the default suites.
    expect(lastJson(result.stdout).suite).toBe('intents-backtest');
  });

  it('passes --val and --target-error through', async () => {
    for (const file of ['train.jsonl', 'test.jsonl', 'val.jsonl']) writeFileSync(path.join(work, file), '');
    const registry = fakeRegistry({});
    await run(
      [
        '--intents',
        'train.jsonl',
        '--test',
        'test.jsonl',
        '--val',
        'val.jsonl',
        '--target-error',
        '0.05',
        '--out',
        out,
      ],
      registry,
    );
    expect(registry.intentsCalls[0]).toMatchObject({ valPath: path.join(work, 'val.jsonl'), targetError: 0.05 });
  });

  it('fails with the missing input named when a backtest file does not exist', async () => {
    writeFileSync(path.join(work, 'train.jsonl'), '');
    const registry = fakeRegistry({});
    const result = await run(['--intents', 'train.jsonl', '--test', 'nope.jsonl', '--json', '--out', out], registry);
    expect(result.code).toBe(1);
    expect(registry.intentsCalls).toEqual([]);
    expect(result.stderr.join('\n')).toContain(`input not found: --test ${path.join(work, 'nope.jsonl')}`);
  });

  it('runs both backtests in one combined run', async () => {
    for (const file of ['t.jsonl', 'u.jsonl', 'kb.jsonl', 'q.jsonl']) writeFileSync(path.join(work, file), '');
    const registry = fakeRegistry({});
    const result = await run(
      [
        '--intents',
        't.jsonl',
        '--test',
        'u.jsonl',
        '--kb',
        'kb.jsonl',
        '--questions',
        'q.jsonl',
        '--json',
        '--out',
        out,
      ],
      registry,
    );
    expect(result.code).toBe(0);
    expect(registry.kbCalls).toEqual([
      { kbPath: path.join(work, 'kb.jsonl'), questionsPath: path.join(work, 'q.jsonl') },
    ]);
    const json = lastJson(result.stdout);
    expect(json.suite).toBe('all');
    expect(Object.keys(json.metrics as object)).toContain('kb-backtest.intent_accuracy');
  });
});

describe('usage errors', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--bogus'], /Unknown option '--bogus'/],
    [['--intents', 'x.jsonl'], /--intents needs --test/],
    [['--test', 'x.jsonl'], /--test needs --intents/],
    [['--kb', 'kb.jsonl'], /--kb needs --questions/],
    [['--questions', 'q.jsonl'], /--questions needs --kb/],
    [['--val', 'v.jsonl'], /--val only applies with --intents/],
    [['--intents', 'a', '--test', 'b', '--target-error', '1.5'], /--target-error must be a rate/],
    [['--suite', 'nosuch'], /unknown suite "nosuch"; known suites: alpha/],
    [['stray'], /positional/i],
  ];
  for (const [argv, message] of cases) {
    it(`exits 2 for ${argv.join(' ')}`, async () => {
      const result = await run(argv, fakeRegistry({ alpha: fakeSuite('alpha') }));
      expect(result.code).toBe(2);
      expect(result.stderr.join('\n')).toMatch(message);
      expect(result.stderr.join('\n')).toContain('Usage: npm run eval');
      expect(result.stdout).toEqual([]);
    });
  }
});

describe('--list', () => {
  it('lists every suite with its state even when some are missing or broken, and exits 0', async () => {
    const registry = fakeRegistry({
      alpha: fakeSuite('alpha'),
      nodata: fakeSuite('nodata', { available: false }),
      later: { absent: true, reason: 'not written yet (eval/suites/later.ts does not exist)' },
      broken: { absent: false, reason: 'eval/suites/broken.ts failed to import: boom' },
    });
    const result = await run(['--list', '--out', out], registry);
    expect(result.code).toBe(0);
    const text = result.stdout.join('\n');
    expect(text).toMatch(/alpha\s+ready\s+fake alpha/);
    expect(text).toMatch(/nodata\s+no data/);
    expect(text).toMatch(/later\s+not written\s+not written yet/);
    expect(text).toMatch(/broken\s+broken\s+eval\/suites\/broken\.ts failed to import: boom/);
    expect(text).toContain('intents-backtest');
    // --list measures nothing, so it writes no report.
    expect(() => readdirSync(out)).toThrow();
  });
});
