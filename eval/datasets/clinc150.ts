/**
 * CLINC150 (Larson et al., EMNLP 2019; CC BY 3.0), read from <shared>/datasets/clinc150. Never copied.
 * data_full.json holds [text, label] pairs per split; domains.json maps 10 domains to their intents.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { AppError } from '../../server/errors.ts';
import type { LabelledExample } from '../../server/triage/types.ts';

const pairsSchema = z.array(z.tuple([z.string(), z.string()]));
const dataSchema = z.object({
  train: pairsSchema,
  val: pairsSchema,
  test: pairsSchema,
  oos_train: pairsSchema,
  oos_val: pairsSchema,
  oos_test: pairsSchema,
});
const domainsSchema = z.record(z.string(), z.array(z.string()));

export interface Clinc150 {
  train: LabelledExample[];
  val: LabelledExample[];
  test: LabelledExample[];
  oosTrain: LabelledExample[];
  oosVal: LabelledExample[];
  oosTest: LabelledExample[];
  /** intent -> domain (the routing team). */
  domainOf: Map<string, string>;
}

export function clinc150Dir(sharedDir: string): string {
  return join(sharedDir, 'datasets', 'clinc150');
}

export function clinc150Available(sharedDir: string): boolean {
  const dir = clinc150Dir(sharedDir);
  return existsSync(join(dir, 'data_full.json')) && existsSync(join(dir, 'domains.json'));
}

export function loadClinc150(sharedDir: string): Clinc150 {
  const dir = clinc150Dir(sharedDir);
  const data = dataSchema.safeParse(JSON.parse(readFileSync(join(dir, 'data_full.json'), 'utf8')));
  if (!data.success)
    throw new AppError(
      'VALIDATION_FAILED',
      `clinc150/data_full.json has an unexpected shape: ${data.error.issues[0]?.message}`,
    );
  const domains = domainsSchema.safeParse(JSON.parse(readFileSync(join(dir, 'domains.json'), 'utf8')));
  if (!domains.success) throw new AppError('VALIDATION_FAILED', 'clinc150/domains.json has an unexpected shape');
  const domainOf = new Map<string, string>();
  for (const [domain, intents] of Object.entries(domains.data))
    for (const intent of intents) domainOf.set(intent, domain);
  const toExamples = (pairs: Array<[string, string]>): LabelledExample[] =>
    pairs.map(([text, label]) => {
      const team = domainOf.get(label);
      return team === undefined ? { text, label } : { text, label, team };
    });
  return {
    train: toExamples(data.data.train),
    val: toExamples(data.data.val),
    test: toExamples(data.data.test),
    oosTrain: toExamples(data.data.oos_train),
    oosVal: toExamples(data.data.oos_val),
    oosTest: toExamples(data.data.oos_test),
    domainOf,
  };
}
