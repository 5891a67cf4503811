/** Secrets never reach logs or printed output. */
import { afterAll, describe, expect, it } from 'vitest';
import { runTenantsCli } from '../../server/tenants/cli.ts';
import { tempDir } from '../helpers/backends.ts';
import { memoryLogger } from '../helpers/logger.ts';

const API_TOKEN = 'zd-api-token-6f1c2e9a';
const WEBHOOK_SECRET = 'zd-webhook-secret-b77d01';
const ACCESS_TOKEN = 'ic-access-token-99aa31';
const CLIENT_SECRET = 'ic-client-secret-4410ff';

describe('secrets', () => {
  const previousDataDir = process.env.DATA_DIR;
  afterAll(() => {
    if (previousDataDir === undefined) delete process.env.DATA_DIR;
    else process.env.DATA_DIR = previousDataDir;
  });

  it('are never printed by the tenants command', async () => {
    process.env.DATA_DIR = tempDir('tenants');
    const lines: string[] = [];
    const io = { out: (line: string) => lines.push(line), env: { INTERCOM_TOKEN_FOR_TEST: ACCESS_TOKEN } };
    await runTenantsCli(
      [
        'add',
        '--id',
        'acme',
        '--subdomain',
        'acme',
        '--email',
        'ops@acme.example',
        '--api-token',
        API_TOKEN,
        '--webhook-secret',
        WEBHOOK_SECRET,
      ],
      io,
    );
    await runTenantsCli(
      [
        'add',
        '--id',
        'globex',
        '--helpdesk',
        'intercom',
        '--admin-id',
        '42',
        '--access-token-env',
        'INTERCOM_TOKEN_FOR_TEST',
        '--client-secret',
        CLIENT_SECRET,
      ],
      io,
    );
    await runTenantsCli(['list'], io);
    await runTenantsCli(['show', 'acme'], io);
    await runTenantsCli(['show', 'globex'], io);
    const printed = lines.join('\n');
    expect(printed).toContain('"apiToken": "[set]"');
    expect(printed).toContain('"accessToken": "[set]"');
    expect(printed).toContain('globex\tintercom');
    for (const secret of [API_TOKEN, WEBHOOK_SECRET, ACCESS_TOKEN, CLIENT_SECRET])
      expect(printed).not.toContain(secret);
  });

  it('are redacted from log objects by key and masked inside logged strings', () => {
    const { logger, output } = memoryLogger({ secrets: [API_TOKEN, CLIENT_SECRET] });
    logger.info({ tenant: { zendesk: { apiToken: API_TOKEN, email: 'ops@acme.example' } } }, 'tenant loaded');
    logger.info({ headers: { authorization: `Bearer ${API_TOKEN}`, 'x-hub-signature': 'sha1=abc' } }, 'request');
    logger.error({ err: new Error(`upstream rejected token ${API_TOKEN}`) }, 'call failed');
    logger.warn(`client secret was ${CLIENT_SECRET}`);
    logger.info({ nested: { deeper: { list: [`x ${CLIENT_SECRET} y`] } } }, 'nested');
    const logged = output();
    expect(logged).toContain('ops@acme.example');
    expect(logged).toContain('[REDACTED]');
    expect(logged).not.toContain(API_TOKEN);
    expect(logged).not.toContain(CLIENT_SECRET);
    expect(logged).not.toContain('sha1=abc');
  });
});
