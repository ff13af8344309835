import { createServer, type Server } from 'node:http';
import type { INestApplicationContext } from '@nestjs/common';
import { PgPool } from '../platform/database/pg-pool';
import { PROBLEM_BASE } from '../platform/http/problem';
import { RedisProbe } from './redis-probe.service';

/**
 * The standalone worker's health endpoints (it serves no API): `GET /health/live` answers while
 * the process runs; `GET /health/ready` when both PostgreSQL and Redis answer (SPEC: "a worker is
 * ready when both answer"), else 503 problem details naming what is down.
 */
export function startWorkerHealthServer(
  app: INestApplicationContext,
  host: string,
  port: number,
): Promise<Server> {
  const pg = app.get(PgPool);
  const redis = app.get(RedisProbe);
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
    if (request.method === 'GET' && path === '/health/ready') {
      void Promise.all([
        pg.pool.query('select 1').then(
          () => true,
          () => false,
        ),
        redis.ping(),
      ]).then(([database, redisUp]) => {
        const info = {
          database: { status: database ? 'up' : 'down' },
          redis: { status: redisUp ? 'up' : 'down' },
        };
        if (database && redisUp) {
          send(200, { status: 'ok', info });
          return;
        }
        const down = Object.entries(info)
          .filter(([, v]) => v.status === 'down')
          .map(([k]) => (k === 'database' ? 'PostgreSQL' : 'Redis'));
        send(
          503,
          {
            type: `${PROBLEM_BASE}service-unavailable`,
            title: 'Service unavailable',
            status: 503,
            detail: `The worker is not ready: ${down.join(' and ')} ${down.length > 1 ? 'do' : 'does'} not answer.`,
            instance: path,
            info,
          },
          'application/problem+json',
        );
      });
      return;
    }
    send(
      404,
      {
        type: `${PROBLEM_BASE}not-found`,
        title: 'Not found',
        status: 404,
        detail: 'The worker serves only /health/live and /health/ready.',
        instance: path,
      },
      'application/problem+json',
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
