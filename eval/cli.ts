/**
 * `npm run eval`: runs evaluation suites, prints their tables, writes a Markdown report with SVG charts,
 * and with --json ends stdout with one JSON line. The core is `runEval(argv, io)` so tests run it
 * in-process with fake suites; the bottom of this file only wires the real process.
 */
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import {
  createModuleRegistry,
  errorMessage,
  type IntentsBacktestOptions,
  type KbBacktestOptions,
  type LoadResult,
  type SuiteRegistry,
} from './registry.ts';
import {
  jsonSummary,
  type MachineInfo,
  machineInfo,
  metricsTable,
  renderTextTable,
  type SuiteOutcome,
  statusTable,
  writeReport,
} from './report.ts';
import type { Chart, Suite, SuiteOptions, SuiteResult } from './types.ts';

export interface EvalIo {
  /** One line of stdout (no trailing newline). Tables, the report path and the JSON line. */
  stdout: (line: string) => void;
  /** One line of stderr: progress, warnings, usage errors. */
  stderr: (line: string) => void;
  registry?: SuiteRegistry;
  /** Resolves relative paths given on the command line. Default: process.cwd(). */
  cwd?: string;
  /** Default --shared is <repoRoot>/../shared and default --out is <repoRoot>/reports. */
  repoRoot?: string;
  now?: () => Date;
  /** Milliseconds, for the elapsed time on progress lines. */
  clock?: () => number;
  machine?: MachineInfo;
}

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export const USAGE = `Usage: npm run eval -- [options]

Suites (default: every registered suite; those without data or not written yet are skipped):
  --suite NAME             run this suite (repeatable); see --list
  --list                   list suites and whether each can run, then exit
  --quick                  subsampled smoke run (figures not comparable with a full run)

Backtest on your own data (runs only the backtests unless --suite is also given):
  --intents TRAIN.jsonl --test TEST.jsonl [--val VAL.jsonl] [--target-error 0.02]
                           lines {"text","label","team"?}; label "oos" marks out-of-scope
  --kb KB.jsonl|DIR --questions Q.jsonl
                           KB lines {"id","title","body","url"?}; question lines
                           {"id","question","article_ids":[...],"answerable":true|false}

Output:
  --json                   last stdout line is one JSON object {"suite","metrics"}
  --shared DIR             shared data folder (default: ../shared next to the repository)
  --out DIR                report folder (default: reports/ in the repository)
  -h, --help               this text

Exit codes: 0 ok, 1 a requested suite failed or its data is missing (or nothing ran), 2 usage error.`;

const DEFAULT_TARGET_ERROR = 0.02;

const OPTIONS = {
  suite: { type: 'string', multiple: true },
  list: { type: 'boolean' },
  quick: { type: 'boolean' },
  json: { type: 'boolean' },
  shared: { type: 'string' },
  out: { type: 'string' },
  intents: { type: 'string' },
  test: { type: 'string' },
  val: { type: 'string' },
  'target-error': { type: 'string' },
  kb: { type: 'string' },
  questions: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

class UsageError extends Error {}

/** One unit of work: a registered suite by name, or a backtest built from files. */
type PlannedSuite =
  | { kind: 'named'; name: string; requested: boolean }
  | { kind: 'intents'; name: 'intents-backtest'; options: IntentsBacktestOptions }
  | { kind: 'kb'; name: 'kb-backtest'; options: KbBacktestOptions };

interface Settings {
  list: boolean;
  help: boolean;
  quick: boolean;
  json: boolean;
  sharedDir: string;
  outDir: string;
  plan: PlannedSuite[];
  /** True when the JSON line uses the combined {"suite":"all"} shape. */
  combined: boolean;
}

export async function runEval(argv: string[], io: EvalIo): Promise<number> {
  const registry = io.registry ?? createModuleRegistry();
  let settings: Settings;
  try {
    settings = parseSettings(argv, io, registry);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr(`eval: ${error.message}`);
    io.stderr('');
    io.stderr(USAGE);
    return EXIT_USAGE;
  }
  if (settings.help) {
    for (const line of USAGE.split('\n')) io.stdout(line);
    return EXIT_OK;
  }
  const sharedPresent = existsSync(settings.sharedDir);
  const suiteOptionsBase = { sharedDir: settings.sharedDir, quick: settings.quick };
  if (settings.list) return listSuites(registry, io, suiteOptionsBase, sharedPresent);

  const clock = io.clock ?? (() => performance.now());
  const startedMs = clock();
  const startedAt = (io.now ?? (() => new Date()))();
  const elapsed = () => `[${((clock() - startedMs) / 1000).toFixed(1).padStart(6)}s]`;
  if (!sharedPresent && settings.plan.some((p) => p.kind === 'named')) {
    io.stderr(
      `${elapsed()} shared folder not found at ${settings.sharedDir}: suites on public datasets cannot run (pass --shared DIR)`,
    );
  }

  const outcomes: SuiteOutcome[] = [];
  for (const planned of settings.plan) {
    // Suites often prefix their own name already; do not print it twice.
    const ownPrefix = `${planned.name}: `;
    const progress = (line: string) =>
      io.stderr(`${elapsed()} ${ownPrefix}${line.startsWith(ownPrefix) ? line.slice(ownPrefix.length) : line}`);
    const options: SuiteOptions = { ...suiteOptionsBase, progress };
    const outcome = await runPlanned(planned, registry, options, sharedPresent, clock);
    outcomes.push(outcome);
    reportOutcome(outcome, io, elapsed());
  }

  if (settings.combined) {
    io.stdout('');
    io.stdout(renderTextTable(statusTable(outcomes)));
  }
  let exitCode = outcomes.some((o) => o.status === 'failed') ? EXIT_FAILED : EXIT_OK;
  if (!outcomes.some((o) => o.status === 'ok')) {
    io.stderr(`${elapsed()} nothing ran: every selected suite was skipped or failed`);
    exitCode = EXIT_FAILED;
  }

  try {
    const written = await writeReport(
      {
        commandLine: commandLine(argv),
        startedAt,
        machine: io.machine ?? machineInfo(),
        sharedDir: settings.sharedDir,
        sharedPresent,
        quick: settings.quick,
        label: settings.combined ? 'all' : (settings.plan[0]?.name ?? 'none'),
        outcomes,
      },
      settings.outDir,
    );
    io.stdout('');
    io.stdout(`Report: ${written.markdownPath}`);
  } catch (error) {
    io.stderr(`${elapsed()} could not write the report to ${settings.outDir}: ${errorMessage(error)}`);
    exitCode = EXIT_FAILED;
  }
  if (settings.json) io.stdout(JSON.stringify(jsonSummary(outcomes, settings.combined)));
  return exitCode;
}

// ---------------------------------------------------------------------------------------------
// Arguments

function parseSettings(argv: string[], io: EvalIo, registry: SuiteRegistry): Settings {
  let values: ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS }>>['values'];
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    // parseArgs messages already name the flag ("Unknown option '--foo'").
    throw new UsageError(errorMessage(error).replace(/^ERR_PARSE_ARGS_[A-Z_]+: /, ''));
  }
  const cwd = io.cwd ?? process.cwd();
  const repoRoot = io.repoRoot ?? fileURLToPath(new URL('..', import.meta.url));
  const resolve = (p: string) => path.resolve(cwd, p);

  requireCompanions(values);
  const known = registry.names();
  const requestedNames = [...new Set(values.suite ?? [])];
  for (const name of requestedNames) {
    if (!known.includes(name)) {
      throw new UsageError(`unknown suite "${name}"; known suites: ${known.join(', ')} (backtests use --intents/--kb)`);
    }
  }

  const plan: PlannedSuite[] = requestedNames.map((name) => ({ kind: 'named', name, requested: true }));
  if (values.intents !== undefined && values.test !== undefined) {
    plan.push({
      kind: 'intents',
      name: 'intents-backtest',
      options: {
        trainPath: resolve(values.intents),
        testPath: resolve(values.test),
        ...(values.val === undefined ? {} : { valPath: resolve(values.val) }),
        targetError: parseTargetError(values['target-error']),
      },
    });
  }
  if (values.kb !== undefined && values.questions !== undefined) {
    plan.push({
      kind: 'kb',
      name: 'kb-backtest',
      options: { kbPath: resolve(values.kb), questionsPath: resolve(values.questions) },
    });
  }
  const isDefaultRun = plan.length === 0;
  if (isDefaultRun) {
    for (const name of known) plan.push({ kind: 'named', name, requested: false });
  }
  return {
    list: values.list === true,
    help: values.help === true,
    quick: values.quick === true,
    json: values.json === true,
    sharedDir: values.shared === undefined ? path.resolve(repoRoot, '..', 'shared') : resolve(values.shared),
    outDir: values.out === undefined ? path.join(repoRoot, 'reports') : resolve(values.out),
    plan,
    combined: isDefaultRun || plan.length > 1,
  };
}

function requireCompanions(values: Record<string, unknown>): void {
  const has = (flag: string) => values[flag] !== undefined;
  if (has('intents') !== has('test')) {
    throw new UsageError(has('intents') ? '--intents needs --test TEST.jsonl' : '--test needs --intents TRAIN.jsonl');
  }
  for (const flag of ['val', 'target-error']) {
    if (has(flag) && !has('intents')) throw new UsageError(`--${flag} only applies with --intents and --test`);
  }
  if (has('kb') !== has('questions')) {
    throw new UsageError(has('kb') ? '--kb needs --questions Q.jsonl' : '--questions needs --kb KB.jsonl|DIR');
  }
}

function parseTargetError(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_TARGET_ERROR;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value <= 0 || value >= 1) {
    throw new UsageError(`--target-error must be a rate between 0 and 1 (exclusive), e.g. 0.02; got "${raw}"`);
  }
  return value;
}

/** How to reproduce the run, as written in the report. */
export function commandLine(argv: string[]): string {
  const quoted = argv.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`));
  return quoted.length === 0 ? 'npm run eval' : `npm run eval -- ${quoted.join(' ')}`;
}

// ---------------------------------------------------------------------------------------------
// Running one suite

async function runPlanned(
  planned: PlannedSuite,
  registry: SuiteRegistry,
  options: SuiteOptions,
  sharedPresent: boolean,
  clock: () => number,
): Promise<SuiteOutcome> {
  const name = planned.name;
  const requested = planned.kind !== 'named' || planned.requested;
  const missingFiles = planned.kind === 'named' ? [] : missingInputs(planned);
  if (missingFiles.length > 0) {
    return { status: 'failed', name, reason: `input not found: ${missingFiles.join('; ')}` };
  }
  const loaded = await loadPlanned(planned, registry);
  if (!loaded.ok) {
    // Not written yet is a skip in a default run; a broken module is always a failure.
    if (loaded.absent && !requested) return { status: 'skipped', name, reason: loaded.reason };
    return { status: 'failed', name, reason: loaded.reason };
  }
  const suite = loaded.suite;
  const description = suite.description;
  let available: boolean;
  try {
    available = suite.available(options);
  } catch (error) {
    return { status: 'failed', name, description, reason: `available() threw: ${errorMessage(error)}` };
  }
  if (!available) {
    const reason = `data missing: ${describeMissing(suite, options, sharedPresent)}`;
    return requested
      ? { status: 'failed', name, description, reason }
      : { status: 'skipped', name, description, reason };
  }
  const started = clock();
  const seconds = () => (clock() - started) / 1000;
  options.progress('started');
  let raw: unknown;
  try {
    raw = await suite.run(options);
  } catch (error) {
    if (error instanceof Error && error.stack) options.progress(error.stack);
    return { status: 'failed', name, description, reason: errorMessage(error), seconds: seconds() };
  }
  const checked = checkResult(raw);
  if (!checked.ok) {
    return { status: 'failed', name, description, reason: checked.reason, seconds: seconds() };
  }
  options.progress(`done in ${seconds().toFixed(1)} s`);
  return { status: 'ok', name, description, seconds: seconds(), result: checked.result };
}

function loadPlanned(planned: PlannedSuite, registry: SuiteRegistry): Promise<LoadResult> {
  switch (planned.kind) {
    case 'named':
      return registry.load(planned.name);
    case 'intents':
      return registry.intentsBacktest(planned.options);
    case 'kb':
      return registry.kbBacktest(planned.options);
  }
}

function missingInputs(planned: Exclude<PlannedSuite, { kind: 'named' }>): string[] {
  const inputs: Array<[string, string | undefined]> =
    planned.kind === 'intents'
      ? [
          ['--intents', planned.options.trainPath],
          ['--test', planned.options.testPath],
          ['--val', planned.options.valPath],
        ]
      : [
          ['--kb', planned.options.kbPath],
          ['--questions', planned.options.questionsPath],
        ];
  return inputs.flatMap(([flag, file]) => (file !== undefined && !existsSync(file) ? [`${flag} ${file}`] : []));
}

/**
 * Optional convention: a suite may also have `describeMissing(options): string` naming the files it
 * looked for. Without it the harness can only point at the shared folder.
 */
function describeMissing(suite: Suite, options: SuiteOptions, sharedPresent: boolean): string {
  const describe = (suite as { describeMissing?: unknown }).describeMissing;
  if (typeof describe === 'function') {
    try {
      const text: unknown = describe.call(suite, options);
      if (typeof text === 'string' && text !== '') return text;
    } catch {
      // Fall back to the generic message below.
    }
  }
  return sharedPresent
    ? `${suite.name} found no data under ${path.join(options.sharedDir, 'datasets')}`
    : `shared folder not found at ${options.sharedDir} (pass --shared DIR)`;
}

// A suite is someone else's code: check its result at this edge before printing or writing it.
const cellSchema = z.union([z.string(), z.custom<number>((v) => typeof v === 'number')]);
const resultSchema = z.object({
  suite: z.string().min(1),
  metrics: z.record(
    z.string(),
    z.custom<number | null>((v) => v === null || typeof v === 'number', 'must be a number or null'),
  ),
  tables: z.array(z.object({ title: z.string(), header: z.array(z.string()), rows: z.array(z.array(cellSchema)) })),
  charts: z.array(z.unknown()),
  notes: z.array(z.string()),
});
const chartSchema = z
  .object({
    title: z.string(),
    kind: z.enum(['bar', 'line']),
    xLabel: z.string().optional(),
    yLabel: z.string().optional(),
    x: z.array(z.string()),
    series: z.array(z.object({ name: z.string(), values: z.array(z.custom<number>((v) => typeof v === 'number')) })),
  })
  .refine((chart) => chart.series.every((s) => s.values.length === chart.x.length), {
    message: 'every series needs one value per x label',
  });

export function checkResult(raw: unknown): { ok: true; result: SuiteResult } | { ok: false; reason: string } {
  const parsed = resultSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      reason: `invalid SuiteResult at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'unknown'}`,
    };
  }
  const notes = [...parsed.data.notes];
  // JSON cannot carry NaN or Infinity; say so instead of printing a silent null.
  const metrics: Record<string, number | null> = {};
  for (const [name, value] of Object.entries(parsed.data.metrics)) {
    if (value !== null && !Number.isFinite(value)) {
      notes.push(`harness: metric ${name} was ${value}, reported as null`);
      metrics[name] = null;
    } else {
      metrics[name] = value;
    }
  }
  // A malformed chart should not cost the suite its metrics: drop it and say why.
  const charts: Chart[] = [];
  parsed.data.charts.forEach((candidate, index) => {
    const chart = chartSchema.safeParse(candidate);
    if (chart.success) charts.push(chart.data);
    else notes.push(`harness: chart ${index + 1} dropped: ${chart.error.issues[0]?.message ?? 'invalid'}`);
  });
  return { ok: true, result: { ...parsed.data, metrics, charts, notes } };
}

const TERMINAL_MAX_ROWS = 25;

function reportOutcome(outcome: SuiteOutcome, io: EvalIo, stamp: string): void {
  if (outcome.status !== 'ok') {
    io.stderr(`${stamp} ${outcome.name}: ${outcome.status.toUpperCase()}: ${outcome.reason}`);
    return;
  }
  io.stdout('');
  io.stdout(renderTextTable(metricsTable(outcome.result)));
  for (const table of outcome.result.tables) {
    io.stdout('');
    io.stdout(renderTextTable({ ...table, title: `${outcome.result.suite}: ${table.title}` }, TERMINAL_MAX_ROWS));
  }
}

// ---------------------------------------------------------------------------------------------
// --list

async function listSuites(
  registry: SuiteRegistry,
  io: EvalIo,
  base: { sharedDir: string; quick: boolean },
  sharedPresent: boolean,
): Promise<number> {
  const options: SuiteOptions = { ...base, progress: () => {} };
  const rows: string[][] = [];
  for (const name of registry.names()) {
    const loaded = await registry.load(name);
    if (!loaded.ok) {
      rows.push([name, loaded.absent ? 'not written' : 'broken', loaded.reason]);
      continue;
    }
    let status: string;
    try {
      status = loaded.suite.available(options) ? 'ready' : 'no data';
    } catch (error) {
      status = `available() threw: ${errorMessage(error)}`;
    }
    rows.push([name, status, loaded.suite.description]);
  }
  rows.push([
    'intents-backtest',
    'flags',
    '--intents TRAIN.jsonl --test TEST.jsonl [--val VAL.jsonl] [--target-error R]',
  ]);
  rows.push(['kb-backtest', 'flags', '--kb KB.jsonl|DIR --questions Q.jsonl']);
  io.stdout(renderTextTable({ title: 'Suites', header: ['suite', 'status', 'detail'], rows }));
  io.stdout('');
  io.stdout(`Shared data: ${base.sharedDir}${sharedPresent ? '' : ' (not found; pass --shared DIR)'}`);
  return EXIT_OK;
}

// ---------------------------------------------------------------------------------------------
// Process entry

function isMainModule(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMainModule()) {
  const code = await runEval(process.argv.slice(2), {
    stdout: (line) => process.stdout.write(`${line}\n`),
    stderr: (line) => process.stderr.write(`${line}\n`),
  });
  process.exitCode = code;
  // A suite that leaves a timer or socket open must not hang CI; unref'd, so a clean exit is not delayed.
  setTimeout(() => process.exit(code), 2000).unref();
}
