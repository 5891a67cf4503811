/** Every folder the run writes (stores, KB files, model cache) lives under one root the CLI removes at the end. */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let root: string | undefined;

export function runRoot(): string {
  root ??= mkdtempSync(join(tmpdir(), 'bench-run-'));
  return root;
}

export function runTempDir(label: string): string {
  const base = runRoot();
  mkdirSync(base, { recursive: true });
  return mkdtempSync(join(base, `${label}-`));
}
