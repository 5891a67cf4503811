/**
 * Bitext customer-support sample (CDLA-Sharing-1.0), read from <shared>/datasets/bitext. Never copied.
 * No official split: `bitextSplitOf` assigns each row by a hash of its instruction, so duplicates of
 * one instruction never straddle train and test.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../../server/errors.ts';
import { hashFraction } from '../../server/triage/classifier/random.ts';
import { parseCsvRecords } from './csv.ts';

export const BITEXT_FILE = 'Bitext_Sample_Customer_Support_Training_Dataset.csv';

export interface BitextRow {
  text: string;
  /** The intent (e.g. cancel_order). */
  label: string;
  /** The category (e.g. ORDER), used as the routing team. */
  team: string;
  /** Linguistic tag letters (see TAGS.upstream.md), e.g. ['B', 'L', 'Q']. */
  tags: string[];
}

export type BitextSplit = 'train' | 'validation' | 'test';

export function bitextPath(sharedDir: string): string {
  return join(sharedDir, 'datasets', 'bitext', BITEXT_FILE);
}

export function bitextAvailable(sharedDir: string): boolean {
  return existsSync(bitextPath(sharedDir));
}

/** 80/10/10 by hash of the instruction. */
export function bitextSplitOf(instruction: string): BitextSplit {
  const bucket = hashFraction(instruction);
  if (bucket < 0.8) return 'train';
  return bucket < 0.9 ? 'validation' : 'test';
}

export function loadBitext(sharedDir: string): BitextRow[] {
  const path = bitextPath(sharedDir);
  return parseCsvRecords(readFileSync(path, 'utf8')).map((record, index) => {
    const text = record.instruction;
    const label = record.intent;
    const team = record.category;
    if (!text || !label || !team)
      throw new AppError('VALIDATION_FAILED', `${path} record ${index + 1} lacks instruction, intent or category`);
    return { text, label, team, tags: [...(record.tags ?? '')].filter((letter) => /[A-Z]/.test(letter)) };
  });
}

/** Tag letters from TAGS.upstream.md, for readable report rows. */
export const BITEXT_TAG_NAMES: Record<string, string> = {
  M: 'morphological variation',
  L: 'semantic variation',
  B: 'basic syntax',
  I: 'interrogative',
  C: 'coordinated syntax',
  D: 'indirect speech',
  P: 'politeness',
  Q: 'colloquial',
  R: 'respect structures',
  W: 'offensive language',
  K: 'keyword mode',
  E: 'abbreviations',
  Z: 'errors and typos',
  G: 'regional variation',
  Y: 'code switching',
};
