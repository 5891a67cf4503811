/**
 * The Zendesk app package rules (ZAF v2) that Zendesk's validator enforces, as listed in
 * PLATFORM.md "The app package (ZAF v2)". zcli validates only online, with credentials, so the
 * build and its test check the package folder with these instead. Each problem names its rule.
 */
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';

export interface AppRuleProblem {
  rule: string;
  message: string;
}

export const PARAMETER_TYPES = ['text', 'checkbox', 'url', 'number', 'multiline', 'hidden', 'oauth'] as const;
export const SECURE_SCOPES = [
  'header',
  'body',
  'url',
  'jwt_secret_key',
  'jwt_claim',
  'basic_auth_username',
  'basic_auth_password',
] as const;
export const SUPPORT_LOCATIONS = [
  'ticket_sidebar',
  'new_ticket_sidebar',
  'user_sidebar',
  'organization_sidebar',
  'nav_bar',
  'top_bar',
  'ticket_editor',
  'background',
  'modal',
] as const;
export const REQUIREMENT_TYPES = [
  'ticket_fields',
  'user_fields',
  'organization_fields',
  'triggers',
  'webhooks',
  'targets',
  'views',
  'macros',
  'automations',
  'channel_integrations',
  'custom_objects',
  'custom_resources_schema',
] as const;
export const FORBIDDEN_EXTENSIONS = [
  '.sh',
  '.zip',
  '.pdf',
  '.jar',
  '.doc',
  '.docx',
  '.exe',
  '.bat',
  '.cmd',
  '.dll',
  '.so',
  '.dylib',
  '.tar',
  '.gz',
  '.rar',
  '.7z',
];
const WEBHOOK_REQUIRED = ['name', 'status', 'endpoint', 'http_method', 'request_format'] as const;
const REJECTED_TARGET_TYPES = ['http_target', 'url_target_v2'];
const PUBLIC_APP_STRINGS = [
  'app.name',
  'app.short_description',
  'app.long_description',
  'app.installation_instructions',
];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: unknown): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Duplicate keys in JSON text. JSON.parse keeps the last value silently, so the raw text is
 * scanned: a tiny tokenizer that tracks the keys of each open object.
 */
export function findDuplicateKeys(text: string): string[] {
  const duplicates: string[] = [];
  const stack: Array<{ keys: Set<string>; path: string; isObject: boolean }> = [];
  let lastString = '';
  let index = 0;
  while (index < text.length) {
    const char = text[index];
    if (char === '"') {
      let end = index + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      lastString = JSON.parse(text.slice(index, end + 1)) as string;
      index = end + 1;
      const top = stack.at(-1);
      // A string followed by ':' inside an object is a key.
      let look = index;
      while (/\s/.test(text[look] ?? '')) look++;
      if (top?.isObject && text[look] === ':') {
        if (top.keys.has(lastString)) duplicates.push(`${top.path}/${lastString}`);
        top.keys.add(lastString);
      }
      continue;
    }
    if (char === '{' || char === '[') {
      const parent = stack.at(-1);
      const path = parent ? `${parent.path}/${parent.isObject ? lastString : '*'}` : '';
      stack.push({ keys: new Set(), path, isObject: char === '{' });
    } else if (char === '}' || char === ']') {
      stack.pop();
    }
    index++;
  }
  return duplicates;
}

function readJson(path: string, label: string, problems: AppRuleProblem[]): Json | undefined {
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, 'utf8');
  let parsed: Json;
  try {
    parsed = JSON.parse(text) as Json;
  } catch (error) {
    problems.push({ rule: 'json-valid', message: `${label} is not valid JSON: ${(error as Error).message}` });
    return undefined;
  }
  for (const key of findDuplicateKeys(text)) {
    problems.push({ rule: 'no-duplicate-keys', message: `${label} has the key ${key} more than once` });
  }
  return parsed;
}

function lookup(translations: Json, dotted: string): Json | undefined {
  if (isObject(translations) && dotted in translations) return translations[dotted];
  let node: Json | undefined = translations;
  for (const part of dotted.split('.')) node = isObject(node) ? node[part] : undefined;
  return node;
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

function checkManifestBasics(manifest: Record<string, Json>, problems: AppRuleProblem[]) {
  const author = manifest.author;
  if (!isObject(author)) problems.push({ rule: 'author-required', message: 'manifest.author is required' });
  else {
    for (const field of ['name', 'email', 'url'])
      if (!nonEmptyString(author[field]))
        problems.push({ rule: 'author-required', message: `manifest.author.${field} is required` });
  }
  if (!nonEmptyString(manifest.defaultLocale))
    problems.push({ rule: 'default-locale-required', message: 'manifest.defaultLocale is required' });
  const requirementsOnly = manifest.requirementsOnly === true;
  if (!requirementsOnly && manifest.location === undefined)
    problems.push({ rule: 'location-required', message: 'manifest.location is required' });
  if (!requirementsOnly && manifest.frameworkVersion !== '2.0')
    problems.push({ rule: 'framework-version', message: 'manifest.frameworkVersion must be "2.0"' });
  for (const flag of ['signedUrls', 'private', 'singleInstall']) {
    if (flag in manifest && typeof manifest[flag] !== 'boolean')
      problems.push({
        rule: 'strict-booleans',
        message: `manifest.${flag} must be true or false, not ${JSON.stringify(manifest[flag])}`,
      });
  }
  if (manifest.private !== false)
    problems.push({ rule: 'marketplace-public', message: 'manifest.private must be false for a marketplace app' });
}

function checkLocationUrl(dir: string, where: string, url: unknown, problems: AppRuleProblem[]) {
  if (!nonEmptyString(url)) {
    problems.push({ rule: 'location-url', message: `${where} needs a url` });
    return;
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(url)) {
    const parsed = URL.canParse(url) ? new URL(url) : undefined;
    const localhost = parsed?.protocol === 'http:' && ['localhost', '127.0.0.1'].includes(parsed.hostname);
    if (parsed?.protocol !== 'https:' && !localhost)
      problems.push({ rule: 'location-url', message: `${where} url must be https (or localhost): ${url}` });
    return;
  }
  if (!url.startsWith('assets/'))
    problems.push({ rule: 'location-url', message: `${where} url must start with assets/: ${url}` });
  else if (!existsSync(join(dir, url.split(/[?#]/)[0] ?? url)))
    problems.push({ rule: 'location-url', message: `${where} url ${url} does not exist in the package` });
}

function checkLocations(dir: string, location: Json | undefined, problems: AppRuleProblem[]) {
  if (location === undefined) return;
  if (!isObject(location)) {
    problems.push({ rule: 'location-shape', message: 'manifest.location must be an object of products' });
    return;
  }
  for (const [product, locations] of Object.entries(location)) {
    if (!isObject(locations)) {
      problems.push({ rule: 'location-shape', message: `manifest.location.${product} must be an object` });
      continue;
    }
    for (const [name, value] of Object.entries(locations)) {
      const where = `location.${product}.${name}`;
      if (product === 'support' && !(SUPPORT_LOCATIONS as readonly string[]).includes(name))
        problems.push({ rule: 'location-known', message: `${where} is not a Support location` });
      if (typeof value === 'string') checkLocationUrl(dir, where, value, problems);
      else if (isObject(value)) {
        checkLocationUrl(dir, where, value.url, problems);
        if ('flexible' in value && typeof value.flexible !== 'boolean')
          problems.push({ rule: 'strict-booleans', message: `${where}.flexible must be a boolean` });
      } else problems.push({ rule: 'location-shape', message: `${where} must be a url or {url}` });
    }
  }
}

function checkParameters(parameters: Json | undefined, problems: AppRuleProblem[]): string[] {
  if (parameters === undefined) return [];
  if (!Array.isArray(parameters)) {
    problems.push({ rule: 'parameters-shape', message: 'manifest.parameters must be an array' });
    return [];
  }
  const names: string[] = [];
  for (const parameter of parameters) {
    if (!isObject(parameter) || !nonEmptyString(parameter.name)) {
      problems.push({ rule: 'parameters-shape', message: 'every parameter needs a name' });
      continue;
    }
    const name = parameter.name;
    names.push(name);
    if (name === 'name') problems.push({ rule: 'parameter-name', message: 'a parameter may not be called "name"' });
    if (!(PARAMETER_TYPES as readonly Json[]).includes(parameter.type ?? null))
      problems.push({
        rule: 'parameter-type',
        message: `parameter ${name} has type ${JSON.stringify(parameter.type)}`,
      });
    for (const flag of ['required', 'secure'])
      if (flag in parameter && typeof parameter[flag] !== 'boolean')
        problems.push({ rule: 'strict-booleans', message: `parameter ${name}.${flag} must be a boolean` });
    if (parameter.type === 'hidden' && parameter.required === true)
      problems.push({ rule: 'hidden-not-required', message: `hidden parameter ${name} cannot be required` });
    if (parameter.secure === true) {
      const scopes = parameter.scopes;
      if (!Array.isArray(scopes) || scopes.length === 0)
        problems.push({ rule: 'secure-scopes', message: `secure parameter ${name} needs scopes` });
      else
        for (const scope of scopes)
          if (!(SECURE_SCOPES as readonly Json[]).includes(scope))
            problems.push({
              rule: 'secure-scopes',
              message: `parameter ${name} has unknown scope ${JSON.stringify(scope)}`,
            });
    }
  }
  if (new Set(names).size !== names.length)
    problems.push({ rule: 'parameter-name', message: 'parameter names must be unique' });
  return names;
}

function checkTranslations(
  dir: string,
  manifest: Record<string, Json>,
  parameterNames: string[],
  problems: AppRuleProblem[],
) {
  if (!nonEmptyString(manifest.defaultLocale)) return;
  const file = join(dir, 'translations', `${manifest.defaultLocale}.json`);
  if (!existsSync(file)) {
    problems.push({ rule: 'translations-required', message: `translations/${manifest.defaultLocale}.json is missing` });
    return;
  }
  const translations = readJson(file, `translations/${manifest.defaultLocale}.json`, problems);
  if (translations === undefined) return;
  if (manifest.private === false) {
    for (const key of PUBLIC_APP_STRINGS)
      if (!nonEmptyString(lookup(translations, key)))
        problems.push({ rule: 'translations-keys', message: `translations lack ${key}` });
  }
  for (const name of parameterNames) {
    if (!nonEmptyString(lookup(translations, `app.parameters.${name}.label`)))
      problems.push({ rule: 'translations-keys', message: `translations lack app.parameters.${name}.label` });
  }
}

function checkFiles(dir: string, problems: AppRuleProblem[]) {
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder)) {
      const path = join(folder, entry);
      const relativePath = relative(dir, path).split(sep).join('/');
      const stat = lstatSync(path);
      if (stat.isSymbolicLink()) {
        problems.push({ rule: 'no-symlinks', message: `${relativePath} is a symbolic link` });
        continue;
      }
      if (stat.isDirectory()) walk(path);
      else if (FORBIDDEN_EXTENSIONS.includes(extname(entry).toLowerCase()))
        problems.push({ rule: 'forbidden-files', message: `${relativePath} has a forbidden file type` });
    }
  };
  walk(dir);
}

function checkRequirements(dir: string, problems: AppRuleProblem[]) {
  const requirements = readJson(join(dir, 'requirements.json'), 'requirements.json', problems);
  if (requirements === undefined) return;
  if (!isObject(requirements)) {
    problems.push({ rule: 'requirements-shape', message: 'requirements.json must be an object' });
    return;
  }
  for (const [type, entries] of Object.entries(requirements)) {
    if (!(REQUIREMENT_TYPES as readonly string[]).includes(type)) {
      problems.push({ rule: 'requirements-types', message: `requirements.json has unknown type ${type}` });
      continue;
    }
    if (!isObject(entries)) {
      problems.push({ rule: 'requirements-shape', message: `requirements.${type} must map identifiers to bodies` });
      continue;
    }
    for (const [identifier, body] of Object.entries(entries)) {
      const where = `requirements.${type}.${identifier}`;
      if (!isObject(body)) {
        problems.push({ rule: 'requirements-shape', message: `${where} must be an object` });
        continue;
      }
      if (type === 'webhooks') {
        for (const field of WEBHOOK_REQUIRED)
          if (!nonEmptyString(body[field]))
            problems.push({ rule: 'requirements-keys', message: `${where} needs ${field}` });
      } else if (!nonEmptyString(body.title)) {
        problems.push({ rule: 'requirements-keys', message: `${where} needs a title` });
      }
      if (type === 'user_fields' && !nonEmptyString(body.key))
        problems.push({ rule: 'requirements-keys', message: `${where} needs a key` });
      if (type === 'targets' && REJECTED_TARGET_TYPES.includes(String(body.type)))
        problems.push({
          rule: 'requirements-targets',
          message: `${where} uses the rejected target type ${String(body.type)}`,
        });
    }
  }
}

/** Every rule problem in an app package folder; an empty list means the folder passes. */
export function checkAppPackage(dir: string): AppRuleProblem[] {
  const problems: AppRuleProblem[] = [];
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath))
    return [{ rule: 'manifest-required', message: 'manifest.json is missing at the root' }];
  const manifest = readJson(manifestPath, 'manifest.json', problems);
  if (!isObject(manifest)) {
    if (manifest !== undefined)
      problems.push({ rule: 'manifest-required', message: 'manifest.json must be an object' });
    return problems;
  }
  checkManifestBasics(manifest, problems);
  checkLocations(dir, manifest.location, problems);
  const parameterNames = checkParameters(manifest.parameters, problems);
  checkTranslations(dir, manifest, parameterNames, problems);
  checkFiles(dir, problems);
  checkRequirements(dir, problems);
  return problems;
}
