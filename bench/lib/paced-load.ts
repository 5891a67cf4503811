/**
 * An open-loop load generator: request i is sent at start + i / rate, whether or not earlier
 * answers came back, over a pool of keep-alive connections. Latency is counted from the moment a
 * request was due, so a stalled server cannot hide behind requests it kept from being sent
 * (no coordinated omission).
 *
 * Why not autocannon's `overallRate` for "latency at 500 requests/s": it gives each connection a
 * quota per second and sends that quota back to back at the top of each second, so 50 connections
 * deliver 500 requests as a burst of 50 concurrent ones and the server idles for the rest of the
 * second. That measures burst handling; this measures a steady 500 a second. The bench reports both.
 */
import http from 'node:http';
import { percentile } from './stats.ts';

export interface PacedRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface PacedResult {
  rate: number;
  sent: number;
  ok: number;
  non2xx: number;
  errors: number;
  achievedRps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

export async function pacedLoad(options: {
  url: string;
  rate: number;
  durationS: number;
  connections: number;
  next: () => PacedRequest;
  timeoutMs?: number;
}): Promise<PacedResult> {
  const target = new URL(options.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.connections });
  const total = Math.round(options.rate * options.durationS);
  const latencies: number[] = [];
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  const send = (request: PacedRequest, due: number) =>
    new Promise<void>((resolve) => {
      const outgoing = http.request(
        {
          host: target.hostname,
          port: target.port,
          path: request.path,
          method: 'POST',
          agent,
          timeout: options.timeoutMs ?? 10_000,
          headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
        },
        (response) => {
          response.resume();
          response.on('end', () => {
            latencies.push(performance.now() - due);
            if (response.statusCode !== undefined && response.statusCode >= 200 && response.statusCode < 300) ok += 1;
            else non2xx += 1;
            resolve();
          });
        },
      );
      outgoing.on('timeout', () => outgoing.destroy(new Error('timeout')));
      outgoing.on('error', () => {
        errors += 1;
        resolve();
      });
      outgoing.end(request.body);
    });
  const started = performance.now();
  const inFlight: Array<Promise<void>> = [];
  try {
    for (let index = 0; index < total; index += 1) {
      const due = started + (index * 1_000) / options.rate;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      inFlight.push(send(options.next(), due));
    }
    await Promise.all(inFlight);
  } finally {
    agent.destroy();
  }
  const seconds = (performance.now() - started) / 1_000;
  return {
    rate: options.rate,
    sent: total,
    ok,
    non2xx,
    errors,
    achievedRps: ok / seconds,
    p50Ms: percentile(latencies, 50),
    p90Ms: percentile(latencies, 90),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.length === 0 ? Number.NaN : Math.max(...latencies),
  };
}
