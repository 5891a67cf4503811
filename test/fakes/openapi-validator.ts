/**
 * Validates HTTP requests against a vendor's OpenAPI 3.0 document, so loopback fakes can reject
 * whatever the real API would not accept. Built on openapi-backend (checked to work on Node 20
 * despite its ref-parser dependency declaring node >= 22.19: we pass an already-parsed document,
 * and `quick` mode skips the parts that would load files).
 *
 * On top of openapi-backend's checks (path params, declared query params only, body schema) it
 * adds one strict check of its own: request-body properties the schema does not declare are
 * violations. Zendesk's schemas rarely say `additionalProperties: false`, so without this a
 * misspelt field (`is_public`, `priority_level`) would pass silently while Zendesk ignores it.
 */
import { readFileSync } from 'node:fs';
import { type Document, OpenAPIBackend } from 'openapi-backend';
import { parse as parseYaml } from 'yaml';

export interface OpenApiRequest {
  method: string;
  /** Path without the query string, e.g. `/api/v2/tickets/12`. */
  path: string;
  query?: Record<string, string | string[]>;
  /** Parsed JSON body (undefined when there is none). */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface OpenApiValidation {
  ok: boolean;
  operationId?: string;
  /** Each names the failing location, e.g. `body /ticket/priority: must be equal to one of ...`. */
  errors: string[];
}

export interface OpenApiValidator {
  readonly title: string;
  validate(request: OpenApiRequest): OpenApiValidation;
  /** The operation id for method+path, or undefined when the spec has no such operation. */
  operationFor(method: string, path: string): string | undefined;
}

type JsonObject = Record<string, unknown>;

const documentCache = new Map<string, JsonObject>();

/** Parses a (large) YAML spec once per process; the Zendesk files take about half a second each. */
export function loadOpenApiDocument(file: string | URL): JsonObject {
  const key = String(file);
  const cached = documentCache.get(key);
  if (cached) return cached;
  const parsed = parseYaml(readFileSync(file, 'utf8'), { maxAliasCount: -1 }) as JsonObject;
  documentCache.set(key, parsed);
  return parsed;
}

/** The spec files live in ../shared/specs relative to the repository root. */
export function sharedSpecPath(fileName: string): URL {
  return new URL(`../../../shared/specs/${fileName}`, import.meta.url);
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

/** Formats used by the Zendesk specs; unknown formats would otherwise be ignored with a warning. */
const FORMATS: Record<string, (value: string) => boolean> = {
  'date-time': (value) => RFC3339.test(value) && !Number.isNaN(Date.parse(value)),
  date: (value) => /^\d{4}-\d{2}-\d{2}$/.test(value),
  email: (value) => /^[^\s@]+@[^\s@]+$/.test(value),
  uri: (value) => URL.canParse(value),
  url: (value) => URL.canParse(value),
  hostname: (value) => /^[a-z0-9.-]+$/i.test(value),
  uuid: (value) => /^[0-9a-f-]{36}$/i.test(value),
};

export async function createOpenApiValidator(document: JsonObject): Promise<OpenApiValidator> {
  const api = new OpenAPIBackend({
    // openapi-backend mutates (dereferences) its input: give it a copy so the cache stays pristine.
    definition: structuredClone(document) as unknown as Document,
    quick: true,
    validate: true,
    ajvOpts: { strict: false, allErrors: true },
    customizeAjv: (ajv) => {
      for (const [name, check] of Object.entries(FORMATS)) ajv.addFormat(name, check);
      // Zendesk uses OpenAPI integer formats ajv does not know.
      ajv.addFormat('int64', { type: 'number', validate: Number.isInteger });
      ajv.addFormat('int32', { type: 'number', validate: Number.isInteger });
      return ajv;
    },
  });
  await api.init();
  // openapi-backend rebuilds its list of operations and a RegExp per path template on every
  // match: with a spec of hundreds of paths that was two thirds of the sandbox's CPU in the
  // benchmark. The definition does not change after init, so both are computed once.
  const router = api.router as unknown as {
    getOperations: () => unknown[];
    matchOperation: (request: { method: string; path: string; headers: Record<string, string> }) => unknown;
  };
  const operations = router.getOperations();
  router.getOperations = () => operations;
  const matches = new Map<string, unknown>();
  const matchOperation = router.matchOperation.bind(router);
  router.matchOperation = (request) => {
    const key = `${request.method.toLowerCase()} ${request.path}`;
    if (matches.has(key)) return matches.get(key);
    const found = matchOperation(request);
    if (matches.size >= 20_000) matches.clear();
    matches.set(key, found);
    return found;
  };
  const info = isObject(document.info) ? document.info : {};
  const title = typeof info.title === 'string' ? info.title : 'OpenAPI document';

  function operationFor(method: string, path: string) {
    const operation = api.router.matchOperation({ method: method.toLowerCase(), path, headers: {} });
    return operation?.operationId ?? (operation ? `${method.toUpperCase()} ${operation.path}` : undefined);
  }

  function validate(request: OpenApiRequest): OpenApiValidation {
    const method = request.method.toLowerCase();
    const headers: Record<string, string> = { ...(request.headers ?? {}) };
    if (request.body !== undefined && headers['content-type'] === undefined)
      headers['content-type'] = 'application/json';
    const routed = { method, path: request.path, headers, query: request.query ?? {}, body: request.body };
    const operation = api.router.matchOperation(routed);
    if (!operation) {
      return { ok: false, errors: [`${request.method.toUpperCase()} ${request.path}: no such operation in ${title}`] };
    }
    const errors: string[] = [];
    const result = api.validator.validateRequest(routed, operation);
    for (const error of result.errors ?? []) {
      const where = error.instancePath.replace(/^\/requestBody/, 'body ').replace(/^\/(path|query)\//, '$1 ');
      const extra =
        isObject(error.params) && 'additionalProperty' in error.params ? ` (${error.params.additionalProperty})` : '';
      errors.push(`${where || 'request'}: ${error.message ?? error.keyword}${extra}`);
    }
    const bodySchema = requestBodySchema(operation as unknown as JsonObject, document);
    if (request.body !== undefined && bodySchema) {
      collectUndeclared(request.body, bodySchema, document, 'body ', errors, 0);
    } else if (request.body !== undefined && method !== 'get' && method !== 'delete') {
      // The operation declares no body at all: anything we send would be a guess.
      if (!(operation as unknown as JsonObject).requestBody)
        errors.push('body: the operation declares no request body');
    }
    const operationId = typeof operation.operationId === 'string' ? operation.operationId : undefined;
    return { ok: errors.length === 0, errors: unique(errors), ...(operationId ? { operationId } : {}) };
  }

  return { title, validate, operationFor };
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** Follows local `#/...` references (the specs use no remote ones). */
export function resolveRef(node: unknown, document: JsonObject, depth = 0): unknown {
  if (!isObject(node) || typeof node.$ref !== 'string' || depth > 32) return node;
  const ref = node.$ref;
  if (!ref.startsWith('#/')) throw new Error(`only local $refs are supported, got ${ref}`);
  let target: unknown = document;
  for (const raw of ref.slice(2).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    target = isObject(target) ? target[segment] : undefined;
  }
  if (target === undefined) throw new Error(`unresolvable $ref ${ref}`);
  return resolveRef(target, document, depth + 1);
}

function requestBodySchema(operation: JsonObject, document: JsonObject): JsonObject | undefined {
  const body = resolveRef(operation.requestBody, document);
  if (!isObject(body) || !isObject(body.content)) return undefined;
  const media = body.content['application/json'];
  if (!isObject(media)) return undefined;
  const schema = resolveRef(media.schema, document);
  return isObject(schema) ? schema : undefined;
}

/** Every schema an object value must satisfy at once (allOf) or may satisfy (anyOf/oneOf). */
function flattenSchemas(schema: JsonObject, document: JsonObject, depth: number): JsonObject[] {
  if (depth > 16) return [schema];
  const out: JsonObject[] = [schema];
  for (const key of ['allOf', 'anyOf', 'oneOf']) {
    const list = schema[key];
    if (!Array.isArray(list)) continue;
    for (const item of list) {
      const resolved = resolveRef(item, document);
      if (isObject(resolved)) out.push(...flattenSchemas(resolved, document, depth + 1));
    }
  }
  return out;
}

function collectUndeclared(
  value: unknown,
  schemaIn: JsonObject,
  document: JsonObject,
  at: string,
  errors: string[],
  depth: number,
): void {
  if (depth > 24) return;
  const schemas = flattenSchemas(schemaIn, document, 0);
  if (Array.isArray(value)) {
    for (const schema of schemas) {
      const items = resolveRef(schema.items, document);
      if (!isObject(items)) continue;
      value.forEach((item, index) => {
        collectUndeclared(item, items, document, `${at}/${index}`, errors, depth + 1);
      });
    }
    return;
  }
  if (!isObject(value)) return;
  const declared = new Map<string, JsonObject>();
  let open = false;
  let constrained = false;
  for (const schema of schemas) {
    if (isObject(schema.properties)) {
      constrained = true;
      for (const [name, child] of Object.entries(schema.properties)) {
        const resolved = resolveRef(child, document);
        if (isObject(resolved) && !declared.has(name)) declared.set(name, resolved);
      }
    }
    if (schema.additionalProperties === true || isObject(schema.additionalProperties)) open = true;
  }
  for (const [name, child] of Object.entries(value)) {
    const childSchema = declared.get(name);
    if (childSchema) collectUndeclared(child, childSchema, document, `${at}/${name}`, errors, depth + 1);
    else if (constrained && !open) errors.push(`${at}/${name}: property not declared by the spec`);
  }
}

/**
 * Corrections to Zendesk's published specs, applied in memory (the spec files stay untouched).
 * Each one is a place where the spec disagrees with how Zendesk actually behaves and documents
 * itself; the notes are returned so tests and reports can list them.
 */
export interface SpecOverlay {
  note: string;
  apply(document: JsonObject): void;
}

function pathItem(document: JsonObject, path: string): JsonObject {
  const paths = document.paths as JsonObject;
  const item = paths[path];
  if (!isObject(item)) throw new Error(`overlay: the spec has no path ${path}`);
  return item;
}

function operationAt(document: JsonObject, path: string, method: string): JsonObject {
  const operation = pathItem(document, path)[method];
  if (!isObject(operation)) throw new Error(`overlay: the spec has no ${method.toUpperCase()} ${path}`);
  return operation;
}

function jsonBody(schema: JsonObject): JsonObject {
  return { required: true, content: { 'application/json': { schema } } };
}

function queryParameter(name: string, schema: JsonObject): JsonObject {
  return { name, in: 'query', schema };
}

const CURSOR_PAGE_PARAMETERS = [
  queryParameter('page[size]', { type: 'integer', minimum: 1, maximum: 100 }),
  queryParameter('page[after]', { type: 'string' }),
  queryParameter('page[before]', { type: 'string' }),
];

function addQueryParameters(operation: JsonObject, parameters: JsonObject[]): void {
  const existing = Array.isArray(operation.parameters) ? operation.parameters : [];
  operation.parameters = [...existing, ...parameters];
}

const tagsBody = {
  type: 'object',
  additionalProperties: false,
  required: ['tags'],
  properties: {
    tags: { type: 'array', items: { type: 'string' } },
    safe_update: { type: 'boolean' },
    updated_stamp: { type: 'string', format: 'date-time' },
  },
};

/** Ticket custom field values as Zendesk accepts them on tickets: `{id, value}`. */
const ticketCustomFieldValue = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: {
    id: { type: 'integer' },
    value: {
      anyOf: [
        { type: 'string', nullable: true },
        { type: 'number' },
        { type: 'boolean' },
        { type: 'array', items: { type: 'string' } },
      ],
    },
  },
};

export const ZENDESK_SUPPORT_OVERLAYS: SpecOverlay[] = [
  {
    note:
      'Ticket update/create `custom_fields` items point at CustomFieldObject (the user/organization field ' +
      'definition, requiring key/type/title); tickets take `[{id, value}]` (Zendesk docs "Setting custom field values").',
    apply(document) {
      const schemas = (document.components as JsonObject).schemas as JsonObject;
      for (const name of ['TicketUpdateInput', 'TicketCreateInput']) {
        const schema = schemas[name];
        if (!isObject(schema) || !isObject(schema.properties) || !isObject(schema.properties.custom_fields)) continue;
        schema.properties.custom_fields = { type: 'array', items: ticketCustomFieldValue };
      }
    },
  },
  {
    note:
      'PUT/POST/DELETE /api/v2/tickets/{ticket_id}/tags declare no request body although their descriptions ' +
      'show `{"tags": [...], "safe_update", "updated_stamp"}`.',
    apply(document) {
      for (const method of ['put', 'post', 'delete']) {
        operationAt(document, '/api/v2/tickets/{ticket_id}/tags', method).requestBody = jsonBody(tagsBody);
      }
    },
  },
  {
    note: 'POST /api/v2/ticket_fields declares no request body; Zendesk takes `{"ticket_field": TicketFieldObject}`.',
    apply(document) {
      operationAt(document, '/api/v2/ticket_fields', 'post').requestBody = jsonBody({
        type: 'object',
        required: ['ticket_field'],
        properties: {
          ticket_field: {
            allOf: [{ $ref: '#/components/schemas/TicketFieldObject' }, { required: ['type', 'title'] }],
          },
        },
      });
    },
  },
  {
    note:
      'GET /api/v2/groups lists the path parameter `user_id` (shared with /users/{user_id}/groups) as required, ' +
      'which no request to /api/v2/groups can satisfy.',
    apply(document) {
      const operation = operationAt(document, '/api/v2/groups', 'get');
      const parameters = Array.isArray(operation.parameters) ? operation.parameters : [];
      operation.parameters = parameters.filter(
        (parameter) => !(isObject(parameter) && parameter.$ref === '#/components/parameters/UserId'),
      );
    },
  },
  {
    note:
      'GET /api/v2/tickets/{ticket_id}/comments describes cursor pagination and `sort`/`sort_order` in its text ' +
      'but declares neither as parameters.',
    apply(document) {
      addQueryParameters(operationAt(document, '/api/v2/tickets/{ticket_id}/comments', 'get'), [
        ...CURSOR_PAGE_PARAMETERS,
        queryParameter('sort_order', { type: 'string', enum: ['asc', 'desc'] }),
        queryParameter('sort', { type: 'string', enum: ['created_at', '-created_at'] }),
      ]);
    },
  },
  {
    note:
      'The Webhooks API is not part of the Support spec. A small schema written from PLATFORM.md and the ' +
      'Webhooks API reference (name, status, endpoint, http_method, request_format, subscriptions required) ' +
      'stands in for it, with GET /api/v2/webhooks/{webhook_id}/signing_secret.',
    apply(document) {
      const webhook = {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'status', 'endpoint', 'http_method', 'request_format', 'subscriptions'],
        properties: {
          name: { type: 'string', minLength: 1 },
          description: { type: 'string' },
          status: { type: 'string', enum: ['active', 'inactive'] },
          endpoint: { type: 'string', format: 'uri' },
          http_method: { type: 'string', enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] },
          request_format: { type: 'string', enum: ['json', 'xml', 'form_encoded'] },
          subscriptions: { type: 'array', items: { type: 'string' } },
          authentication: {
            type: 'object',
            required: ['type', 'add_position'],
            properties: {
              type: { type: 'string', enum: ['basic_auth', 'bearer_token', 'api_key'] },
              add_position: { type: 'string', enum: ['header'] },
              data: { type: 'object', additionalProperties: true },
            },
          },
          custom_headers: { type: 'object', additionalProperties: { type: 'string' } },
        },
      };
      const idParameter = { name: 'webhook_id', in: 'path', required: true, schema: { type: 'string' } };
      const ok = { '200': { description: 'OK' } };
      const paths = document.paths as JsonObject;
      paths['/api/v2/webhooks'] = {
        get: {
          operationId: 'ListWebhooks',
          parameters: [
            ...CURSOR_PAGE_PARAMETERS,
            queryParameter('filter[name_contains]', { type: 'string' }),
            queryParameter('filter[status]', { type: 'string', enum: ['active', 'inactive'] }),
          ],
          responses: ok,
        },
        post: {
          operationId: 'CreateOrCloneWebhook',
          requestBody: jsonBody({
            type: 'object',
            additionalProperties: false,
            required: ['webhook'],
            properties: { webhook },
          }),
          responses: { '201': { description: 'Created' } },
        },
      };
      paths['/api/v2/webhooks/{webhook_id}'] = {
        parameters: [idParameter],
        get: { operationId: 'ShowWebhook', responses: ok },
      };
      paths['/api/v2/webhooks/{webhook_id}/signing_secret'] = {
        parameters: [idParameter],
        get: { operationId: 'ShowWebhookSigningSecret', responses: ok },
      };
    },
  },
];

export const ZENDESK_HELP_CENTER_OVERLAYS: SpecOverlay[] = [
  {
    note:
      'List Articles / List Sections describe cursor pagination (`page[size]` up to 100, `page[after]`) but ' +
      'declare no such parameters.',
    apply(document) {
      addQueryParameters(operationAt(document, '/api/v2/help_center/{locale}/articles', 'get'), CURSOR_PAGE_PARAMETERS);
      addQueryParameters(operationAt(document, '/api/v2/help_center/{locale}/sections', 'get'), CURSOR_PAGE_PARAMETERS);
    },
  },
  {
    note:
      'Help Center paths carry `{locale}` as a required path segment although the spec text says agents and ' +
      'admins may omit it; the locale-less list paths are added as copies.',
    apply(document) {
      const paths = document.paths as JsonObject;
      for (const [withLocale, without] of [
        ['/api/v2/help_center/{locale}/articles', '/api/v2/help_center/articles'],
        ['/api/v2/help_center/{locale}/sections', '/api/v2/help_center/sections'],
      ] as const) {
        const item = structuredClone(pathItem(document, withLocale));
        delete item.parameters;
        const get = item.get as JsonObject;
        get.operationId = `${String(get.operationId)}WithoutLocale`;
        paths[without] = item;
      }
    },
  },
  {
    note:
      'The incremental article export GET /api/v2/help_center/incremental/articles?start_time= (epoch seconds, ' +
      'agents/admins only, up to 1000 per page, `next_page` + `end_time`) is only mentioned as a `start_time` ' +
      'parameter of List Articles; it is added as its own path.',
    apply(document) {
      const paths = document.paths as JsonObject;
      paths['/api/v2/help_center/incremental/articles'] = {
        get: {
          operationId: 'IncrementalArticleExport',
          parameters: [
            { name: 'start_time', in: 'query', required: true, schema: { type: 'integer', minimum: 0 } },
            queryParameter('per_page', { type: 'integer', minimum: 1, maximum: 1000 }),
          ],
          responses: { '200': { description: 'OK' } },
        },
      };
    },
  },
];

/** Applies overlays to a copy of the document. */
export function withOverlays(document: JsonObject, overlays: SpecOverlay[]): JsonObject {
  const copy = structuredClone(document);
  for (const overlay of overlays) overlay.apply(copy);
  return copy;
}
