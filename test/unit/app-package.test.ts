/**
 * The Zendesk app package: builds dist/zendesk-app into a temp folder and enforces every rule
 * from PLATFORM.md "The app package (ZAF v2)"; each rule also gets a broken package that must fail.
 */
import { mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { checkAppPackage, findDuplicateKeys } from '../../integration/zendesk/app-rules.ts';
import { buildZendeskApp, GENERATED_MARKER } from '../../integration/zendesk/build-app.ts';
import { pngSize } from '../../integration/zendesk/png.ts';

const rootDir = fileURLToPath(new URL('../../', import.meta.url));
const tempRoot = mkdtempSync(join(tmpdir(), 'zendesk-app-'));
let builds = 0;

function freshBuild(): string {
  const outDir = join(tempRoot, String(builds++), 'zendesk-app');
  const result = buildZendeskApp({ rootDir, outDir });
  expect(result.problems).toEqual([]);
  return outDir;
}

type JsonObject = Record<string, unknown>;

function editJson(dir: string, file: string, edit: (value: JsonObject) => void) {
  const path = join(dir, file);
  const value = JSON.parse(readFileSync(path, 'utf8')) as JsonObject;
  edit(value);
  writeFileSync(path, JSON.stringify(value, null, 2));
}

function rulesAfter(mutate: (dir: string) => void): string[] {
  const dir = freshBuild();
  mutate(dir);
  return checkAppPackage(dir).map((problem) => problem.rule);
}

const manifest = (edit: (m: JsonObject) => void) => (dir: string) => editJson(dir, 'manifest.json', edit);
const parameters = (m: JsonObject) => m.parameters as JsonObject[];

afterAll(() => rmSync(tempRoot, { recursive: true, force: true }));

describe('the built app package', () => {
  it('passes every rule, with a clean folder, a generated marker and the expected files', () => {
    const dir = freshBuild();
    expect(checkAppPackage(dir)).toEqual([]);
    expect(readFileSync(join(dir, GENERATED_MARKER), 'utf8')).toContain('Generated');
    const built = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as JsonObject;
    expect(built).toMatchObject({
      private: false,
      defaultLocale: 'en',
      frameworkVersion: '2.0',
      location: { support: { ticket_sidebar: { url: 'assets/iframe.html', flexible: true } } },
    });
    expect(parameters(built)).toEqual([
      { name: 'service_url', type: 'url', required: true },
      { name: 'api_token', type: 'text', required: true, secure: true, scopes: ['header'] },
    ]);
    expect(pngSize(readFileSync(join(dir, 'assets/logo.png')))).toEqual({ width: 320, height: 320 });
    expect(pngSize(readFileSync(join(dir, 'assets/logo-small.png')))).toEqual({ width: 128, height: 128 });
    expect(readFileSync(join(dir, 'assets/iframe.html'), 'utf8')).toContain(
      'https://static.zdassets.com/zendesk_app_framework_sdk/2.0/zaf_sdk.min.js',
    );
    const requirements = JSON.parse(readFileSync(join(dir, 'requirements.json'), 'utf8')) as JsonObject;
    expect(Object.keys(requirements.ticket_fields as JsonObject).sort()).toEqual([
      'ai_confidence',
      'ai_intent',
      'ai_tier',
    ]);
  });

  it('rebuilding removes stale files and adds the domain whitelist when given', () => {
    const dir = freshBuild();
    writeFileSync(join(dir, 'assets', 'stale.txt'), 'old');
    const result = buildZendeskApp({ rootDir, outDir: dir, domainWhitelist: ['agent.example.com'] });
    expect(result.problems).toEqual([]);
    expect(() => readFileSync(join(dir, 'assets', 'stale.txt'))).toThrow();
    expect(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).domainWhitelist).toEqual(['agent.example.com']);
  });

  it('refuses to clean a folder not named zendesk-app', () => {
    expect(() => buildZendeskApp({ rootDir, outDir: join(tempRoot, 'elsewhere') })).toThrow(/refusing/);
  });
});

describe('each package rule can fail', () => {
  const cases: Array<[string, string, (dir: string) => void]> = [
    ['manifest.json missing', 'manifest-required', (dir) => unlinkSync(join(dir, 'manifest.json'))],
    ['author missing', 'author-required', manifest((m) => delete m.author)],
    ['author email missing', 'author-required', manifest((m) => delete (m.author as JsonObject).email)],
    ['defaultLocale missing', 'default-locale-required', manifest((m) => delete m.defaultLocale)],
    ['location missing', 'location-required', manifest((m) => delete m.location)],
    ['frameworkVersion 1.0', 'framework-version', manifest((m) => (m.frameworkVersion = '1.0'))],
    ['private as a string', 'strict-booleans', manifest((m) => (m.private = 'false'))],
    ['signedUrls as a string', 'strict-booleans', manifest((m) => (m.signedUrls = 'true'))],
    ['singleInstall as a number', 'strict-booleans', manifest((m) => (m.singleInstall = 1))],
    ['private app', 'marketplace-public', manifest((m) => (m.private = true))],
    [
      'location url outside assets/',
      'location-url',
      manifest((m) => {
        (m.location as { support: { ticket_sidebar: JsonObject } }).support.ticket_sidebar.url = 'iframe.html';
      }),
    ],
    [
      'location url that does not exist',
      'location-url',
      manifest((m) => {
        (m.location as { support: { ticket_sidebar: JsonObject } }).support.ticket_sidebar.url = 'assets/missing.html';
      }),
    ],
    [
      'absolute http location url',
      'location-url',
      manifest((m) => {
        (m.location as { support: { ticket_sidebar: JsonObject } }).support.ticket_sidebar.url =
          'http://agent.example.com/';
      }),
    ],
    [
      'unknown support location',
      'location-known',
      manifest((m) => {
        (m.location as { support: JsonObject }).support.ticket_footer = { url: 'assets/iframe.html' };
      }),
    ],
    ['unknown parameter type', 'parameter-type', manifest((m) => (parameters(m)[0]!.type = 'password'))],
    ['a parameter called name', 'parameter-name', manifest((m) => parameters(m).push({ name: 'name', type: 'text' }))],
    [
      'a required hidden parameter',
      'hidden-not-required',
      manifest((m) => parameters(m).push({ name: 'tenant', type: 'hidden', required: true })),
    ],
    ['a secure parameter without scopes', 'secure-scopes', manifest((m) => delete parameters(m)[1]!.scopes)],
    ['an unknown scope', 'secure-scopes', manifest((m) => (parameters(m)[1]!.scopes = ['cookie']))],
    ['required as a string', 'strict-booleans', manifest((m) => (parameters(m)[0]!.required = 'true'))],
    ['translations missing', 'translations-required', (dir) => unlinkSync(join(dir, 'translations/en.json'))],
    [
      'marketplace string missing',
      'translations-keys',
      (dir) => editJson(dir, 'translations/en.json', (t) => delete (t.app as JsonObject).installation_instructions),
    ],
    [
      'parameter label missing',
      'translations-keys',
      (dir) =>
        editJson(dir, 'translations/en.json', (t) => {
          delete ((t.app as JsonObject).parameters as Record<string, JsonObject>).api_token!.label;
        }),
    ],
    [
      'duplicate manifest key',
      'no-duplicate-keys',
      (dir) => {
        const path = join(dir, 'manifest.json');
        writeFileSync(
          path,
          readFileSync(path, 'utf8').replace('"defaultLocale": "en",', '"defaultLocale": "en", "defaultLocale": "de",'),
        );
      },
    ],
    ['a symlink', 'no-symlinks', (dir) => symlinkSync(join(dir, 'assets/logo.png'), join(dir, 'assets/link.png'))],
    ['a shell script', 'forbidden-files', (dir) => writeFileSync(join(dir, 'assets/setup.sh'), 'echo hi')],
    ['a pdf', 'forbidden-files', (dir) => writeFileSync(join(dir, 'assets/guide.PDF'), '%PDF')],
    [
      'unknown requirement type',
      'requirements-types',
      (dir) => editJson(dir, 'requirements.json', (r) => (r.ticket_forms = { form: { title: 'x' } })),
    ],
    [
      'ticket field without title',
      'requirements-keys',
      (dir) =>
        editJson(
          dir,
          'requirements.json',
          (r) => delete (r.ticket_fields as Record<string, JsonObject>).ai_tier!.title,
        ),
    ],
    [
      'webhook without endpoint',
      'requirements-keys',
      (dir) =>
        editJson(dir, 'requirements.json', (r) => {
          r.webhooks = { hook: { name: 'x', status: 'active', http_method: 'POST', request_format: 'json' } };
        }),
    ],
    [
      'user field without key',
      'requirements-keys',
      (dir) => editJson(dir, 'requirements.json', (r) => (r.user_fields = { plan: { type: 'text', title: 'Plan' } })),
    ],
    [
      'http_target target',
      'requirements-targets',
      (dir) =>
        editJson(
          dir,
          'requirements.json',
          (r) => (r.targets = { t: { title: 'T', type: 'http_target', target_url: 'https://x' } }),
        ),
    ],
    [
      'url_target_v2 target',
      'requirements-targets',
      (dir) => editJson(dir, 'requirements.json', (r) => (r.targets = { t: { title: 'T', type: 'url_target_v2' } })),
    ],
    [
      'requirements not JSON',
      'json-valid',
      (dir) => writeFileSync(join(dir, 'requirements.json'), '{ticket_fields: }'),
    ],
  ];

  it.each(cases)('%s → %s', (_label, rule, mutate) => {
    expect(rulesAfter(mutate)).toContain(rule);
  });

  it('accepts a webhook requirement with its required keys (webhooks need no title)', () => {
    const rules = rulesAfter((dir) =>
      editJson(dir, 'requirements.json', (r) => {
        r.webhooks = {
          hook: {
            name: 'AI',
            status: 'active',
            endpoint: 'https://a.example/webhooks/zendesk',
            http_method: 'POST',
            request_format: 'json',
          },
        };
      }),
    );
    expect(rules).toEqual([]);
  });
});

describe('findDuplicateKeys', () => {
  it('finds duplicates at any depth and ignores equal keys in sibling objects', () => {
    expect(findDuplicateKeys('{"a":1,"b":{"c":1,"c":2},"d":[{"e":1},{"e":2}],"a":3}')).toEqual(['/b/c', '/a']);
    expect(findDuplicateKeys('{"a":"x\\"a","b":{"a":1}}')).toEqual([]);
  });
});
