/**
 * Regression cases made from reviewer corrections (the feedback loop keeps one per corrected or
 * rejected draft, in the configured store). Each case is triaged again with the tenant's current
 * settings: the intent must now be the corrected one, and a rejected case must never be Tier 0.
 */
import { loadConfigFromProcess } from '../../server/config.ts';
import type { RegressionCase } from '../../server/feedback/feedback.ts';
import { createLogger } from '../../server/logger.ts';
import { openKeyvStore } from '../../server/store/keyv-store.ts';
import { createTenantRegistry, envTenant } from '../../server/tenants/registry.ts';
import { defaultSettings } from '../../server/tenants/settings.ts';
import { createTriageServices } from '../../server/triage/setup.ts';
import type { Suite, SuiteOptions, SuiteResult } from '../types.ts';

async function run(options: SuiteOptions): Promise<SuiteResult> {
  const config = loadConfigFromProcess();
  const store = await openKeyvStore(config.store.kind === 'sqlite' ? { ...config.store } : config.store);
  try {
    const cases: RegressionCase[] = [];
    for await (const [key, value] of store.namespace('feedback').entries()) {
      if (key.includes('/regression:')) cases.push(value as RegressionCase);
    }
    options.progress(`regressions: ${cases.length} case(s) in the ${config.store.kind} store`);
    if (cases.length === 0) {
      return {
        suite: 'regressions',
        metrics: {
          regression_cases: 0,
          regression_pass_rate: null,
          tier0_count: 0,
        } as unknown as SuiteResult['metrics'],
        tables: [],
        charts: [],
        notes: [`No regression cases yet in the ${config.store.kind} store (they come from reviewer corrections).`],
      };
    }
    const logger = createLogger({ level: 'silent' });
    const { engine } = createTriageServices({ config, store, logger });
    const tenants = createTenantRegistry(store, envTenant(config));
    const rows: Array<Array<string | number>> = [];
    let passed = 0;
    let tier0Violations = 0;
    for (const item of cases) {
      const tenant = await tenants.get(item.tenantId).catch(() => undefined);
      const record = await engine.triage({
        tenantId: item.tenantId,
        ticketId: `regression-${item.id}`,
        eventId: `regression-${item.id}`,
        body: item.text,
        settings: tenant?.settings ?? defaultSettings(),
      });
      const intentOk = record.classification.intent === item.expectedIntent;
      const tierOk = !item.neverTier0 || record.tier !== 0;
      if (!tierOk) tier0Violations += 1;
      if (intentOk && tierOk) passed += 1;
      rows.push([
        item.tenantId,
        item.id,
        item.expectedIntent,
        record.classification.intent,
        record.tier,
        intentOk && tierOk ? 'pass' : 'FAIL',
      ]);
    }
    return {
      suite: 'regressions',
      metrics: {
        regression_cases: cases.length,
        regression_pass_rate: passed / cases.length,
        tier0_count: tier0Violations,
      } as unknown as SuiteResult['metrics'],
      tables: [
        {
          title: 'Regression cases',
          header: ['tenant', 'case', 'expected intent', 'intent now', 'tier', 'result'],
          rows,
        },
      ],
      charts: [],
      notes: [
        `Store: ${config.store.kind}. Intent must equal the reviewer's; cases a reviewer rejected must not be Tier 0.`,
        'The default classifier is shared by all tenants: corrections do not retrain it yet, so intent regressions stay failing until they are added to the training examples.',
      ],
    };
  } finally {
    await store.close();
  }
}

export const suite: Suite = {
  name: 'regressions',
  description: 'Regression cases from reviewer corrections, re-triaged with current settings',
  available: () => true,
  run,
};
