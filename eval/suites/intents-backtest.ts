/**
 * Intent evaluation on anyone's data, and the shared code path of the public intent suites:
 * train the local classifier, choose thresholds on validation, report on test.
 */
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { AppError } from '../../server/errors.ts';
import { oosOperatingPoint } from '../../server/triage/classifier/calibration.ts';
import {
  carveValidation,
  type IntentModel,
  isOutOfScope,
  predict,
  type TrainOptions,
  trainIntentModel,
} from '../../server/triage/classifier/model.ts';
import { type LabelledExample, OUT_OF_SCOPE } from '../../server/triage/types.ts';
import {
  accuracy,
  accuracyBy,
  confusionHotspots,
  expectedCalibrationError,
  hotspotsChart,
  hotspotsTable,
  type LabelledPrediction,
  macroF1,
  metricsTable,
  percentile,
  reliabilityChart,
  reliabilityOf,
  reliabilityReportTable,
  round,
} from '../metrics/classification.ts';
import type { Chart, MetricName, Suite, SuiteOptions, SuiteResult, Table } from '../types.ts';

/** The product rule: below this confidence a ticket is never Tier 0, whatever the data says. */
export const TIER0_CONFIDENCE_FLOOR = 0.75;
/** Fewer auto-handled validation tickets than this is too little evidence for a "go". */
export const TIER0_MIN_SUPPORT = 5;

export interface ScoredExample extends LabelledExample {
  predicted: string;
  /** Model's top label before the OOS decision. */
  topLabel: string;
  confidence: number;
  /** The score the OOS threshold applies to (the model's oosScore rule). */
  inScopeScore: number;
}

type PartialMetrics = Partial<Record<MetricName, number | null>>;

/** Suites report only the metrics that apply; the harness treats missing names as not applicable. */
export function asMetrics(metrics: PartialMetrics): SuiteResult['metrics'] {
  return metrics as SuiteResult['metrics'];
}

export interface IntentEvaluationInput {
  train: readonly LabelledExample[];
  /** When absent, carved from train deterministically. */
  validation?: readonly LabelledExample[];
  test: readonly LabelledExample[];
  trainOptions?: TrainOptions;
  /** Target error rate among auto-handled tickets for the Tier 0 go/no-go; omitted = no go/no-go table. */
  targetError?: number;
  progress: (line: string) => void;
  /** Cap on how many test texts are timed one by one for the latency percentile. */
  latencySamples?: number;
}

export interface IntentEvaluation {
  model: IntentModel;
  scoredTest: ScoredExample[];
  scoredValidation: ScoredExample[];
  metrics: Record<MetricName, number | null>;
  tables: Table[];
  charts: Chart[];
  notes: string[];
}

function scoreAll(model: IntentModel, examples: readonly LabelledExample[], threshold: number): ScoredExample[] {
  return examples.map((example) => {
    const prediction = predict(model, example.text);
    return {
      ...example,
      topLabel: prediction.label,
      predicted: isOutOfScope(prediction, threshold) ? OUT_OF_SCOPE : prediction.label,
      confidence: prediction.confidence,
      inScopeScore: prediction.inScopeScore,
    };
  });
}

function classifyLatencies(model: IntentModel, examples: readonly LabelledExample[], samples: number): number[] {
  const timings: number[] = [];
  // Warm up the JIT so the percentile reflects steady state, as in a long-running server.
  for (const example of examples.slice(0, 50)) predict(model, example.text);
  for (const example of examples.slice(0, samples)) {
    const started = performance.now();
    predict(model, example.text);
    timings.push(performance.now() - started);
  }
  return timings;
}

export interface Tier0Decision {
  intent: string;
  /** Confidence threshold chosen on validation (null: none meets the target). */
  threshold: number | null;
  validationSupport: number;
  go: boolean;
  /** On test, at that threshold: share of the intent's tickets auto-handled, and the error rate among auto-handled. */
  testAutomationShare: number | null;
  testErrorRate: number | null;
}

/** What the Tier 0 go/no-go reads of a scored example. */
export type Tier0Row = Pick<ScoredExample, 'label' | 'predicted' | 'confidence'>;

/**
 * Per intent, the lowest confidence threshold (not under the product floor) at which the validation
 * error rate among tickets auto-handled as that intent is at most `targetError`.
 */
export function tier0Decisions(
  validation: readonly Tier0Row[],
  test: readonly Tier0Row[],
  intents: readonly string[],
  targetError: number,
): Tier0Decision[] {
  return intents.map((intent) => {
    let threshold: number | null = null;
    let support = 0;
    for (let step = Math.round(TIER0_CONFIDENCE_FLOOR * 100); step <= 99; step++) {
      const candidate = step / 100;
      const handled = validation.filter((row) => row.predicted === intent && row.confidence >= candidate);
      if (handled.length < TIER0_MIN_SUPPORT) break;
      const errors = handled.filter((row) => row.label !== intent).length;
      if (errors / handled.length <= targetError) {
        threshold = candidate;
        support = handled.length;
        break;
      }
    }
    if (threshold === null) {
      return { intent, threshold, validationSupport: 0, go: false, testAutomationShare: null, testErrorRate: null };
    }
    const gold = test.filter((row) => row.label === intent);
    const handled = test.filter((row) => row.predicted === intent && row.confidence >= threshold);
    const automated = gold.filter((row) => row.predicted === intent && row.confidence >= threshold).length;
    return {
      intent,
      threshold,
      validationSupport: support,
      go: true,
      testAutomationShare: gold.length === 0 ? null : automated / gold.length,
      testErrorRate:
        handled.length === 0 ? null : handled.filter((row) => row.label !== intent).length / handled.length,
    };
  });
}

/** Train, calibrate and threshold on train/validation; measure on test. */
export function evaluateIntents(input: IntentEvaluationInput): IntentEvaluation {
  const { progress } = input;
  const carved = input.validation === undefined;
  const { train, validation } = carved
    ? carveValidation(input.train, 0.1)
    : { train: [...input.train], validation: [...input.validation!] };
  progress(
    `train ${train.length}, validation ${validation.length}${carved ? ' (carved by hash)' : ''}, test ${input.test.length}`,
  );

  const model = trainIntentModel(train, { ...input.trainOptions, validation, progress });
  const hasOosTest = input.test.some((example) => example.label === OUT_OF_SCOPE);
  const hasOosValidation = validation.some((example) => example.label === OUT_OF_SCOPE);
  // Without OOS in the data, nothing is rejected: the figures are closed-set.
  const threshold = hasOosValidation || hasOosTest ? model.oosThreshold : 0;
  const scoredTest = scoreAll(model, input.test, threshold);
  const scoredValidation = scoreAll(model, validation, threshold);
  const latencies = classifyLatencies(model, input.test, input.latencySamples ?? 2000);

  const inScope = scoredTest.filter((row) => row.label !== OUT_OF_SCOPE);
  const closedSet: LabelledPrediction[] = inScope.map((row) => ({
    label: row.label,
    predicted: row.topLabel,
    confidence: row.confidence,
  }));
  const operating = oosOperatingPoint(
    scoredTest.map((row) => ({ label: row.label, predicted: row.topLabel, confidence: row.inScopeScore })),
    threshold,
  );
  const withTeams = inScope.filter((row) => row.team !== undefined);
  const teamOf = new Map(train.filter((row) => row.team !== undefined).map((row) => [row.label, row.team!]));
  const routingAccuracy =
    withTeams.length === 0
      ? null
      : withTeams.filter((row) => teamOf.get(row.predicted) === row.team).length / withTeams.length;

  const metrics: PartialMetrics = {
    intent_accuracy: accuracy(inScope),
    closed_set_accuracy: accuracy(closedSet),
    macro_f1: macroF1(scoredTest),
    oos_recall: hasOosTest ? operating.oosRecall : null,
    oos_precision: hasOosTest ? operating.oosPrecision : null,
    oos_threshold: hasOosTest ? threshold : null,
    routing_accuracy: routingAccuracy,
    test_ece: expectedCalibrationError(reliabilityOf(closedSet)),
    train_seconds: model.metadata.trainSeconds,
    classify_p99_ms: percentile(latencies, 99),
    classify_p50_ms: percentile(latencies, 50),
  };

  const hotspots = confusionHotspots(scoredTest, 12);
  const reliabilityTest = reliabilityOf(closedSet);
  const perIntent = accuracyBy(
    scoredTest,
    (row) => [row.label],
    (row) => row.predicted === row.label,
  );
  const tables: Table[] = [
    metricsTable('Intent classification (test)', metrics),
    reliabilityReportTable('Reliability on test (in-scope, calibrated confidence)', reliabilityTest),
    reliabilityReportTable('Reliability on validation (after temperature scaling)', model.reliability),
    hotspotsTable('Confusion hotspots (test)', hotspots),
    {
      title: 'Accuracy per intent (test)',
      header: ['intent', 'count', 'accuracy'],
      rows: perIntent.map((row) => [row.group, row.count, round(row.accuracy, 3)]),
    },
  ];
  const charts: Chart[] = [
    reliabilityChart('Reliability (test, in-scope)', reliabilityTest),
    hotspotsChart('Confusion hotspots (test)', hotspots),
  ];
  if (input.targetError !== undefined) {
    const intents = model.labels.filter((label) => label !== OUT_OF_SCOPE);
    const decisions = tier0Decisions(scoredValidation, scoredTest, intents, input.targetError);
    metrics.tier0_go_intents = decisions.filter((decision) => decision.go).length;
    tables.push({
      title: `Tier 0 go/no-go at target error ${input.targetError} (threshold chosen on validation, floor ${TIER0_CONFIDENCE_FLOOR})`,
      header: ['intent', 'go', 'threshold', 'validation support', 'test automation share', 'test error rate'],
      rows: decisions.map((decision) => [
        decision.intent,
        decision.go ? 'go' : 'no-go',
        decision.threshold ?? 'n/a',
        decision.validationSupport,
        decision.testAutomationShare === null ? 'n/a' : round(decision.testAutomationShare, 3),
        decision.testErrorRate === null ? 'n/a' : round(decision.testErrorRate, 3),
      ]),
    });
  }
  const meta = model.metadata;
  const evidence = meta.oosEvidence;
  const notes = [
    `Model: ${model.labels.length} labels, ${meta.features} features, ${meta.epochs} epochs, oos handling: ${meta.oosMode}, temperature ${round(model.temperature, 3)} (validation ECE ${round(meta.eceBefore)} -> ${round(meta.eceAfter)}).`,
    hasOosTest
      ? `OOS threshold ${round(threshold, 4)} on the ${model.oosScore === 'versus-oos' ? "best intent's probability against the oos class" : 'top-label confidence'} (oos score rule ${model.oosScore}), chosen on validation only (${meta.oosOperatingPoint ? `validation in-scope accuracy ${round(meta.oosOperatingPoint.inScopeAccuracy)}, OOS recall ${round(meta.oosOperatingPoint.oosRecall)}` : 'no OOS in validation: default'}${evidence ? ` on ${evidence.oosExamples} OOS examples, ${Math.round(evidence.confidence * 100)}% lower bound ${round(evidence.oosRecallLowerBound)} against the floor ${evidence.minRecall}${evidence.meetsTarget ? '' : ': NOT MET'}` : ''}); intent_accuracy counts a rejected in-scope example as wrong.`
      : 'No out-of-scope examples in test: intent_accuracy is closed-set accuracy.',
    `classify_p99_ms: ${latencies.length} single classifications timed one by one after warm-up.`,
  ];
  return { model, scoredTest, scoredValidation, metrics: asMetrics(metrics), tables, charts, notes };
}

// ---------------------------------------------------------------------------------------------
// JSONL backtest on anyone's data

const lineSchema = z.object({
  text: z.string().min(1, 'text must not be empty'),
  label: z.string().min(1, 'label must not be empty'),
  team: z.string().min(1).optional(),
});

/** Parse `{"text","label","team"?}` lines; every bad line is reported with its number. */
export function parseIntentJsonl(content: string, source: string): LabelledExample[] {
  const examples: LabelledExample[] = [];
  const problems: string[] = [];
  content.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      problems.push(`line ${index + 1}: not valid JSON`);
      return;
    }
    const parsed = lineSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      problems.push(`line ${index + 1}: ${issue?.path.join('.') || 'value'}: ${issue?.message}`);
      return;
    }
    const { text, label, team } = parsed.data;
    examples.push(team === undefined ? { text, label } : { text, label, team });
  });
  if (problems.length > 0) {
    const shown = problems.slice(0, 10).join('; ');
    const more = problems.length > 10 ? ` (and ${problems.length - 10} more)` : '';
    throw new AppError(
      'VALIDATION_FAILED',
      `${source}: ${problems.length} bad line(s), expected {"text","label","team"?}: ${shown}${more}`,
      {
        details: { source, problems },
      },
    );
  }
  if (examples.length === 0) throw new AppError('VALIDATION_FAILED', `${source}: no examples`);
  return examples;
}

function readJsonl(path: string): LabelledExample[] {
  if (!existsSync(path)) throw new AppError('NOT_FOUND', `file not found: ${path}`);
  return parseIntentJsonl(readFileSync(path, 'utf8'), path);
}

export interface IntentsBacktestSuiteOptions {
  trainPath: string;
  testPath: string;
  valPath?: string;
  targetError: number;
}

export function createIntentsBacktestSuite(options: IntentsBacktestSuiteOptions): Suite {
  if (!(options.targetError > 0 && options.targetError < 1)) {
    throw new AppError('BAD_REQUEST', `target error must be between 0 and 1 (got ${options.targetError})`);
  }
  return {
    name: 'intents-backtest',
    description:
      'Intent classification backtest on your own labelled tickets (JSONL), with a Tier 0 go/no-go per intent',
    available: () =>
      existsSync(options.trainPath) &&
      existsSync(options.testPath) &&
      (options.valPath === undefined || existsSync(options.valPath)),
    async run(suiteOptions: SuiteOptions): Promise<SuiteResult> {
      const train = readJsonl(options.trainPath);
      const test = readJsonl(options.testPath);
      const validation = options.valPath === undefined ? undefined : readJsonl(options.valPath);
      const evaluation = evaluateIntents({
        train,
        ...(validation === undefined ? {} : { validation }),
        test,
        targetError: options.targetError,
        progress: suiteOptions.progress,
        ...(suiteOptions.quick ? { trainOptions: { epochs: 4, hiddenEpochs: 4 }, latencySamples: 300 } : {}),
      });
      return {
        suite: 'intents-backtest',
        metrics: evaluation.metrics,
        tables: evaluation.tables,
        charts: evaluation.charts,
        notes: [
          `Train ${options.trainPath}, test ${options.testPath}, validation ${options.valPath ?? 'carved from train by hash (10%)'}.`,
          ...evaluation.notes,
        ],
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Helpers for the public intent suites

/** The first `perLabel` examples of each label, in data order (deterministic), for quick runs. */
export function subsamplePerLabel(examples: readonly LabelledExample[], perLabel: number): LabelledExample[] {
  const taken = new Map<string, number>();
  return examples.filter((example) => {
    const count = taken.get(example.label) ?? 0;
    if (count >= perLabel) return false;
    taken.set(example.label, count + 1);
    return true;
  });
}

/** Running a suite file directly (`npx tsx eval/suites/clinc150.ts [--quick]`) prints its metrics as JSON. */
export async function printSuiteResult(suite: Suite): Promise<void> {
  const sharedDir = process.env.SHARED_DIR ?? new URL('../../../shared', import.meta.url).pathname;
  const options: SuiteOptions = {
    sharedDir,
    quick: process.argv.includes('--quick'),
    progress: (line) => process.stderr.write(`[${suite.name}] ${line}\n`),
  };
  if (!suite.available(options)) {
    process.stderr.write(`${suite.name}: data not found under ${sharedDir}\n`);
    process.exitCode = 1;
    return;
  }
  const result = await suite.run(options);
  for (const note of result.notes) process.stderr.write(`note: ${note}\n`);
  for (const table of result.tables.slice(1)) {
    process.stderr.write(`\n${table.title}\n${table.header.join(' | ')}\n`);
    for (const row of table.rows.slice(0, 30)) process.stderr.write(`${row.join(' | ')}\n`);
  }
  const metrics = Object.fromEntries(
    Object.entries(result.metrics).map(([name, value]) => [name, value === null ? null : round(value)]),
  );
  process.stdout.write(`${JSON.stringify({ suite: result.suite, metrics })}\n`);
}
