/**
 * Backtest of the knowledge base on anyone's data: `npm run eval -- --kb KB.jsonl|DIR --questions Q.jsonl`.
 * Retrieval recall@1/3/5 and MRR over answerable questions; the answerability gate's decline rate
 * (unanswerable questions) and false-decline rate (answerable ones), with the threshold calibrated
 * on a deterministic half of the questions and reported on the other half.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { AppError } from '../../server/errors.ts';
import {
  calibrateGate,
  evaluateGate,
  type GateCalibration,
  type GateConfig,
  type GateFeatures,
  type GateWeights,
  gateTradeOff,
  type LabelledGateExample,
} from '../../server/triage/knowledge/gate.ts';
import { createKnowledgeIndex, type KnowledgeIndex } from '../../server/triage/knowledge/index.ts';
import { forEachJsonLine, loadArticles } from '../../server/triage/knowledge/sources.ts';
import { type RankedQuery, type RetrievalSummary, summarizeRetrieval } from '../metrics/retrieval.ts';
import type { Chart, MetricName, Suite, SuiteResult, Table } from '../types.ts';

export interface KbQuestion {
  id: string;
  question: string;
  articleIds: string[];
  answerable: boolean;
}

const questionSchema = z
  .object({
    id: z.union([z.string().trim().min(1), z.number().transform(String)]),
    question: z.string().trim().min(1),
    article_ids: z.array(z.union([z.string().min(1), z.number().transform(String)])).default([]),
    answerable: z.boolean(),
  })
  .refine((value) => !value.answerable || value.article_ids.length > 0, {
    message: 'an answerable question needs at least one article id in article_ids',
  });

/** Parses question lines; errors name the file and line. */
export function parseQuestions(text: string, file: string): KbQuestion[] {
  const questions: KbQuestion[] = [];
  const seen = new Set<string>();
  forEachJsonLine(text, file, (value, lineNumber) => {
    const parsed = questionSchema.safeParse(value);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
      throw new AppError('VALIDATION_FAILED', `${file}:${lineNumber}: invalid question: ${issues.join('; ')}`, {
        details: { file, line: lineNumber },
      });
    }
    if (seen.has(parsed.data.id)) {
      throw new AppError('CONFLICT', `${file}:${lineNumber}: duplicate question id "${parsed.data.id}"`, {
        details: { file, line: lineNumber },
      });
    }
    seen.add(parsed.data.id);
    questions.push({
      id: parsed.data.id,
      question: parsed.data.question,
      articleIds: parsed.data.article_ids,
      answerable: parsed.data.answerable,
    });
  });
  if (questions.length === 0) {
    throw new AppError('VALIDATION_FAILED', `${file}: no questions`, { details: { file } });
  }
  return questions;
}

/** Every referenced article must exist, otherwise recall would silently count it as a miss. */
export function checkArticleReferences(questions: KbQuestion[], index: KnowledgeIndex, file: string): void {
  for (const question of questions) {
    const missing = question.articleIds.filter((id) => index.getArticle(id) === undefined);
    if (missing.length > 0) {
      throw new AppError(
        'VALIDATION_FAILED',
        `${file}: question "${question.id}" cites unknown article ids: ${missing.join(', ')}`,
        {
          details: { question: question.id, missing },
        },
      );
    }
  }
}

export type Half = 'calibration' | 'report';

/** Deterministic half by the first byte of sha256(key). */
export function halfOf(key: string): Half {
  return (createHash('sha256').update(key).digest()[0] ?? 0) < 128 ? 'calibration' : 'report';
}

export interface SplitExample extends LabelledGateExample {
  half: Half;
}

export interface GateSplitResult {
  calibration: GateCalibration;
  report: { declineRate: number; falseDeclineRate: number; answerable: number; unanswerable: number };
  full: { declineRate: number; falseDeclineRate: number; answerable: number; unanswerable: number };
  tradeOff: ReturnType<typeof gateTradeOff>;
}

function counts(examples: LabelledGateExample[]): { answerable: number; unanswerable: number } {
  const answerable = examples.filter((example) => example.answerable).length;
  return { answerable, unanswerable: examples.length - answerable };
}

/** Calibrates on the calibration half and measures on the report half (and, labelled, on all). */
export function evaluateGateSplit(
  examples: SplitExample[],
  maxFalseDecline = 0.2,
  weightCandidates?: GateWeights[],
): GateSplitResult {
  const calibrationSet = examples.filter((example) => example.half === 'calibration');
  const reportSet = examples.filter((example) => example.half === 'report');
  const calibration = calibrateGate(calibrationSet, {
    maxFalseDecline,
    ...(weightCandidates ? { weightCandidates } : {}),
  });
  const { weights, threshold } = calibration.config;
  return {
    calibration,
    report: { ...evaluateGate(reportSet, weights, threshold), ...counts(reportSet) },
    full: { ...evaluateGate(examples, weights, threshold), ...counts(examples) },
    tradeOff: gateTradeOff(reportSet, weights, 20),
  };
}

export function hasBothClasses(examples: LabelledGateExample[]): boolean {
  return examples.some((example) => example.answerable) && examples.some((example) => !example.answerable);
}

export function formatWeights(weights: GateWeights): string {
  return Object.entries(weights)
    .filter(([, value]) => value > 0)
    .map(([name, value]) => `${name} ${value}`)
    .join(' + ');
}

export function round(value: number, digits = 3): number {
  return Number.isFinite(value) ? Math.round(value * 10 ** digits) / 10 ** digits : value;
}

export function retrievalRow(label: string, summary: RetrievalSummary): Array<string | number> {
  return [
    label,
    summary.queries,
    round(summary.recallAt[1] ?? Number.NaN),
    round(summary.recallAt[3] ?? Number.NaN),
    round(summary.recallAt[5] ?? Number.NaN),
    round(summary.mrr),
  ];
}

export const RETRIEVAL_HEADER = ['queries', 'n', 'recall@1', 'recall@3', 'recall@5', 'MRR'];

export function tradeOffChart(title: string, result: GateSplitResult): Chart {
  return {
    title,
    kind: 'line',
    xLabel: 'gate threshold',
    yLabel: 'rate',
    x: result.tradeOff.map((point) => point.threshold.toFixed(2)),
    series: [
      { name: 'unanswerable declined', values: result.tradeOff.map((point) => round(point.declineRate)) },
      { name: 'answerable falsely declined', values: result.tradeOff.map((point) => round(point.falseDeclineRate)) },
    ],
  };
}

export function recallChart(title: string, series: Array<{ name: string; summary: RetrievalSummary }>): Chart {
  return {
    title,
    kind: 'bar',
    xLabel: 'k',
    yLabel: 'recall@k',
    x: ['recall@1', 'recall@3', 'recall@5'],
    series: series.map(({ name, summary }) => ({
      name,
      values: [1, 3, 5].map((k) => round(summary.recallAt[k] ?? Number.NaN)),
    })),
  };
}

/** Suites report only the metrics that apply; the record type lists every known name. */
export function metricRecord(metrics: Partial<Record<MetricName, number | null>>): SuiteResult['metrics'] {
  return metrics as SuiteResult['metrics'];
}

export interface KbBacktestOptions {
  /** A JSONL file of articles or a folder of Markdown articles. */
  kbPath: string;
  questionsPath: string;
  /** The constraint used to calibrate the gate (default 0.2). */
  maxFalseDecline?: number;
}

export interface KbBacktestOutcome {
  retrieval: RetrievalSummary;
  gate:
    | { mode: 'calibrated'; result: GateSplitResult }
    | {
        mode: 'default';
        config: GateConfig;
        declineRate: number;
        falseDeclineRate: number;
        answerable: number;
        unanswerable: number;
      };
  questions: KbQuestion[];
}

/** The measuring core, separate from the Suite wrapper so tests and the sample-KB calibration reuse it. */
export function runKbBacktest(
  index: KnowledgeIndex,
  questions: KbQuestion[],
  maxFalseDecline = 0.2,
): KbBacktestOutcome {
  const ranked: RankedQuery[] = questions
    .filter((question) => question.answerable)
    .map((question) => ({
      ranked: index.searchArticles(question.question, 5).map((hit) => hit.articleId),
      relevant: new Set(question.articleIds),
    }));
  const retrieval = summarizeRetrieval(ranked);
  const examples: SplitExample[] = questions.map((question) => ({
    features: index.gateFeatures(question.question),
    answerable: question.answerable,
    half: halfOf(question.id),
  }));
  const calibrationHalf = examples.filter((example) => example.half === 'calibration');
  if (hasBothClasses(calibrationHalf) && hasBothClasses(examples.filter((example) => example.half === 'report'))) {
    return { retrieval, gate: { mode: 'calibrated', result: evaluateGateSplit(examples, maxFalseDecline) }, questions };
  }
  // Too few of one class to split: measure the index's configured gate instead (no calibration here).
  const config = index.options.gate;
  return {
    retrieval,
    gate: { mode: 'default', config, ...evaluateGate(examples, config.weights, config.threshold), ...counts(examples) },
    questions,
  };
}

/** Gate features of labelled questions, for calibrating a product default on all of them. */
export function gateExamples(
  index: KnowledgeIndex,
  questions: KbQuestion[],
): Array<LabelledGateExample & { id: string }> {
  return questions.map((question) => ({
    id: question.id,
    features: index.gateFeatures(question.question) satisfies GateFeatures,
    answerable: question.answerable,
  }));
}

export function createKbBacktestSuite(options: KbBacktestOptions): Suite {
  const maxFalseDecline = options.maxFalseDecline ?? 0.2;
  return {
    name: 'kb-backtest',
    description: `KB backtest: ${options.kbPath} with ${options.questionsPath}`,
    available: () => existsSync(options.kbPath) && existsSync(options.questionsPath),
    async run(runOptions): Promise<SuiteResult> {
      if (!existsSync(options.questionsPath)) {
        throw new AppError('NOT_FOUND', `questions file not found: ${options.questionsPath}`);
      }
      const articles = loadArticles(options.kbPath);
      if (articles.length === 0) throw new AppError('VALIDATION_FAILED', `no articles in ${options.kbPath}`);
      const index = createKnowledgeIndex(articles);
      runOptions.progress(`${articles.length} articles, ${index.passageCount} passages`);
      const questions = parseQuestions(readFileSync(options.questionsPath, 'utf8'), options.questionsPath);
      checkArticleReferences(questions, index, options.questionsPath);
      const outcome = runKbBacktest(index, questions, maxFalseDecline);
      return toSuiteResult(outcome, options, articles.length, index.passageCount);
    },
  };
}

function toSuiteResult(
  outcome: KbBacktestOutcome,
  options: KbBacktestOptions,
  articleCount: number,
  passageCount: number,
): SuiteResult {
  const { retrieval, gate } = outcome;
  const tables: Table[] = [
    {
      title: 'Retrieval (answerable questions, BM25 on the question)',
      header: RETRIEVAL_HEADER,
      rows: [retrievalRow('all answerable questions', retrieval)],
    },
  ];
  const charts: Chart[] = [recallChart('Retrieval recall@k', [{ name: 'BM25', summary: retrieval }])];
  const notes = [
    `KB: ${options.kbPath} (${articleCount} articles, ${passageCount} passages); questions: ${options.questionsPath} (${outcome.questions.length}).`,
    "Recall@k: share of a question's listed article ids found in its top k distinct articles; MRR of the first listed article.",
  ];
  let decline: number | null;
  let falseDecline: number | null;
  if (gate.mode === 'calibrated') {
    const { calibration, report, full } = gate.result;
    decline = report.declineRate;
    falseDecline = report.falseDeclineRate;
    tables.push({
      title: 'Answerability gate (threshold calibrated on the calibration half)',
      header: ['set', 'answerable', 'unanswerable', 'decline rate (unanswerable)', 'false decline rate (answerable)'],
      rows: [
        [
          'calibration half',
          calibration.answerableCount,
          calibration.unanswerableCount,
          round(calibration.declineRate),
          round(calibration.falseDeclineRate),
        ],
        [
          'report half',
          report.answerable,
          report.unanswerable,
          round(report.declineRate),
          round(report.falseDeclineRate),
        ],
        [
          'full set (includes the calibration half)',
          full.answerable,
          full.unanswerable,
          round(full.declineRate),
          round(full.falseDeclineRate),
        ],
      ],
    });
    charts.push(tradeOffChart('Gate trade-off on the report half', gate.result));
    notes.push(
      `Gate: ${formatWeights(calibration.config.weights)}, threshold ${round(calibration.config.threshold, 4)}; criterion: ${calibration.config.calibration}.`,
      'Halves: first byte of sha256(question id) < 128 is the calibration half; headline gate figures are on the report half.',
    );
  } else {
    decline = gate.unanswerable > 0 ? gate.declineRate : null;
    falseDecline = gate.answerable > 0 ? gate.falseDeclineRate : null;
    tables.push({
      title: 'Answerability gate (the index default, not calibrated here)',
      header: ['set', 'answerable', 'unanswerable', 'decline rate (unanswerable)', 'false decline rate (answerable)'],
      rows: [
        ['all questions', gate.answerable, gate.unanswerable, round(gate.declineRate), round(gate.falseDeclineRate)],
      ],
    });
    notes.push(
      `Gate: too few answerable or unanswerable questions to calibrate on one half and report on the other; measured the default gate (${formatWeights(gate.config.weights)}, threshold ${round(gate.config.threshold, 4)}).`,
    );
  }
  return {
    suite: 'kb-backtest',
    metrics: metricRecord({
      recall_at_1: retrieval.recallAt[1] ?? null,
      recall_at_3: retrieval.recallAt[3] ?? null,
      recall_at_5: retrieval.recallAt[5] ?? null,
      mrr: retrieval.queries > 0 ? retrieval.mrr : null,
      unanswerable_decline_rate: decline,
      answerable_false_decline_rate: falseDecline,
    }),
    tables,
    charts,
    notes,
  };
}
