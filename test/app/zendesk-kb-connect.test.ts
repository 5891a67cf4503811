/**
 * Help Center sync into the tenant's knowledge base (full, incremental, --full removals, the
 * schedule, `npm run kb -- sync zendesk`) and `npm run tenants -- connect-zendesk` (idempotent,
 * secret and field ids stored, nothing secret printed). All against the OAS-validating sandbox.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openKeyvStore } from '../../server/store/keyv-store.ts';
import { createTenantRegistry } from '../../server/tenants/registry.ts';
import { createKnowledgeProvider } from '../../server/triage/knowledge-store.ts';
import { connectZendeskTenant } from '../../server/zendesk/connect-command.ts';
import { createZendeskConnections } from '../../server/zendesk/helpdesk.ts';
import { SYNC_CURSOR_KEY, syncZendeskKnowledge } from '../../server/zendesk/kb-sync.ts';
import { sharedSpecPath } from '../fakes/openapi-validator.ts';
import { startZendeskSandbox, type ZendeskSandbox } from '../fakes/zendesk-sandbox.ts';
import { type Harness, startHarness } from '../fixtures/zendesk-harness.ts';
import { childEnv, tempDir, waitFor } from '../helpers/backends.ts';

const specsPresent = existsSync(fileURLToPath(sharedSpecPath('zendesk-support-oas.yaml')));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Runs a script as a child process (asynchronously: the sandbox answers from this process). */
async function runScript(script: string, args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, script), ...args], {
    cwd: ROOT,
    env: childEnv({ ...env, LOG_LEVEL: 'error' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const status = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { status, stdout, stderr };
}

function seedHelpCenter(sandbox: ZendeskSandbox) {
  const account = sandbox.seedSection({ name: 'Account & login' });
  const billing = sandbox.seedSection({ name: 'Billing' });
  const reset = sandbox.seedArticle({
    title: 'Reset your password',
    body: '<p>Open <b>Settings</b> &gt; Security and choose <em>Reset</em>.</p>',
    sectionId: account.id,
  });
  const invoices = sandbox.seedArticle({
    title: 'Download invoices',
    body: '<p>Invoices are under Billing.</p>',
    sectionId: billing.id,
  });
  const draft = sandbox.seedArticle({
    title: 'Unreleased plan',
    body: '<p>Soon.</p>',
    sectionId: billing.id,
    draft: true,
  });
  return { account, billing, reset, invoices, draft };
}

describe.skipIf(!specsPresent)('Help Center sync and account connect', () => {
  let sandbox: ZendeskSandbox | undefined;
  let harness: Harness | undefined;

  afterEach(async () => {
    const violations = [...(sandbox?.violations ?? []), ...(harness?.sandbox.violations ?? [])];
    await sandbox?.close();
    await harness?.close();
    sandbox = undefined;
    harness = undefined;
    expect(violations).toEqual([]);
  });

  it('imports published articles with their section, then syncs changes incrementally; --full drops archived ones', async () => {
    sandbox = await startZendeskSandbox();
    const { reset, invoices, draft } = seedHelpCenter(sandbox);
    const store = await openKeyvStore({ kind: 'sqlite', file: join(tempDir('kb-sync'), 's.sqlite') });
    const registry = createTenantRegistry(store);
    const tenant = await registry.put({
      id: 'acme',
      helpdesk: 'zendesk',
      zendesk: { subdomain: 'acme', email: sandbox.email, apiToken: sandbox.apiToken, apiUrl: sandbox.url },
    });
    const client = createZendeskConnections().forTenant(tenant).client;
    const knowledge = createKnowledgeProvider({ store, defaultArticles: [] });
    const sync = (full?: boolean) =>
      syncZendeskKnowledge({ tenantId: 'acme', client, store, knowledge, ...(full ? { full } : {}) });

    const first = await sync();
    expect(first).toMatchObject({ mode: 'full', upserted: 2 });
    let articles = await knowledge.list('acme');
    expect(articles.map((article) => article.title).sort()).toEqual(['Download invoices', 'Reset your password']);
    const imported = articles.find((article) => article.id === String(reset.id))!;
    expect(imported).toMatchObject({ productArea: 'Account & login', updatedAt: reset.updated_at });
    expect(imported.body).toBe('Open Settings > Security and choose Reset.');
    expect(await store.forTenant('acme').namespace('knowledge').get(SYNC_CURSOR_KEY)).toMatchObject({
      nextStartTime: expect.any(Number),
    });

    // Changes after the import: an edit, a published draft, an article back to draft.
    sandbox.editArticle(reset.id, { body: '<p>Use the new Security page.</p>' });
    sandbox.editArticle(draft.id, { draft: false });
    sandbox.editArticle(invoices.id, { draft: true });
    const second = await sync();
    expect(second).toMatchObject({ mode: 'incremental', upserted: 2, removed: 1 });
    expect(sandbox.requests.some((request) => request.path === '/api/v2/help_center/incremental/articles')).toBe(true);
    articles = await knowledge.list('acme');
    expect(articles.map((article) => article.title).sort()).toEqual(['Reset your password', 'Unreleased plan']);
    expect(articles.find((article) => article.id === String(reset.id))?.body).toBe('Use the new Security page.');

    // Archived articles vanish without a trace in the incremental export: --full finds them.
    sandbox.archiveArticle(draft.id);
    const full = await sync(true);
    // Removed: the archived article, and again the draft (a full import lists every draft it sees).
    expect(full).toMatchObject({ mode: 'full', upserted: 1, removed: 2 });
    expect((await knowledge.list('acme')).map((article) => article.id)).toEqual([String(reset.id)]);
    await store.close();
  });

  it('the schedule enqueues one sync per Zendesk tenant and the job fills the KB', async () => {
    harness = await startHarness();
    seedHelpCenter(harness.sandbox);
    const enqueued = await harness.feature.syncKnowledgeNow();
    expect(enqueued).toBe(1);
    const knowledge = createKnowledgeProvider({ store: harness.store, defaultArticles: [] });
    await waitFor(async () => (await knowledge.list('acme')).length === 2 && harness!.drained(), 'articles synced');
    expect((await harness.queue.counts()).dead).toBe(0);
  });

  it('npm run kb -- sync zendesk imports the env tenant Help Center', async () => {
    sandbox = await startZendeskSandbox();
    seedHelpCenter(sandbox);
    const dataDir = tempDir('kb-cli');
    const env = {
      DATA_DIR: dataDir,
      ZENDESK_SUBDOMAIN: 'acme',
      ZENDESK_EMAIL: sandbox.email,
      ZENDESK_API_TOKEN: sandbox.apiToken,
      ZENDESK_API_URL: sandbox.url,
    };
    const run = await runScript('server/zendesk/kb-cli.ts', ['sync', 'zendesk'], env);
    expect(run.stderr).toBe('');
    // The draft counts as removed: a full import drops every draft id it sees.
    expect(run.stdout).toContain('acme: full sync, 2 article(s) added or updated, 1 removed');
    const again = await runScript('server/zendesk/kb-cli.ts', ['sync', 'zendesk', '--tenant', 'acme'], env);
    expect(again.stdout).toContain('acme: incremental sync');
    const unknown = await runScript('server/zendesk/kb-cli.ts', ['sync', 'zendesk', '--tenant', 'nope'], env);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('No Zendesk tenant "nope"');
    const store = await openKeyvStore({ kind: 'sqlite', file: join(dataDir, 'support-agent.sqlite') });
    expect(await createKnowledgeProvider({ store, defaultArticles: [] }).list('acme')).toHaveLength(2);
    await store.close();
  });

  it('connect-zendesk creates webhook, triggers and fields once, and stores the secret and field ids', async () => {
    sandbox = await startZendeskSandbox();
    const store = await openKeyvStore({ kind: 'sqlite', file: join(tempDir('connect'), 's.sqlite') });
    const registry = createTenantRegistry(store);
    await registry.put({
      id: 'acme',
      helpdesk: 'zendesk',
      zendesk: { subdomain: 'acme', email: sandbox.email, apiToken: sandbox.apiToken, apiUrl: sandbox.url },
    });
    const connect = () =>
      connectZendeskTenant({
        registry,
        connections: createZendeskConnections(),
        tenantId: 'acme',
        publicUrl: 'https://agent.example.com',
      });
    const first = await connect();
    const second = await connect();
    expect(first.created.sort()).toEqual(
      [
        'webhook',
        'trigger:ticket_created',
        'trigger:comment_added',
        'ticket_field:ai_intent',
        'ticket_field:ai_confidence',
        'ticket_field:ai_tier',
      ].sort(),
    );
    expect(second.created).toEqual([]);
    expect(second.customFieldIds).toEqual(first.customFieldIds);
    expect(sandbox.webhooks()).toHaveLength(1);
    expect(sandbox.webhooks()[0]!.endpoint).toBe('https://agent.example.com/webhooks/zendesk');
    expect(sandbox.triggers()).toHaveLength(2);
    const stored = await registry.get('acme');
    expect(stored?.zendesk?.webhookSecret).toBe(sandbox.signingSecret(first.webhookId));
    expect(stored?.settings.customFieldIds).toEqual(first.customFieldIds);
    await expect(
      connectZendeskTenant({
        registry,
        connections: createZendeskConnections(),
        tenantId: 'acme',
        publicUrl: 'ftp://x',
      }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await store.close();
  });

  it('npm run tenants -- connect-zendesk works on the env tenant and prints no secret', async () => {
    sandbox = await startZendeskSandbox();
    const dataDir = tempDir('connect-cli');
    const env = {
      DATA_DIR: dataDir,
      ZENDESK_SUBDOMAIN: 'acme',
      ZENDESK_EMAIL: sandbox.email,
      ZENDESK_API_TOKEN: sandbox.apiToken,
      ZENDESK_API_URL: sandbox.url,
    };
    const args = ['connect-zendesk', '--tenant', 'acme', '--public-url', 'https://agent.example.com'];
    const run = await runScript('server/tenants/cli.ts', args, env);
    expect(run.stderr).toBe('');
    const summary = JSON.parse(run.stdout) as { webhookId: string; signingSecretStored: boolean };
    expect(summary.signingSecretStored).toBe(true);
    const secret = sandbox.signingSecret(summary.webhookId)!;
    expect(run.stdout).not.toContain(secret);
    expect(run.stdout).not.toContain(sandbox.apiToken);
    const rerun = await runScript('server/tenants/cli.ts', args, env);
    expect((JSON.parse(rerun.stdout) as { created: string[] }).created).toEqual([]);
    const store = await openKeyvStore({ kind: 'sqlite', file: join(dataDir, 'support-agent.sqlite') });
    const tenant = await createTenantRegistry(store).get('acme');
    expect(tenant?.zendesk?.webhookSecret).toBe(secret);
    await store.close();
  });
});
