/**
 * CLINC150 suite: 150 intents plus out-of-scope. Trains on train + oos_train (whether 'oos' works
 * better as a trained class or only through the threshold is decided on validation), chooses the OOS
 * threshold on val + oos_val, and reports test + oos_test at that same threshold. Domains are the teams.
 */
import { pathToFileURL } from 'node:url';
import type { LabelledExample } from '../../server/triage/types.ts';
import { clinc150Available, loadClinc150 } from '../datasets/clinc150.ts';
import type { Suite, SuiteOptions, SuiteResult } from '../types.ts';
import { evaluateIntents, printSuiteResult, subsamplePerLabel } from './intents-backtest.ts';

export const suite: Suite = {
  name: 'clinc150',
  description: 'CLINC150 intents with out-of-scope detection (Larson et al. 2019, CC BY 3.0)',
  available: (options) => clinc150Available(options.sharedDir),
  async run(options: SuiteOptions): Promise<SuiteResult> {
    const data = loadClinc150(options.sharedDir);
    const pick = (examples: LabelledExample[], perLabel: number) =>
      options.quick ? subsamplePerLabel(examples, perLabel) : examples;
    const evaluation = evaluateIntents({
      train: [...pick(data.train, 15), ...pick(data.oosTrain, 100)],
      validation: [...pick(data.val, 5), ...pick(data.oosVal, 100)],
      test: [...pick(data.test, 5), ...pick(data.oosTest, 200)],
      progress: options.progress,
      ...(options.quick
        ? { trainOptions: { epochs: 3, hiddenEpochs: 3, oosMode: 'class' as const }, latencySamples: 300 }
        : {}),
    });
    return {
      suite: 'clinc150',
      metrics: evaluation.metrics,
      tables: evaluation.tables,
      charts: evaluation.charts,
      notes: [
        'Data: clinc150/data_full.json (clinc/oos-eval@828f809, CC BY 3.0). Train on train + oos_train; thresholds chosen on val + oos_val; reported on test + oos_test. Routing teams: domains.json.',
        ...(options.quick ? ['QUICK RUN: subsampled data and fewer epochs; figures are not comparable.'] : []),
        ...evaluation.notes,
      ],
    };
  },
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await printSuiteResult(suite);
