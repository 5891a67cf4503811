import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bitextSplitOf } from '../../eval/datasets/bitext.ts';
import { loadClinc150 } from '../../eval/datasets/clinc150.ts';
import { parseCsv } from '../../eval/datasets/csv.ts';
import { suite as banking77 } from '../../eval/suites/banking77.ts';
import { suite as bitext } from '../../eval/suites/bitext.ts';
import { suite as clinc150 } from '../../eval/suites/clinc150.ts';
import type { SuiteOptions } from '../../eval/types.ts';

const sharedDir = fileURLToPath(new URL('../../../shared', import.meta.url));
const datasets = `${sharedDir}/datasets`;

describe('CSV reader', () => {
  it('handles quotes, doubled quotes, commas and newlines inside fields', () => {
    expect(parseCsv('a,b\n"x, y","he said ""hi""\nbye"\r\nz,\n')).toEqual([
      ['a', 'b'],
      ['x, y', 'he said "hi"\nbye'],
      ['z', ''],
    ]);
  });

  it('splits Bitext deterministically by instruction', () => {
    expect(bitextSplitOf('cancel my order')).toBe(bitextSplitOf('cancel my order'));
  });
});

const options = (lines: string[]): SuiteOptions => ({ sharedDir, quick: true, progress: (line) => lines.push(line) });

describe.skipIf(!existsSync(`${datasets}/clinc150/data_full.json`))('CLINC150 (needs ../shared/datasets)', () => {
  it('loads all splits and maps intents to domains', () => {
    const data = loadClinc150(sharedDir);
    expect(data.train).toHaveLength(15000);
    expect(data.oosTest).toHaveLength(1000);
    expect(data.domainOf.size).toBe(150);
    expect(data.train[0]?.team).toBeDefined();
  });

  it('quick suite reports the named metrics', async () => {
    const lines: string[] = [];
    const result = await clinc150.run(options(lines));
    expect(result.suite).toBe('clinc150');
    for (const name of [
      'intent_accuracy',
      'macro_f1',
      'oos_recall',
      'oos_precision',
      'routing_accuracy',
      'train_seconds',
      'classify_p99_ms',
    ]) {
      expect(typeof result.metrics[name]).toBe('number');
    }
    expect(result.metrics.intent_accuracy).toBeGreaterThan(0.3);
    expect(result.charts.some((chart) => chart.title.startsWith('Reliability'))).toBe(true);
    expect(lines.length).toBeGreaterThan(0);
  });
});

describe.skipIf(!existsSync(`${datasets}/banking77/train.csv`))('BANKING77 (needs ../shared/datasets)', () => {
  it('quick suite reports accuracy and macro-F1', async () => {
    const result = await banking77.run(options([]));
    expect(result.metrics.intent_accuracy).toBeGreaterThan(0.3);
    expect(result.metrics.macro_f1).toBeGreaterThan(0.3);
    expect(result.metrics.oos_recall).toBeNull();
  });
});

describe.skipIf(!existsSync(`${datasets}/bitext`))('Bitext (needs ../shared/datasets)', () => {
  it('quick suite reports intent, routing and per-tag accuracy', async () => {
    const result = await bitext.run(options([]));
    expect(result.metrics.intent_accuracy).toBeGreaterThan(0.8);
    expect(result.metrics.routing_accuracy).toBeGreaterThan(0.8);
    const perTag = result.tables.find((table) => table.title.includes('linguistic tag'));
    expect(perTag?.rows.some((row) => row[0] === 'Z')).toBe(true);
  });
});
