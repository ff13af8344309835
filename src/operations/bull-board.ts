import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Queue } from 'bullmq';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Cluster } from 'ioredis';
import type { AppConfig } from '../config/app-config';
import { problemBody, problemFor } from '../platform/http/problem';
import { markRateLimited } from '../platform/metrics/http-metrics';
import { clusterStateOk, isCluster } from '../platform/queues/redis-connection';
import { OperatorAuth } from './operator-auth';

export const BULL_BOARD_PATH = '/admin/queues';

/**
 * The operators' queue dashboard, behind HTTP Basic auth with OPERATOR_USER / OPERATOR_PASSWORD
 * (independent of member tokens; see OperatorAuth for the comparison and the throttling).
 */
export async function mountBullBoard(
  app: NestFastifyApplication,
  queues: Queue[],
  config: AppConfig,
  auth: OperatorAuth = new OperatorAuth(config.operator),
): Promise<void> {
  const serverAdapter = new FastifyAdapter();
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q, { allowRetries: true })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Resident Messaging queues' } },
  });
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  const fastify = app.getHttpAdapter().getInstance();
  await fastify.register(async (instance) => {
    instance.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
      const path = request.url.split('?')[0];
      const check = auth.check(request.headers.authorization, request.ip);
      if (!check.ok && check.status === 429) {
        markRateLimited(request, 'operator-sign-in');
        const detail = `Too many failed sign-ins from your address; retry after ${check.retryAfterSeconds} s.`;
        return reply
          .status(429)
          .header('retry-after', String(check.retryAfterSeconds))
          .type('application/problem+json')
          .send(problemBody(problemFor(429, detail), path));
      }
      if (!check.ok) {
        return reply
          .status(401)
          .header('www-authenticate', 'Basic realm="operators", charset="UTF-8"')
          .type('application/problem+json')
          .send(problemBody(problemFor(401, 'Operator credentials are required.'), path));
      }
      // The dashboard's API reads Redis; while Redis is down it would hang until the request
      // times out. Answer at once instead (the pages and assets themselves still load).
      if (
        request.url.startsWith(`${BULL_BOARD_PATH}/api/`) &&
        !(await redisReady(queues[0], isCluster(config.redis)))
      ) {
        const detail =
          'Redis is not reachable, so the queues cannot be read. Messages are still accepted; their jobs run once Redis is back.';
        return reply
          .status(503)
          .header('retry-after', '5')
          .type('application/problem+json')
          .send(problemBody(problemFor(503, detail), path));
      }
    });
    await instance.register(serverAdapter.registerPlugin(), { prefix: BULL_BOARD_PATH });
  });
}

/**
 * Whether the queues' Redis connection is up, without waiting for it to come back. A Redis
 * Cluster's connection stays up while one of its masters is away (its queues cannot be read):
 * there, the cluster must also report `cluster_state:ok`.
 */
async function redisReady(queue: Queue | undefined, cluster: boolean): Promise<boolean> {
  if (!queue) return true;
  const client = await Promise.race([
    queue.client,
    new Promise<null>((resolve) => setTimeout(resolve, 250, null).unref()),
  ]).catch(() => null);
  if (client?.status !== 'ready') return false;
  return !cluster || clusterStateOk(client as unknown as Cluster, 250);
}
