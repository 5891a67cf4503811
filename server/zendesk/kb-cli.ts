/**
 * npm run kb -- sync zendesk [--tenant ID] [--full]
 * Imports (first run, or --full) or incrementally syncs each Zendesk tenant's Help Center into its
 * knowledge base in the configured store. The running service picks the change up on its own.
 */
import { parseArgs } from 'node:util';
import { AppError } from '../errors.ts';
import { loadConfigOrExit } from '../lifecycle.ts';
import { openKeyvStore } from '../store/keyv-store.ts';
import { createTenantRegistry, envTenant } from '../tenants/registry.ts';
import { createKnowledgeProvider } from '../triage/knowledge-store.ts';
import { createZendeskConnections } from './helpdesk.ts';
import { type KbSyncResult, syncZendeskKnowledge } from './kb-sync.ts';

export const KB_USAGE = `Usage: npm run kb -- sync zendesk [--tenant <id>] [--full]

  sync zendesk     import the Help Center of every Zendesk tenant (or --tenant) into its knowledge base;
                   the first run is a full import, later runs fetch only what changed
  --full           re-import everything and drop articles that are no longer published
`;

export async function runKbCli(argv: string[], io: { out: (line: string) => void }): Promise<KbSyncResult[]> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      tenant: { type: 'string' },
      full: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, source] = positionals;
  if (values.help || command === undefined) {
    io.out(KB_USAGE);
    return [];
  }
  if (command !== 'sync' || source !== 'zendesk') {
    throw new AppError('BAD_REQUEST', `Unknown command "${positionals.join(' ')}"\n\n${KB_USAGE}`);
  }
  const config = loadConfigOrExit();
  const store = await openKeyvStore(
    config.store.kind === 'sqlite' ? { ...config.store, synchronous: config.SQLITE_SYNCHRONOUS } : config.store,
  );
  try {
    const registry = createTenantRegistry(store, envTenant(config));
    const tenants = (await registry.list()).filter(
      (tenant) => tenant.helpdesk === 'zendesk' && (values.tenant === undefined || tenant.id === values.tenant),
    );
    if (tenants.length === 0) {
      throw new AppError(
        'NOT_FOUND',
        values.tenant === undefined ? 'No Zendesk tenant is configured' : `No Zendesk tenant "${values.tenant}"`,
      );
    }
    const connections = createZendeskConnections();
    const knowledge = createKnowledgeProvider({ store, defaultArticles: [] });
    const results: KbSyncResult[] = [];
    for (const tenant of tenants) {
      const result = await syncZendeskKnowledge({
        tenantId: tenant.id,
        client: connections.forTenant(tenant).client,
        store,
        knowledge,
        full: values.full === true,
      });
      io.out(
        `${tenant.id}: ${result.mode} sync, ${result.upserted} article(s) added or updated, ${result.removed} removed`,
      );
      results.push(result);
    }
    return results;
  } finally {
    await store.close();
  }
}

const isMain = import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('zendesk/kb-cli.ts');
if (isMain) {
  runKbCli(process.argv.slice(2), { out: (line) => process.stdout.write(`${line}\n`) }).catch((error: unknown) => {
    if (error instanceof AppError) process.stderr.write(`Error (${error.code}): ${error.message}\n`);
    else if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${error.message}\n\n${KB_USAGE}`);
    } else process.stderr.write(`kb command failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  });
}
