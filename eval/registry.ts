/**
 * Where the harness finds its suites. Convention (documented in eval/README.md):
 * - a named suite lives in eval/suites/<name>.ts and has the named export `suite: Suite`;
 * - the backtests are factories: eval/suites/intents-backtest.ts exports `createIntentsBacktestSuite`,
 *   eval/suites/kb-backtest.ts exports `createKbBacktestSuite`.
 * Modules are loaded with dynamic import so a suite that is not written yet, or fails to import, is
 * reported on its own instead of crashing the whole run.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Suite } from './types.ts';

/** Suites on public data (read from <shared>/datasets). */
export const DATASET_SUITES = ['clinc150', 'banking77', 'bitext', 'mtrag'] as const;
/** The product's own suites (probes and regression cases kept in the repository). */
export const PRODUCT_SUITES = ['adversarial', 'regressions'] as const;
/** Everything a default run (no --suite, no backtest flags) attempts, in this order. */
export const DEFAULT_SUITES: readonly string[] = [...DATASET_SUITES, ...PRODUCT_SUITES];

export interface IntentsBacktestOptions {
  trainPath: string;
  testPath: string;
  valPath?: string;
  /** Target error rate for the Tier 0 go/no-go, e.g. 0.02. */
  targetError: number;
}

export interface KbBacktestOptions {
  /** A JSONL file of articles, or a directory of them. */
  kbPath: string;
  questionsPath: string;
}

export type LoadResult =
  | { ok: true; suite: Suite }
  /** `absent`: the module file does not exist (not written yet); otherwise it exists but is broken. */
  | { ok: false; absent: boolean; reason: string };

/** What the CLI needs to find suites; tests pass their own object with fake suites. */
export interface SuiteRegistry {
  /** Names a default run attempts, and the only names `--suite` accepts. */
  names(): readonly string[];
  load(name: string): Promise<LoadResult>;
  intentsBacktest(options: IntentsBacktestOptions): Promise<LoadResult>;
  kbBacktest(options: KbBacktestOptions): Promise<LoadResult>;
}

export const INTENTS_BACKTEST_MODULE = 'intents-backtest';
export const KB_BACKTEST_MODULE = 'kb-backtest';

/** Loads suites from `<suitesDir>/<name>.ts` (default: eval/suites/ next to this file). */
export function createModuleRegistry(
  suitesDir: URL = new URL('./suites/', import.meta.url),
  names: readonly string[] = DEFAULT_SUITES,
): SuiteRegistry {
  return {
    names: () => names,
    async load(name) {
      const loaded = await importSuiteModule(suitesDir, name);
      if (!loaded.ok) return loaded;
      return suiteFromExport(loaded.module.suite, `${displayPath(suitesDir, name)} export \`suite\``);
    },
    intentsBacktest: (options) =>
      buildFromFactory(suitesDir, INTENTS_BACKTEST_MODULE, 'createIntentsBacktestSuite', options),
    kbBacktest: (options) => buildFromFactory(suitesDir, KB_BACKTEST_MODULE, 'createKbBacktestSuite', options),
  };
}

type ModuleLoad = { ok: true; module: Record<string, unknown> } | { ok: false; absent: boolean; reason: string };

async function importSuiteModule(suitesDir: URL, name: string): Promise<ModuleLoad> {
  // Names come from the registry list, but guard anyway: a name must never walk out of the folder.
  if (!/^[a-z0-9][a-z0-9_-]*$/i.test(name)) {
    return { ok: false, absent: true, reason: `invalid suite name "${name}"` };
  }
  const url = new URL(`${name}.ts`, suitesDir);
  const shown = displayPath(suitesDir, name);
  if (!existsSync(fileURLToPath(url))) {
    return { ok: false, absent: true, reason: `not written yet (${shown} does not exist)` };
  }
  try {
    const module = (await import(url.href)) as Record<string, unknown>;
    return { ok: true, module };
  } catch (error) {
    return { ok: false, absent: false, reason: `${shown} failed to import: ${errorMessage(error)}` };
  }
}

async function buildFromFactory<O>(suitesDir: URL, moduleName: string, exportName: string, options: O) {
  const loaded = await importSuiteModule(suitesDir, moduleName);
  if (!loaded.ok) return loaded;
  const factory = loaded.module[exportName];
  const shown = displayPath(suitesDir, moduleName);
  if (typeof factory !== 'function') {
    return { ok: false as const, absent: false, reason: `${shown} does not export a function \`${exportName}\`` };
  }
  try {
    // Awaiting covers factories that are async (e.g. read the files up front) as well as sync ones.
    const suite: unknown = await (factory as (o: O) => unknown)(options);
    return suiteFromExport(suite, `${shown} ${exportName}()`);
  } catch (error) {
    return { ok: false as const, absent: false, reason: `${shown} ${exportName}() failed: ${errorMessage(error)}` };
  }
}

/** Checks the shape the harness relies on; a wrong export is a clear error, not a crash later. */
export function suiteFromExport(value: unknown, where: string): LoadResult {
  if (value === null || typeof value !== 'object') {
    return { ok: false, absent: false, reason: `${where} is missing or not a Suite object` };
  }
  const candidate = value as Partial<Suite>;
  const problems: string[] = [];
  if (typeof candidate.name !== 'string' || candidate.name === '') problems.push('name');
  if (typeof candidate.available !== 'function') problems.push('available()');
  if (typeof candidate.run !== 'function') problems.push('run()');
  if (problems.length > 0) {
    return { ok: false, absent: false, reason: `${where} is not a Suite (missing ${problems.join(', ')})` };
  }
  return { ok: true, suite: value as Suite };
}

function displayPath(suitesDir: URL, name: string): string {
  const full = fileURLToPath(new URL(`${name}.ts`, suitesDir));
  const marker = 'eval/suites/';
  const at = full.replaceAll('\\', '/').lastIndexOf(marker);
  return at >= 0 ? full.replaceAll('\\', '/').slice(at) : full;
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
