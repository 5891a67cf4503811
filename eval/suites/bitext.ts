/**
 * Bitext customer-support suite: 27 intents in 11 categories (the categories are the routing teams).
 * Deterministic 80/10/10 split by a hash of the instruction; accuracy is also broken down by the
 * dataset's linguistic tags (colloquial, typos, keyword mode, ...).
 */
import { pathToFileURL } from 'node:url';
import { BITEXT_TAG_NAMES, bitextAvailable, bitextSplitOf, loadBitext } from '../datasets/bitext.ts';
import { accuracyBy, macroF1, round } from '../metrics/classification.ts';
import type { Suite, SuiteOptions, SuiteResult } from '../types.ts';
import { asMetrics, evaluateIntents, printSuiteResult, subsamplePerLabel } from './intents-backtest.ts';

export const suite: Suite = {
  name: 'bitext',
  description: 'Bitext customer-support intents and categories (CDLA-Sharing-1.0), split by hash of the instruction',
  available: (options) => bitextAvailable(options.sharedDir),
  async run(options: SuiteOptions): Promise<SuiteResult> {
    const rows = loadBitext(options.sharedDir);
    const tagsOf = new Map(rows.map((row) => [row.text, row.tags]));
    const split = (name: string) =>
      rows.filter((row) => bitextSplitOf(row.text) === name).map(({ text, label, team }) => ({ text, label, team }));
    const train = split('train');
    const evaluation = evaluateIntents({
      train: options.quick ? subsamplePerLabel(train, 30) : train,
      validation: split('validation'),
      test: split('test'),
      progress: options.progress,
      ...(options.quick ? { trainOptions: { epochs: 3, hiddenEpochs: 3 }, latencySamples: 300 } : {}),
    });
    const test = evaluation.scoredTest;
    const teamOf = new Map(train.map((row) => [row.label, row.team]));
    const routed = test.map((row) => ({
      label: row.team ?? '',
      predicted: teamOf.get(row.predicted) ?? '',
      confidence: row.confidence,
    }));
    const metrics = asMetrics({ ...evaluation.metrics, category_macro_f1: macroF1(routed) });
    const perTag = accuracyBy(
      test,
      (row) => tagsOf.get(row.text) ?? [],
      (row) => row.predicted === row.label,
    );
    return {
      suite: 'bitext',
      metrics,
      tables: [
        ...evaluation.tables,
        {
          title: 'Intent accuracy per linguistic tag (test)',
          header: ['tag', 'meaning', 'count', 'accuracy'],
          rows: perTag.map((row) => [
            row.group,
            BITEXT_TAG_NAMES[row.group] ?? '(not in TAGS.upstream.md)',
            row.count,
            round(row.accuracy, 4),
          ]),
        },
      ],
      charts: [
        ...evaluation.charts,
        {
          title: 'Intent accuracy per linguistic tag (test)',
          kind: 'bar',
          xLabel: 'tag',
          yLabel: 'accuracy',
          x: perTag.map((row) => row.group),
          series: [{ name: 'accuracy', values: perTag.map((row) => round(row.accuracy, 4)) }],
        },
      ],
      notes: [
        'Data: bitext/Bitext_Sample_Customer_Support_Training_Dataset.csv (bitext/customer-support-llm-chatbot-training-dataset@8b6ca3d, CDLA-Sharing-1.0). Split 80/10/10 by FNV hash of the instruction; routing team = category.',
        ...(options.quick ? ['QUICK RUN: subsampled training data and fewer epochs; figures are not comparable.'] : []),
        ...evaluation.notes,
      ],
    };
  },
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await printSuiteResult(suite);
