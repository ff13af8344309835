import { createServer, type Server } from 'node:http';
import type { INestApplicationContext } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/app-config';
import { PgPool } from '../platform/database/pg-pool';
import { problemBody, problemFor } from '../platform/http/problem';
import { Metrics } from '../platform/metrics/metrics';
import { OutboxMetrics } from '../platform/queues/outbox-metrics';
import { RedisProbe } from '../platform/queues/redis-probe.service';
import { METRICS_PATH, MetricsEndpoint } from './metrics-endpoint';

const PROBLEM_JSON = 'application/problem+json';

/**
 * The standalone worker's health endpoints (it serves no API): `GET /health/live` answers while
 * the process runs; `GET /health/ready` when both PostgreSQL and Redis answer (SPEC: "a worker is
 * ready when both answer"), else 503 problem details naming what is down; either way with the
 * backlog of each stage of the outbox (pending, age of the oldest in seconds). `GET /metrics`: the
 * worker's Prometheus metrics, with the API's protection (operator credentials or METRICS_TOKEN).
 */
export function startWorkerHealthServer(
  app: INestApplicationContext,
  host: string,
  port: number,
): Promise<Server> {
  const pg = app.get(PgPool);
  const outbox = app.get(OutboxMetrics);
  const redis = app.get(RedisProbe);
  const registry = app.get(Metrics);
  const metrics = registry.enabled
    ? new MetricsEndpoint(registry, app.get<AppConfig>(APP_CONFIG))
    : undefined;
  const server = createServer((request, response) => {
    const send = (status: number, body: unknown, type = 'application/json') => {
      response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      response.end(JSON.stringify(body));
    };
    const path = (request.url ?? '/').split('?')[0];
    if (request.method === 'GET' && path === '/health/live') {
      send(200, { status: 'ok' });
      return;
    }
    if (metrics && request.method === 'GET' && path === METRICS_PATH) {
      const address = request.socket.remoteAddress ?? 'unknown';
      void metrics.answer(request.headers.authorization, address).then(
        (answer) => {
          response.writeHead(answer.status, answer.headers);
          response.end(answer.body);
        },
        () => send(500, problemBody(problemFor(500), path), PROBLEM_JSON),
      );
      return;
    }
    if (request.method === 'GET' && path === '/health/ready') {
      void Promise.all([
        pg.pool.query('select 1').then(
          () => true,
          () => false,
        ),
        redis.ping(),
        outbox.backlog(),
      ]).then(([database, redisUp, backlog]) => {
        const info = {
          database: { status: database ? 'up' : 'down' },
          redis: { status: redisUp ? 'up' : 'down' },
          // How far behind the asynchronous work is (docs/operations.md); never a reason to be
          // unready: more workers, not fewer, are the cure.
          backlog: backlog
            ? Object.fromEntries(
                backlog.map((row) => [
                  row.stage,
                  {
                    pending: Number(row.pending),
                    oldestAgeSeconds: Math.round(row.oldest * 10) / 10,
                  },
                ]),
              )
            : null,
        };
        if (database && redisUp) {
          send(200, { status: 'ok', info });
          return;
        }
        const down = [database ? null : 'PostgreSQL', redisUp ? null : 'Redis'].filter(Boolean);
        const detail = `The worker is not ready: ${down.join(' and ')} ${down.length > 1 ? 'do' : 'does'} not answer.`;
        send(503, { ...problemBody(problemFor(503, detail), path), info }, PROBLEM_JSON);
      });
      return;
    }
    send(
      404,
      problemBody(
        problemFor(404, 'The worker serves only /health/live, /health/ready and /metrics.'),
        path,
      ),
      PROBLEM_JSON,
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
