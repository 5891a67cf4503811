/** Prometheus metrics, one registry per app instance (tests build many apps in one process). */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { JobQueue } from './queue/port.ts';

export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route'>;
  ticketsTriaged: Counter<'tier' | 'intent' | 'source'>;
  webhookDeliveries: Counter<'source' | 'outcome'>;
  llmTokens: Counter<'model' | 'kind'>;
}

export function createMetrics(options: { queue?: JobQueue; defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const queue = options.queue;
  if (queue !== undefined) {
    new Gauge({
      name: 'support_agent_queue_jobs',
      help: 'Jobs in the queue by state',
      labelNames: ['state'],
      registers: [registry],
      async collect() {
        const counts = await queue.counts().catch(() => undefined);
        if (counts === undefined) return;
        for (const [state, value] of Object.entries(counts)) this.set({ state }, value);
      },
    });
  }
  return {
    registry,
    httpRequests: new Counter({
      name: 'support_agent_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'support_agent_http_request_duration_seconds',
      help: 'HTTP request duration',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    ticketsTriaged: new Counter({
      name: 'support_agent_tickets_triaged_total',
      help: 'Tickets triaged by tier, intent and classifier source',
      labelNames: ['tier', 'intent', 'source'],
      registers: [registry],
    }),
    webhookDeliveries: new Counter({
      name: 'support_agent_webhook_deliveries_total',
      help: 'Webhook deliveries by source and outcome',
      labelNames: ['source', 'outcome'],
      registers: [registry],
    }),
    llmTokens: new Counter({
      name: 'support_agent_llm_tokens_total',
      help: 'LLM tokens by model and kind (input, output, cache_read, cache_write)',
      labelNames: ['model', 'kind'],
      registers: [registry],
    }),
  };
}
