/**
 * A loopback fake of the Anthropic Messages API, enough for the real @anthropic-ai/sdk:
 * POST /v1/messages (forced tool calls answered by a scriptable responder, usage with cache
 * fields), POST /v1/messages/count_tokens, and scripted failures (429 with retry-after, 529
 * overloaded, 500, slow answers). Requests are validated like the real API does (400
 * invalid_request_error) and recorded with their headers for assertions.
 *
 * There is no published OpenAPI file for the Messages API in ../shared/specs, so the request
 * shape is checked with zod below, following the API reference (required model, max_tokens,
 * messages; tool_choice naming a declared tool; cache_control only "ephemeral", at most 4 blocks).
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';

const cacheControlSchema = z.object({ type: z.literal('ephemeral'), ttl: z.enum(['5m', '1h']).optional() }).strict();

const textBlockSchema = z
  .object({
    type: z.literal('text'),
    text: z.string().min(1),
    cache_control: cacheControlSchema.nullish(),
    citations: z.unknown().optional(),
  })
  .strict();

const contentBlockSchema = z.union([
  textBlockSchema,
  z
    .object({
      type: z.literal('tool_use'),
      id: z.string(),
      name: z.string(),
      input: z.record(z.string(), z.unknown()),
      cache_control: cacheControlSchema.nullish(),
    })
    .strict(),
  z
    .object({
      type: z.literal('tool_result'),
      tool_use_id: z.string(),
      content: z.unknown().optional(),
      is_error: z.boolean().optional(),
      cache_control: cacheControlSchema.nullish(),
    })
    .strict(),
  z.object({ type: z.literal('image'), source: z.unknown(), cache_control: cacheControlSchema.nullish() }).strict(),
]);

const messageParamSchema = z
  .object({
    role: z.enum(['user', 'assistant']),
    content: z.union([z.string().min(1), z.array(contentBlockSchema).min(1)]),
  })
  .strict();

const toolSchema = z
  .object({
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,128}$/),
    description: z.string().optional(),
    input_schema: z.object({ type: z.literal('object') }).passthrough(),
    cache_control: cacheControlSchema.nullish(),
    type: z.literal('custom').nullish(),
    strict: z.boolean().optional(),
  })
  .strict();

const toolChoiceSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('auto'), disable_parallel_tool_use: z.boolean().optional() }).strict(),
  z.object({ type: z.literal('any'), disable_parallel_tool_use: z.boolean().optional() }).strict(),
  z.object({ type: z.literal('tool'), name: z.string(), disable_parallel_tool_use: z.boolean().optional() }).strict(),
  z.object({ type: z.literal('none') }).strict(),
]);

const messagesRequestSchema = z
  .object({
    model: z.string().min(1),
    max_tokens: z.number().int().positive(),
    messages: z.array(messageParamSchema).min(1),
    system: z.union([z.string(), z.array(textBlockSchema)]).optional(),
    tools: z.array(toolSchema).optional(),
    tool_choice: toolChoiceSchema.optional(),
    temperature: z.number().min(0).max(1).optional(),
    top_p: z.number().optional(),
    top_k: z.number().int().optional(),
    stop_sequences: z.array(z.string()).optional(),
    metadata: z.object({ user_id: z.string().nullish() }).strict().optional(),
    stream: z.boolean().optional(),
  })
  .strict();

const countTokensRequestSchema = z
  .object({
    model: z.string().min(1),
    messages: z.array(messageParamSchema).min(1),
    system: z.union([z.string(), z.array(textBlockSchema)]).optional(),
    tools: z.array(toolSchema).optional(),
    tool_choice: toolChoiceSchema.optional(),
  })
  .strict();

export type MessagesRequest = z.infer<typeof messagesRequestSchema>;

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  /** The HTTP status the fake answered with. */
  status: number;
}

/** Produces the forced tool's input for a valid /v1/messages request. */
export type Responder = (request: MessagesRequest, toolName: string) => unknown;

export type ScriptedFailure =
  | { kind: 'rate_limited'; retryAfterSeconds?: number }
  | { kind: 'overloaded' }
  | { kind: 'server_error' }
  | { kind: 'unauthorized' }
  | { kind: 'slow'; delayMs: number };

export interface AnthropicFake {
  /** Base URL for `new Anthropic({ baseURL })`: http://127.0.0.1:PORT */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Only the /v1/messages requests. */
  messageRequests(): RecordedRequest[];
  setResponder(responder: Responder): void;
  /** The next `times` requests (any endpoint) fail as scripted, in order. */
  failNext(failure: ScriptedFailure, times?: number): void;
  /** Clears recorded requests, scripted failures and the prompt cache. */
  reset(): void;
  close(): Promise<void>;
}

/** A rough token count, like the real one within a factor of two, deterministic for assertions. */
export function fakeTokenCount(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/**
 * The credential a request carries. SDK 1.x sends an API key as `authorization: Bearer <key>`;
 * older SDKs and curl examples use `x-api-key`. The real API accepts both.
 */
export function credentialOf(headers: RecordedRequest['headers']): string | undefined {
  const apiKey = headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey.trim() !== '') return apiKey;
  const authorization = headers.authorization;
  const bearer = typeof authorization === 'string' ? /^Bearer\s+(\S+)$/i.exec(authorization)?.[1] : undefined;
  return bearer;
}

function apiError(
  res: ServerResponse,
  status: number,
  type: string,
  message: string,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_${randomUUID()}`, ...headers });
  res.end(JSON.stringify({ type: 'error', error: { type, message }, request_id: `req_${randomUUID()}` }));
}

function blockText(content: MessagesRequest['messages'][number]['content']): string[] {
  if (typeof content === 'string') return [content];
  return content.map((block) => JSON.stringify(block));
}

/** Serialised prompt segments in API prefix order (tools, system, messages), each with its cache flag. */
function promptSegments(request: MessagesRequest): Array<{ text: string; breakpoint: boolean }> {
  const segments: Array<{ text: string; breakpoint: boolean }> = [];
  for (const tool of request.tools ?? [])
    segments.push({ text: JSON.stringify(tool), breakpoint: Boolean(tool.cache_control) });
  if (typeof request.system === 'string') segments.push({ text: request.system, breakpoint: false });
  else
    for (const block of request.system ?? [])
      segments.push({ text: block.text, breakpoint: Boolean(block.cache_control) });
  for (const message of request.messages) {
    if (typeof message.content === 'string') segments.push({ text: message.content, breakpoint: false });
    else
      for (const block of message.content)
        segments.push({ text: JSON.stringify(block), breakpoint: Boolean(block.cache_control) });
  }
  return segments;
}

function countCacheControls(request: MessagesRequest): number {
  return promptSegments(request).filter((segment) => segment.breakpoint).length;
}

function validateSemantics(request: MessagesRequest): string | undefined {
  const toolNames = new Set((request.tools ?? []).map((tool) => tool.name));
  if (request.tool_choice?.type === 'tool' && !toolNames.has(request.tool_choice.name)) {
    return `tool_choice.name: Tool '${request.tool_choice.name}' not found in provided tools`;
  }
  if ((request.tool_choice?.type === 'any' || request.tool_choice?.type === 'tool') && toolNames.size === 0) {
    return 'tool_choice: tool_choice requires tools';
  }
  if (toolNames.size !== (request.tools ?? []).length) return 'tools: Tool names must be unique';
  if (countCacheControls(request) > 4) return 'A maximum of 4 blocks with cache_control may be provided';
  const first = request.messages[0];
  if (first && first.role !== 'user') return 'messages: first message must use the "user" role';
  return undefined;
}

function formatIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startAnthropicFake(initialResponder?: Responder): Promise<AnthropicFake> {
  let responder: Responder | undefined = initialResponder;
  const failures: ScriptedFailure[] = [];
  const requests: RecordedRequest[] = [];
  /** Hashes of prompt prefixes written to the simulated cache. */
  const cachedPrefixes = new Set<string>();
  const openResponses = new Set<ServerResponse>();

  function simulateUsage(request: MessagesRequest) {
    const segments = promptSegments(request);
    const lastBreakpoint = segments.map((segment) => segment.breakpoint).lastIndexOf(true);
    const total = segments.reduce((sum, segment) => sum + fakeTokenCount(segment.text), 0);
    if (lastBreakpoint < 0) return { input_tokens: total, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
    const prefix = segments.slice(0, lastBreakpoint + 1);
    const prefixTokens = prefix.reduce((sum, segment) => sum + fakeTokenCount(segment.text), 0);
    const hash = createHash('sha256')
      .update(`${request.model}\n${prefix.map((segment) => segment.text).join('\n')}`)
      .digest('hex');
    const hit = cachedPrefixes.has(hash);
    cachedPrefixes.add(hash);
    return {
      input_tokens: total - prefixTokens,
      cache_creation_input_tokens: hit ? 0 : prefixTokens,
      cache_read_input_tokens: hit ? prefixTokens : 0,
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path,
      headers: { ...req.headers },
      body: undefined,
      status: 0,
    };
    requests.push(record);
    const answer = (status: number, body: unknown) => {
      record.status = status;
      res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_${randomUUID()}` });
      res.end(JSON.stringify(body));
    };
    const fail = (status: number, type: string, message: string, headers?: Record<string, string>) => {
      record.status = status;
      apiError(res, status, type, message, headers);
    };

    try {
      record.body = raw === '' ? undefined : JSON.parse(raw);
    } catch {
      return fail(400, 'invalid_request_error', 'request body is not valid JSON');
    }
    if (req.method !== 'POST' || (path !== '/v1/messages' && path !== '/v1/messages/count_tokens')) {
      return fail(404, 'not_found_error', `Not found: ${req.method} ${path}`);
    }
    if (!credentialOf(record.headers))
      return fail(401, 'authentication_error', 'x-api-key or authorization header is required');
    if (!req.headers['anthropic-version'])
      return fail(400, 'invalid_request_error', 'anthropic-version header is required');

    const failure = failures.shift();
    if (failure?.kind === 'rate_limited') {
      const retryAfter = String(failure.retryAfterSeconds ?? 1);
      return fail(429, 'rate_limit_error', 'Number of requests has exceeded your rate limit', {
        'retry-after': retryAfter,
      });
    }
    if (failure?.kind === 'overloaded') return fail(529, 'overloaded_error', 'Overloaded');
    if (failure?.kind === 'server_error') return fail(500, 'api_error', 'Internal server error');
    if (failure?.kind === 'unauthorized') return fail(401, 'authentication_error', 'invalid x-api-key');
    if (failure?.kind === 'slow') {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, failure.delayMs);
        res.on('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (res.destroyed || res.writableEnded) return;
    }

    if (path === '/v1/messages/count_tokens') {
      const parsed = countTokensRequestSchema.safeParse(record.body);
      if (!parsed.success) return fail(400, 'invalid_request_error', formatIssues(parsed.error));
      const text = [
        ...(typeof parsed.data.system === 'string'
          ? [parsed.data.system]
          : (parsed.data.system ?? []).map((block) => block.text)),
        ...parsed.data.messages.flatMap((message) => blockText(message.content)),
      ].join('\n');
      return answer(200, { input_tokens: fakeTokenCount(text) + 4 });
    }

    const parsed = messagesRequestSchema.safeParse(record.body);
    if (!parsed.success) return fail(400, 'invalid_request_error', formatIssues(parsed.error));
    const semanticError = validateSemantics(parsed.data);
    if (semanticError) return fail(400, 'invalid_request_error', semanticError);
    const request = parsed.data;
    const toolName =
      request.tool_choice?.type === 'tool'
        ? request.tool_choice.name
        : request.tool_choice?.type === 'any'
          ? request.tools?.[0]?.name
          : undefined;
    if (!toolName) return fail(500, 'api_error', 'anthropic fake: only forced tool calls are scripted');
    if (!responder) return fail(500, 'api_error', 'anthropic fake: no responder scripted');
    const input = responder(request, toolName);
    const usage = simulateUsage(request);
    return answer(200, {
      id: `msg_${randomUUID().replace(/-/g, '')}`,
      type: 'message',
      role: 'assistant',
      model: request.model,
      content: [{ type: 'tool_use', id: `toolu_${randomUUID().replace(/-/g, '')}`, name: toolName, input }],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { ...usage, output_tokens: fakeTokenCount(JSON.stringify(input)) },
    });
  }

  const server: Server = createServer((req, res) => {
    openResponses.add(res);
    res.on('close', () => openResponses.delete(res));
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) apiError(res, 500, 'api_error', `anthropic fake crashed: ${String(error)}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    messageRequests: () => requests.filter((request) => request.path === '/v1/messages'),
    setResponder(next) {
      responder = next;
    },
    failNext(failure, times = 1) {
      for (let index = 0; index < times; index += 1) failures.push(failure);
    },
    reset() {
      requests.length = 0;
      failures.length = 0;
      cachedPrefixes.clear();
    },
    async close() {
      for (const res of openResponses) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
