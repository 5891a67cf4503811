/**
 * BANKING77 suite: 77 fine-grained banking intents. No official validation split, so 10% of train is
 * carved out by a hash of each example (deterministic); reported on test.
 */
import { pathToFileURL } from 'node:url';
import { banking77Available, loadBanking77 } from '../datasets/banking77.ts';
import type { Suite, SuiteOptions, SuiteResult } from '../types.ts';
import { evaluateIntents, printSuiteResult, subsamplePerLabel } from './intents-backtest.ts';

export const suite: Suite = {
  name: 'banking77',
  description: 'BANKING77 support intents (Casanueva et al. 2020, CC BY 4.0)',
  available: (options) => banking77Available(options.sharedDir),
  async run(options: SuiteOptions): Promise<SuiteResult> {
    const data = loadBanking77(options.sharedDir);
    const evaluation = evaluateIntents({
      train: options.quick ? subsamplePerLabel(data.train, 25) : data.train,
      test: options.quick ? subsamplePerLabel(data.test, 6) : data.test,
      progress: options.progress,
      ...(options.quick ? { trainOptions: { epochs: 3, hiddenEpochs: 3 }, latencySamples: 300 } : {}),
    });
    return {
      suite: 'banking77',
      metrics: evaluation.metrics,
      tables: evaluation.tables,
      charts: evaluation.charts,
      notes: [
        'Data: banking77/train.csv and test.csv (PolyAI-LDN/task-specific-datasets@57ec275, CC BY 4.0). Validation: 10% of train carved by hash; reported on test.',
        ...(options.quick ? ['QUICK RUN: subsampled data and fewer epochs; figures are not comparable.'] : []),
        ...evaluation.notes,
      ],
    };
  },
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await printSuiteResult(suite);
