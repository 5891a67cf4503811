/**
 * A loopback stand-in for the Anthropic Messages API with realistic latencies per model: the real
 * Anthropic adapter (and SDK) in the service talk to it. It answers forced tool calls: the
 * classification from the product's default local model, a draft quoting the first KB block it was
 * given (so the grounding guard has real text to check), and a summary. Usage is an estimate; cost
 * is measured separately (bench/parts/cost.ts). Requests are not validated here: that is the test
 * fake's job (test/fakes/anthropic-fake.ts).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { estimateTokens } from '../../server/triage/tokens.ts';

export interface LatencyFakeOptions {
  smallModel: string;
  largeModel: string;
  smallMs: number;
  largeMs: number;
  classify: (text: string) => { intent: string; confidence: number };
}

interface MessagesBody {
  model: string;
  system?: Array<{ text: string }>;
  messages: Array<{ content: string | Array<{ type: string; text?: string }> }>;
  tool_choice?: { name?: string };
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

function userTexts(body: MessagesBody): string[] {
  return body.messages.flatMap((message) =>
    typeof message.content === 'string' ? [message.content] : message.content.map((block) => block.text ?? ''),
  );
}

function between(text: string, open: RegExp, close: string): string {
  const match = open.exec(text);
  if (!match) return '';
  const start = match.index + match[0].length;
  const end = text.indexOf(close, start);
  return text.slice(start, end < 0 ? undefined : end).trim();
}

function draftFrom(body: MessagesBody): {
  reply: string;
  citations: string[];
  escalate: { needed: boolean; reason: string };
} {
  const kb = (body.system ?? []).map((block) => block.text).find((text) => text.startsWith('<kb_article'));
  if (kb === undefined)
    return {
      reply: 'I could not find this in our help center.',
      citations: [],
      escalate: { needed: true, reason: 'no article' },
    };
  const id = /id="([^"]+)"/.exec(kb)?.[1] ?? '';
  const text = between(kb, /<kb_article[^>]*>\n/, '</kb_article>');
  const sentences = text.split(/(?<=[.!?])\s+/).filter((sentence) => sentence.split(' ').length >= 5);
  const quoted = sentences.slice(0, 2).join(' ') || text.slice(0, 200);
  return {
    reply: `Hello,\n\nThank you for reaching out. ${quoted}\n\nKind regards,\nThe support team`,
    citations: [id],
    escalate: { needed: false, reason: '' },
  };
}

export async function startLatencyFake(options: LatencyFakeOptions) {
  const open = new Set<ServerResponse>();
  let calls = 0;

  function toolInput(body: MessagesBody, toolName: string): unknown {
    const message = between(userTexts(body).join('\n'), /<customer_message[^>]*>\n/, '</customer_message>');
    if (toolName === 'record_classification') {
      const answer = options.classify(message);
      return { ...answer, urgency: 'low', language: 'en', sentiment: { score: 0, frustrated: false } };
    }
    if (toolName === 'submit_summary')
      return {
        summary: message
          .split(/(?<=[.!?])\s+/)
          .slice(0, 2)
          .join(' '),
      };
    return draftFrom(body);
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = (await readJson(request)) as MessagesBody;
    const send = (payload: unknown) => {
      response.writeHead(200, { 'content-type': 'application/json', 'request-id': `req_${randomUUID()}` });
      response.end(JSON.stringify(payload));
    };
    if (request.url?.startsWith('/v1/messages/count_tokens')) {
      send({ input_tokens: estimateTokens(JSON.stringify(body.messages)) });
      return;
    }
    calls += 1;
    const delay = body.model === options.largeModel ? options.largeMs : options.smallMs;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delay);
      response.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    if (response.destroyed) return;
    const toolName = body.tool_choice?.name ?? 'submit_draft';
    const input = toolInput(body, toolName);
    send({
      id: `msg_${randomUUID().replace(/-/g, '')}`,
      type: 'message',
      role: 'assistant',
      model: body.model,
      content: [{ type: 'tool_use', id: `toolu_${randomUUID().replace(/-/g, '')}`, name: toolName, input }],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: {
        input_tokens: estimateTokens(JSON.stringify(body)),
        output_tokens: estimateTokens(JSON.stringify(input)),
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    });
  }

  const server = createServer((request, response) => {
    open.add(response);
    response.once('close', () => open.delete(response));
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ type: 'error', error: { type: 'api_error', message: String(error) } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls: () => calls,
    async close() {
      for (const response of open) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
