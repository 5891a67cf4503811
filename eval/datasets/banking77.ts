/**
 * BANKING77 (Casanueva et al., 2020; CC BY 4.0), read from <shared>/datasets/banking77. Never copied.
 * train.csv and test.csv have the header text,category; there is no validation split.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../../server/errors.ts';
import type { LabelledExample } from '../../server/triage/types.ts';
import { parseCsvRecords } from './csv.ts';

export function banking77Dir(sharedDir: string): string {
  return join(sharedDir, 'datasets', 'banking77');
}

export function banking77Available(sharedDir: string): boolean {
  const dir = banking77Dir(sharedDir);
  return existsSync(join(dir, 'train.csv')) && existsSync(join(dir, 'test.csv'));
}

function loadSplit(path: string): LabelledExample[] {
  const records = parseCsvRecords(readFileSync(path, 'utf8'));
  return records.map((record, index) => {
    const text = record.text;
    const label = record.category;
    if (!text || !label) throw new AppError('VALIDATION_FAILED', `${path} row ${index + 2} lacks text or category`);
    return { text, label };
  });
}

export function loadBanking77(sharedDir: string): { train: LabelledExample[]; test: LabelledExample[] } {
  const dir = banking77Dir(sharedDir);
  return { train: loadSplit(join(dir, 'train.csv')), test: loadSplit(join(dir, 'test.csv')) };
}
