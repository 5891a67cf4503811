/**
 * npm run bench [-- --quick] [-- --json] [-- --only ingest,overhead,...]: the performance benchmark.
 * Every figure is measured in this one run on loopback (127.0.0.1) with bounded counts and times;
 * every child process and server it starts is stopped at the end, also on error or Ctrl-C.
 * Progress goes to stderr; stdout gets the table and, with --json, a last line of JSON.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadDefaultModel } from '../server/triage/classifier/index.ts';
import { createKnowledgeIndex, type KnowledgeIndex } from '../server/triage/knowledge/index.ts';
import { loadArticles } from '../server/triage/knowledge/sources.ts';
import { SAMPLE_KB_DIR } from '../server/triage/setup.ts';
import type { Article } from '../server/triage/types.ts';
import { generateArticles } from './data/synthetic-kb.ts';
import { type BenchTicket, benchTickets } from './data/tickets.ts';
import { startLatencyFake } from './lib/anthropic-latency.ts';
import { benchClassifier } from './lib/engine.ts';
import { LARGE_MODEL, SMALL_MODEL } from './lib/llm-fakes.ts';
import { allSpawnedPids, runningChildren, stopAllChildren } from './lib/processes.ts';
import { progress } from './lib/progress.ts';
import { round } from './lib/stats.ts';
import { runRoot } from './lib/temp.ts';
import { type ClassifierResult, measureClassifier } from './parts/classifier.ts';
import { type CostResult, measureCost } from './parts/cost.ts';
import { type E2eRun, measureE2e } from './parts/e2e.ts';
import { type IngestResult, measureIngest } from './parts/ingest.ts';
import { measureIdleRss, measureKbRss } from './parts/memory.ts';
import { measureOverhead, type OverheadResult } from './parts/overhead.ts';
import { measureRetrieval, type RetrievalResult } from './parts/retrieval.ts';
import { formatValue, type Row, renderTable, TARGETS, verdict } from './report.ts';

const PARTS = ['ingest', 'overhead', 'e2e', 'classifier', 'retrieval', 'memory', 'cost'] as const;
type Part = (typeof PARTS)[number];

interface Plan {
  ingestSeconds: number;
  ingestWarmupSeconds: number;
  overheadTickets: number;
  e2eConcurrencies: number[];
  e2eTicketsPerWorker: number;
  useClinc: boolean;
  classifyCalls: number;
  retrievalQueries2k: number;
  retrievalQueries20k: number;
  /** The 20,000-article parts (retrieval, RSS): their index alone takes tens of seconds to build. */
  largeKb: boolean;
  costWithoutCaching: boolean;
}

const FULL: Plan = {
  ingestSeconds: 10,
  ingestWarmupSeconds: 2,
  overheadTickets: 2_000,
  e2eConcurrencies: [4, 16, 64, 256, 512],
  e2eTicketsPerWorker: 3,
  useClinc: true,
  classifyCalls: 5_000,
  retrievalQueries2k: 500,
  retrievalQueries20k: 300,
  largeKb: true,
  costWithoutCaching: true,
};

const QUICK: Plan = {
  ingestSeconds: 2,
  ingestWarmupSeconds: 1,
  overheadTickets: 200,
  e2eConcurrencies: [64],
  e2eTicketsPerWorker: 2,
  useClinc: false,
  classifyCalls: 1_000,
  retrievalQueries2k: 100,
  retrievalQueries20k: 0,
  largeKb: false,
  costWithoutCaching: false,
};

const COST_TICKETS = 500;
const KB_SMALL = 2_000;
const KB_LARGE = 20_000;
const LLM_LATENCY = { smallMs: 600, largeMs: 4_000 };

function usage(): never {
  process.stderr.write(`usage: npm run bench -- [--quick] [--json] [--only ${PARTS.join(',')}] [--shared DIR]\n`);
  process.exit(2);
}

function parseCli() {
  let parsed: ReturnType<typeof parseArgs<{ options: Record<string, { type: 'boolean' | 'string' }> }>>;
  try {
    parsed = parseArgs({
      args: process.argv.slice(2),
      options: {
        quick: { type: 'boolean' },
        json: { type: 'boolean' },
        only: { type: 'string' },
        shared: { type: 'string' },
      },
    });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    usage();
  }
  const only =
    typeof parsed.values.only === 'string' ? parsed.values.only.split(',').map((part) => part.trim()) : [...PARTS];
  for (const part of only) if (!(PARTS as readonly string[]).includes(part)) usage();
  return {
    quick: parsed.values.quick === true,
    json: parsed.values.json === true,
    parts: new Set(only as Part[]),
    sharedDir:
      typeof parsed.values.shared === 'string'
        ? parsed.values.shared
        : fileURLToPath(new URL('../../shared', import.meta.url)),
  };
}

function toJsonl(articles: Article[]): string {
  return `${articles
    .map((article) =>
      JSON.stringify({
        id: article.id,
        title: article.title,
        body: article.body,
        ...(article.url ? { url: article.url } : {}),
        ...(article.productArea ? { product_area: article.productArea } : {}),
        ...(article.updatedAt ? { updated_at: article.updatedAt } : {}),
        ...(article.reviewedAt ? { reviewed_at: article.reviewedAt } : {}),
      }),
    )
    .join('\n')}\n`;
}

function buildIndex(articles: Article[]): { index: KnowledgeIndex; seconds: number } {
  const started = performance.now();
  const index = createKnowledgeIndex(articles);
  return { index, seconds: (performance.now() - started) / 1000 };
}

function machine() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpu_model: cpus[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    memory_gb: round(os.totalmem() / 1024 ** 3, 1),
    load_average_start: round(os.loadavg()[0], 2),
  };
}

interface Results {
  ingest?: IngestResult;
  overhead?: OverheadResult;
  e2e?: E2eRun[];
  classifier?: ClassifierResult;
  retrieval2k?: RetrievalResult;
  retrieval20k?: RetrievalResult;
  rssIdle?: number | null;
  rssKb?: { mb: number | null; firstTriageSeconds: number };
  cost?: CostResult;
  notes: string[];
  errors: string[];
}

async function attempt<T>(results: Results, label: string, work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (error) {
    const message = `${label}: ${error instanceof Error ? error.message : String(error)}`;
    progress(`FAILED ${message}`);
    results.errors.push(message.slice(0, 2_000));
    return undefined;
  }
}

async function main(): Promise<number> {
  const cli = parseCli();
  const plan = cli.quick ? QUICK : FULL;
  const info = machine();
  const results: Results = { notes: [], errors: [] };
  const workDir = runRoot();
  const closers: Array<() => Promise<void>> = [];
  progress(
    `${cli.quick ? 'quick' : 'full'} run on ${info.cpus} cpus (${info.cpu_model}), node ${info.node}, load ${info.load_average_start}`,
  );

  try {
    const tickets: BenchTicket[] = benchTickets(COST_TICKETS);
    const samples = loadArticles(SAMPLE_KB_DIR);
    const kbSmall = [...samples, ...generateArticles({ count: KB_SMALL - samples.length })];
    const kbSmallPath = join(workDir, 'kb-2k.jsonl');
    writeFileSync(kbSmallPath, toJsonl(kbSmall));
    const modelCacheFile = join(workDir, 'models', 'default-intent-model.json');
    mkdirSync(join(workDir, 'models'), { recursive: true });
    const classifier = benchClassifier(loadDefaultModel({ cachePath: modelCacheFile }));
    progress(
      `inputs: ${tickets.length} tickets, KB of ${kbSmall.length} articles (${samples.length} sample + synthetic)`,
    );
    let small: { index: KnowledgeIndex; seconds: number } | undefined;
    const smallIndex = () => {
      small ??= buildIndex(kbSmall);
      return small;
    };

    const sandboxAvailable = existsSync(join(cli.sharedDir, 'specs'));
    const sandbox = sandboxAvailable
      ? await attempt(results, 'zendesk sandbox', async () => {
          const { startZendeskSandbox } = await import('../test/fakes/zendesk-sandbox.ts');
          return startZendeskSandbox();
        })
      : undefined;
    if (sandbox) closers.push(() => sandbox.close());
    else
      results.notes.push(
        `no Zendesk sandbox (it validates against ${join(cli.sharedDir, 'specs')}): end to end not run`,
      );

    if (cli.parts.has('ingest')) {
      results.ingest = await attempt(results, 'ingest', () =>
        measureIngest({
          durationS: plan.ingestSeconds,
          warmupS: plan.ingestWarmupSeconds,
          connections: 50,
          rate: 500,
          zendesk: sandbox
            ? { url: sandbox.url, email: sandbox.email, apiToken: sandbox.apiToken }
            : { url: 'http://127.0.0.1:9', email: 'bench@example.com', apiToken: 'unused' },
        }),
      );
    }

    if (cli.parts.has('overhead')) {
      results.overhead = await attempt(results, 'overhead', () =>
        measureOverhead({
          classifier,
          index: smallIndex().index,
          tickets,
          count: plan.overheadTickets,
          warmup: Math.min(100, plan.overheadTickets),
        }),
      );
    }

    if (cli.parts.has('e2e') && sandbox) {
      results.e2e = await attempt(results, 'e2e', async () => {
        const fake = await startLatencyFake({
          smallModel: SMALL_MODEL,
          largeModel: LARGE_MODEL,
          ...LLM_LATENCY,
          classify: (text) => ({ intent: classifier.classify(text).intent, confidence: 0.9 }),
        });
        try {
          return await measureE2e({
            sandbox,
            llmUrl: fake.url,
            kbPath: kbSmallPath,
            modelCacheFile,
            tickets,
            concurrencies: plan.e2eConcurrencies,
            ticketsFor: (concurrency) => Math.max(24, concurrency * plan.e2eTicketsPerWorker),
          });
        } finally {
          await fake.close();
        }
      });
    }

    if (cli.parts.has('classifier')) {
      results.classifier = await attempt(results, 'classifier', async () =>
        measureClassifier({
          sharedDir: cli.sharedDir,
          useClinc: plan.useClinc,
          classifyCount: plan.classifyCalls,
          longTickets: plan.useClinc,
        }),
      );
    }

    let kbLargePath: string | undefined;
    const largeKb = () => [...samples, ...generateArticles({ count: KB_LARGE - samples.length })];
    if (cli.parts.has('retrieval')) {
      results.retrieval2k = await attempt(results, 'retrieval 2k', async () => {
        const { index, seconds } = smallIndex();
        return measureRetrieval({ index, buildSeconds: seconds, tickets, count: plan.retrievalQueries2k });
      });
      if (!plan.largeKb) results.notes.push('quick: the 20,000-article parts (retrieval, RSS) are not run');
      results.retrieval20k = !plan.largeKb
        ? undefined
        : await attempt(results, 'retrieval 20k', async () => {
            progress(`retrieval: building the ${KB_LARGE}-article index`);
            const { index, seconds } = buildIndex(largeKb());
            return measureRetrieval({ index, buildSeconds: seconds, tickets, count: plan.retrievalQueries20k });
          });
    }

    // Memory and cost do not time anything, so they share the CPU.
    const memory = cli.parts.has('memory')
      ? (async () => {
          results.rssIdle = await attempt(results, 'rss idle', () => measureIdleRss(modelCacheFile));
          if (!plan.largeKb) return;
          kbLargePath = join(workDir, 'kb-20k.jsonl');
          writeFileSync(kbLargePath, toJsonl(largeKb()));
          results.rssKb = await attempt(results, 'rss with 20k KB', () => measureKbRss(modelCacheFile, kbLargePath!));
        })()
      : Promise.resolve();
    const cost = cli.parts.has('cost')
      ? attempt(results, 'cost', () =>
          measureCost({ classifier, index: smallIndex().index, tickets, withoutCaching: plan.costWithoutCaching }),
        )
      : Promise.resolve(undefined);
    const [, costResult] = await Promise.all([memory, cost]);
    results.cost = costResult;
  } finally {
    for (const close of closers) await close().catch(() => undefined);
    await stopAllChildren();
    rmSync(workDir, { recursive: true, force: true });
  }

  const output = summarize(results, info, cli.quick);
  process.stdout.write(`\n${output.table}\n`);
  if (cli.json) process.stdout.write(`${JSON.stringify(output.json)}\n`);
  return results.errors.length === 0 ? 0 : 1;
}

function summarize(results: Results, info: ReturnType<typeof machine>, quick: boolean) {
  const e2eTop = results.e2e?.at(-1);
  const figures: Record<string, number | null> = {
    ingest_ratio: round(results.ingest?.ratio, 3),
    ingest_p99_ms: round(results.ingest?.servicePaced.p99Ms),
    overhead_p99_ms: round(results.overhead?.latency.p99, 3),
    e2e_tickets_per_s: round(e2eTop?.ticketsPerSecond),
    rss_idle_mb: round(results.rssIdle),
    rss_kb20k_mb: round(results.rssKb?.mb),
    cost_per_ticket_usd: round(results.cost?.ours.perTicketUsd, 6),
    seed_cost_per_ticket_usd: round(results.cost?.seed.perTicketUsd, 6),
    cost_ratio: round(results.cost?.ratio, 3),
    retrieval_p99_ms_2k: round(results.retrieval2k?.latency.p99, 3),
    retrieval_p99_ms_20k: round(results.retrieval20k?.latency.p99, 3),
  };
  const extra = {
    ingest_p50_ms: round(results.ingest?.servicePaced.p50Ms),
    ingest_rps_at_500: round(results.ingest?.servicePaced.achievedRps, 1),
    ingest_after_max_p99_ms: round(results.ingest?.servicePacedAfterMax.p99Ms),
    ingest_burst_p50_ms: round(results.ingest?.serviceAt500.p50Ms),
    ingest_burst_p99_ms: round(results.ingest?.serviceAt500.p99Ms),
    ingest_max_rps: round(results.ingest?.serviceMax.rps, 1),
    ingest_max_p99_ms: round(results.ingest?.serviceMax.p99Ms),
    bare_max_rps: round(results.ingest?.bare.rps, 1),
    ingest_persisted_jobs: results.ingest?.persistedJobs ?? null,
    ingest_accepted: results.ingest?.acceptedDeliveries ?? null,
    overhead_p50_ms: round(results.overhead?.latency.p50, 3),
    e2e_by_concurrency: Object.fromEntries(
      (results.e2e ?? []).map((run) => [String(run.concurrency), round(run.ticketsPerSecond)]),
    ),
    e2e_runs: results.e2e ?? null,
    classifier_source: results.classifier?.source ?? null,
    classifier_train_examples: results.classifier?.trainExamples ?? null,
    classifier_train_s: round(results.classifier?.trainSeconds),
    classify_p99_ms: round(results.classifier?.classify.p99, 3),
    classifier_long_train_s: round(results.classifier?.long?.trainSeconds),
    classifier_long_mean_words: round(results.classifier?.long?.meanWords, 0),
    retrieval_p50_ms_2k: round(results.retrieval2k?.latency.p50, 3),
    retrieval_p50_ms_20k: round(results.retrieval20k?.latency.p50, 3),
    index_build_s_2k: round(results.retrieval2k?.buildSeconds),
    index_build_s_20k: round(results.retrieval20k?.buildSeconds),
    kb20k_first_triage_s: round(results.rssKb?.firstTriageSeconds),
    cost_per_ticket_usd_without_caching: round(results.cost?.oursWithoutCaching?.perTicketUsd, 6),
    small_model_classify_share: results.cost ? round(results.cost.ours.classifyCalls / results.cost.tickets, 3) : null,
    cost_detail: results.cost ?? null,
  };
  const value = (key: string) => figures[key] ?? null;
  const rows: Row[] = [];
  const targetRow = (key: string, digits = 2) => {
    const target = TARGETS.find((entry) => entry.key === key)!;
    rows.push({
      label: target.label,
      value: formatValue(value(key), target.unit, digits),
      target: `${target.kind === 'min' ? '>=' : '<='} ${target.bound} ${target.unit}`,
      result: verdict(target, value(key)),
    });
  };
  const infoRow = (label: string, text: string) => rows.push({ label, value: text, target: '', result: '' });
  const ingest = results.ingest;
  targetRow('ingest_ratio', 3);
  if (ingest) {
    infoRow(
      '  service max / bare 204',
      `${ingest.serviceMax.rps.toFixed(0)} / ${ingest.bare.rps.toFixed(0)} req/s (50 conn.)`,
    );
    infoRow(
      '  at 500 req/s, evenly spaced: p50 / p99',
      `${ingest.servicePaced.achievedRps.toFixed(0)} req/s, ${ingest.servicePaced.p50Ms.toFixed(1)} / ${ingest.servicePaced.p99Ms.toFixed(1)} ms`,
    );
    infoRow(
      '  the same, right after the full-speed run',
      `${ingest.servicePacedAfterMax.achievedRps.toFixed(0)} req/s, ${ingest.servicePacedAfterMax.p50Ms.toFixed(1)} / ${ingest.servicePacedAfterMax.p99Ms.toFixed(1)} ms`,
    );
    infoRow(
      '  at 500 req/s, autocannon bursts: p50 / p99',
      `${ingest.serviceAt500.rps.toFixed(0)} req/s, ${ingest.serviceAt500.p50Ms} / ${ingest.serviceAt500.p99Ms} ms`,
    );
    infoRow(
      '  jobs persisted / 202 seen',
      `${ingest.persistedJobs} / ${ingest.acceptedDeliveries} (workers not started)`,
    );
  }
  targetRow('ingest_p99_ms');
  targetRow('overhead_p99_ms', 3);
  if (results.overhead) infoRow('  overhead p50', formatValue(results.overhead.latency.p50, 'ms', 3));
  targetRow('e2e_tickets_per_s');
  for (const run of results.e2e ?? []) {
    infoRow(
      `  concurrency ${run.concurrency}`,
      `${run.ticketsPerSecond.toFixed(2)} tickets/s (${run.written}/${run.tickets} written, p50 ${run.latencyP50S.toFixed(1)} s)`,
    );
  }
  targetRow('rss_idle_mb', 1);
  infoRow('RSS with 20,000-article KB', formatValue(value('rss_kb20k_mb'), 'MB', 1));
  targetRow('cost_ratio', 3);
  infoRow(
    '  cost per ticket ours / seed',
    `$${value('cost_per_ticket_usd') ?? '?'} / $${value('seed_cost_per_ticket_usd') ?? '?'}`,
  );
  if (results.cost)
    infoRow('  small model asked (ours)', `${results.cost.ours.classifyCalls} of ${results.cost.tickets} tickets`);
  infoRow(
    `Classifier training (${results.classifier?.source ?? '-'}${results.classifier ? `, ${results.classifier.trainExamples}` : ''})`,
    formatValue(extra.classifier_train_s, 's'),
  );
  infoRow('Classification p99', formatValue(extra.classify_p99_ms, 'ms', 3));
  if (results.classifier?.long)
    infoRow(
      `Classifier training (15,000 tickets of ${extra.classifier_long_mean_words} words)`,
      formatValue(extra.classifier_long_train_s, 's'),
    );
  infoRow('Retrieval p99, 2,000 articles', formatValue(value('retrieval_p99_ms_2k'), 'ms', 3));
  infoRow('Retrieval p99, 20,000 articles', formatValue(value('retrieval_p99_ms_20k'), 'ms', 3));
  const header = [
    `Benchmark (${quick ? 'quick: smaller counts, shorter runs' : 'full'}) — ${info.cpus} cpus (${info.cpu_model}), node ${info.node}, ${info.platform}, load average at start ${info.load_average_start}, at end ${round(os.loadavg()[0], 2)}`,
    ...results.notes.map((note) => `note: ${note}`),
    ...results.errors.map((error) => `error: ${error}`),
  ].join('\n');
  const targets = Object.fromEntries(TARGETS.map((target) => [target.key, verdict(target, value(target.key))]));
  return {
    table: `${header}\n\n${renderTable(rows)}`,
    json: {
      ...figures,
      ...extra,
      quick,
      machine: { ...info, load_average_end: round(os.loadavg()[0], 2) },
      targets,
      child_pids: allSpawnedPids(),
      notes: results.notes,
      errors: results.errors,
    },
  };
}

main().then(
  (code) => {
    if (runningChildren() > 0) progress('warning: child processes still running at exit; killing them');
    process.exit(code);
  },
  async (error: unknown) => {
    progress(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    await stopAllChildren();
    process.exit(1);
  },
);
