/**
 * npm run tenants -- add|list|show|remove|set
 * Manages the tenant registry in the configured store. Secrets are never printed: they show as "[set]".
 * Secrets may be given as flags or, to keep them out of shell history, as --api-token-env NAME
 * (read from that environment variable of this process).
 */
import { parseArgs } from 'node:util';
import { AppError } from '../errors.ts';
import { loadConfigOrExit } from '../lifecycle.ts';
import { createLogger } from '../logger.ts';
import { openKeyvStore } from '../store/keyv-store.ts';
import { createTenantRegistry, envTenant, redactTenant, type TenantInput } from './registry.ts';

const USAGE = `Usage: npm run tenants -- <command> [options]

Commands:
  list                               list tenants (secrets hidden)
  show <id>                          show one tenant (secrets hidden)
  remove <id>                        remove a stored tenant
  add --id <id> --helpdesk zendesk --subdomain <s> --email <e> (--api-token <t> | --api-token-env <VAR>)
      [--webhook-secret <s> | --webhook-secret-env <VAR>] [--api-url <url>] [--account-id <n>]
  add --id <id> --helpdesk intercom --workspace-id <w> --admin-id <a>
      (--access-token <t> | --access-token-env <VAR>) (--client-secret <s> | --client-secret-env <VAR>) [--api-url <url>]
  set <id> --settings '<json>'       merge settings (thresholds, tier0Intents, routingMap, teamGroupIds, ...)
  connect-zendesk --tenant <id> --public-url <url>
                                     create the webhook, triggers and ticket fields in Zendesk; store the secret and ids
`;

export async function runTenantsCli(argv: string[], io: { out: (line: string) => void; env: NodeJS.ProcessEnv }) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      id: { type: 'string' },
      name: { type: 'string' },
      helpdesk: { type: 'string' },
      subdomain: { type: 'string' },
      email: { type: 'string' },
      'api-token': { type: 'string' },
      'api-token-env': { type: 'string' },
      'webhook-secret': { type: 'string' },
      'webhook-secret-env': { type: 'string' },
      'api-url': { type: 'string' },
      'account-id': { type: 'string' },
      'workspace-id': { type: 'string' },
      'admin-id': { type: 'string' },
      'access-token': { type: 'string' },
      'access-token-env': { type: 'string' },
      'client-secret': { type: 'string' },
      'client-secret-env': { type: 'string' },
      settings: { type: 'string' },
      tenant: { type: 'string' },
      'public-url': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, id] = positionals;
  if (values.help || command === undefined) {
    io.out(USAGE);
    return;
  }
  const secret = (flag: string | undefined, envName: string | undefined) =>
    flag ?? (envName === undefined ? undefined : io.env[envName]);

  const config = loadConfigOrExit();
  const store = await openKeyvStore(
    config.store.kind === 'sqlite' ? { ...config.store, synchronous: config.SQLITE_SYNCHRONOUS } : config.store,
  );
  const registry = createTenantRegistry(store, envTenant(config));
  try {
    switch (command) {
      case 'list': {
        const tenants = await registry.list();
        if (tenants.length === 0) io.out('No tenants. Add one with: npm run tenants -- add --help');
        for (const tenant of tenants) {
          io.out(`${tenant.id}\t${tenant.helpdesk}\t${tenant.source}\t${tenant.name ?? ''}`);
        }
        break;
      }
      case 'show': {
        const tenant = id === undefined ? undefined : await registry.get(id);
        if (tenant === undefined) throw new AppError('NOT_FOUND', `No tenant "${id ?? ''}"`);
        io.out(JSON.stringify(redactTenant(tenant), null, 2));
        break;
      }
      case 'remove': {
        if (id === undefined) throw new AppError('BAD_REQUEST', 'remove needs a tenant id');
        io.out((await registry.remove(id)) ? `Removed ${id}` : `No stored tenant "${id}"`);
        break;
      }
      case 'add': {
        const helpdesk = values.helpdesk ?? 'zendesk';
        const input: TenantInput = {
          id: values.id ?? '',
          helpdesk: helpdesk as TenantInput['helpdesk'],
          ...(values.name ? { name: values.name } : {}),
        };
        if (helpdesk === 'zendesk') {
          input.zendesk = {
            subdomain: values.subdomain ?? values.id ?? '',
            email: values.email ?? '',
            apiToken: secret(values['api-token'], values['api-token-env']) ?? '',
            ...optional('webhookSecret', secret(values['webhook-secret'], values['webhook-secret-env'])),
            ...optional('apiUrl', values['api-url']),
            ...optional('accountId', values['account-id']),
          };
        } else if (helpdesk === 'intercom') {
          input.intercom = {
            workspaceId: values['workspace-id'] ?? values.id ?? '',
            adminId: values['admin-id'] ?? '',
            accessToken: secret(values['access-token'], values['access-token-env']) ?? '',
            clientSecret: secret(values['client-secret'], values['client-secret-env']) ?? '',
            ...optional('apiUrl', values['api-url']),
          };
        }
        const existing = input.id ? await registry.get(input.id) : undefined;
        if (existing?.settings) input.settings = existing.settings;
        const tenant = await registry.put(input);
        io.out(`Saved tenant ${tenant.id} (${tenant.helpdesk})`);
        break;
      }
      case 'set': {
        const tenant = id === undefined ? undefined : await registry.get(id);
        if (tenant === undefined) throw new AppError('NOT_FOUND', `No tenant "${id ?? ''}"`);
        let patch: unknown;
        try {
          patch = JSON.parse(values.settings ?? '{}');
        } catch {
          throw new AppError('INVALID_JSON', '--settings must be a JSON object');
        }
        await registry.put({ ...tenant, settings: { ...tenant.settings, ...(patch as object) } });
        io.out(`Updated settings of ${tenant.id}`);
        break;
      }
      case 'connect-zendesk': {
        const { connectZendeskTenant } = await import('../zendesk/connect-command.ts');
        const { createZendeskConnections } = await import('../zendesk/helpdesk.ts');
        const summary = await connectZendeskTenant({
          registry,
          connections: createZendeskConnections(),
          tenantId: values.tenant ?? id,
          publicUrl: values['public-url'] ?? config.PUBLIC_URL,
        });
        io.out(JSON.stringify(summary, null, 2));
        break;
      }
      default:
        throw new AppError('BAD_REQUEST', `Unknown command "${command}"\n\n${USAGE}`);
    }
  } finally {
    await store.close();
  }
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return (value === undefined || value === '' ? {} : { [key]: value }) as Partial<Record<K, string>>;
}

const isMain = import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('tenants/cli.ts');
if (isMain) {
  const logger = createLogger({ level: 'error' });
  runTenantsCli(process.argv.slice(2), { out: (line) => process.stdout.write(`${line}\n`), env: process.env }).catch(
    (error: unknown) => {
      if (error instanceof AppError) {
        const details = error.details ? `\n${JSON.stringify(error.details, null, 2)}` : '';
        process.stderr.write(`Error (${error.code}): ${error.message}${details}\n`);
      } else if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
        process.stderr.write(`${error.message}\n\n${USAGE}`);
      } else {
        logger.error({ err: error }, 'tenants command failed');
      }
      process.exit(2);
    },
  );
}
