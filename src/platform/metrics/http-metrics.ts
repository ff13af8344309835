import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Metrics } from './metrics';

/** Which limit answered a request with 429, set by whoever refused it (see markRateLimited). */
const rateLimits = new WeakMap<object, string>();

/**
 * Names the limit that refuses `request` with 429 (`reads`, `writes`, `operator-sign-in`…), for
 * `http_server_rate_limited_total{limit}`. A 429 nobody named counts as `limit="other"`.
 */
export function markRateLimited(request: object, limit: string): void {
  rateLimits.set(request, limit);
}

/**
 * Request metrics from Fastify hooks: the duration of each answered request by method, route
 * template (never the path itself: it holds ids) and status class; the requests in flight; the
 * requests refused by a rate limit.
 */
export function installHttpMetrics(fastify: FastifyInstance, metrics: Metrics): void {
  const registers = [metrics.registry];
  const duration = new Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'Duration of answered HTTP requests, by method, route template (unmatched: no route) and status class. An event stream counts when it ends.',
    labelNames: ['method', 'route', 'status_class'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const inFlight = new Gauge({
    name: 'http_server_requests_in_flight',
    help: 'HTTP requests being handled now (open event streams included).',
    registers,
  });
  const rateLimited = new Counter({
    name: 'http_server_rate_limited_total',
    help: 'Requests answered 429, by the limit that refused them (reads, writes, operator-sign-in, other).',
    labelNames: ['limit'],
    registers,
  });

  fastify.addHook('onRequest', (_request, reply, done) => {
    inFlight.inc();
    // 'close' comes for every response, also one the client abandoned (no onResponse then).
    reply.raw.once('close', () => inFlight.dec());
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    duration.observe(
      {
        method: request.method,
        route: request.routeOptions?.url ?? 'unmatched',
        status_class: `${Math.floor(status / 100)}xx`,
      },
      reply.elapsedTime / 1000,
    );
    if (status === 429) rateLimited.inc({ limit: rateLimits.get(request) ?? 'other' });
    done();
  });
}
