/**
 * npm run triage -- "ticket text" [--subject S] [--name N] [--plan P] [--prior N] [--tone formal|casual]
 * Prints the ticket record as JSON: what the agent would decide and write for this ticket.
 * Reads the text from standard input when no text is given.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { AppError } from '../errors.ts';
import { loadConfigOrExit } from '../lifecycle.ts';
import { createLogger } from '../logger.ts';
import { openKeyvStore } from '../store/keyv-store.ts';
import { defaultSettings } from '../tenants/settings.ts';
import { createTriageServices } from '../triage/setup.ts';

const USAGE =
  'Usage: npm run triage -- "ticket text" [--subject S] [--name N] [--plan P] [--prior N] [--tone formal|casual]';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: {
      subject: { type: 'string' },
      name: { type: 'string' },
      plan: { type: 'string' },
      prior: { type: 'string' },
      tone: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const text = positionals.join(' ').trim() || (process.stdin.isTTY ? '' : readFileSync(0, 'utf8').trim());
  if (text === '') throw new AppError('BAD_REQUEST', `No ticket text given.\n${USAGE}`);
  if (values.tone !== undefined && values.tone !== 'formal' && values.tone !== 'casual') {
    throw new AppError('BAD_REQUEST', '--tone must be formal or casual');
  }
  const prior = values.prior === undefined ? undefined : Number(values.prior);
  if (prior !== undefined && !(Number.isInteger(prior) && prior >= 0)) {
    throw new AppError('BAD_REQUEST', '--prior must be a whole number');
  }
  const config = loadConfigOrExit();
  const logger = createLogger({ level: 'warn', destination: process.stderr as never });
  const store = await openKeyvStore(
    config.store.kind === 'sqlite' ? { ...config.store, synchronous: config.SQLITE_SYNCHRONOUS } : config.store,
  );
  try {
    const { engine } = createTriageServices({ config, store, logger });
    const record = await engine.triage({
      tenantId: 'cli',
      ticketId: 'cli-1',
      eventId: 'cli-1',
      ...(values.subject ? { subject: values.subject } : {}),
      body: text,
      customer: {
        ...(values.name ? { name: values.name } : {}),
        ...(values.plan ? { plan: values.plan } : {}),
        ...(prior !== undefined ? { priorTicketsSameIssue: prior } : {}),
        ...(values.tone ? { tone: values.tone as 'formal' | 'casual' } : {}),
      },
      settings: defaultSettings(),
    });
    process.stdout.write(`${JSON.stringify(record, null, 2)}\n`);
  } finally {
    await store.close();
  }
}

main().catch((error: unknown) => {
  const message = error instanceof AppError || error instanceof TypeError ? error.message : String(error);
  process.stderr.write(`${message}\n`);
  process.exit(2);
});
