import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AppConfig } from '../config/app-config';
import { problemBody, problemFor } from '../platform/http/problem';
import { markRateLimited } from '../platform/metrics/http-metrics';
import type { Metrics } from '../platform/metrics/metrics';
import { bearerCheck, OperatorAuth } from './operator-auth';

export const METRICS_PATH = '/metrics';

export interface MetricsAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * `GET /metrics` (Prometheus text format), for the API and the standalone worker alike: open to
 * the operator's Basic credentials (as the queue dashboard) or, when METRICS_TOKEN is set, to
 * `Authorization: Bearer <METRICS_TOKEN>`; anything else answers 401 problem details, and an
 * address that failed too often 429 (OperatorAuth's throttling, shared with the dashboard).
 */
export class MetricsEndpoint {
  private readonly token: ((authorization: string | undefined) => boolean) | undefined;

  constructor(
    private readonly metrics: Metrics,
    config: AppConfig,
    private readonly auth: OperatorAuth = new OperatorAuth(config.operator),
  ) {
    this.token = config.metricsToken ? bearerCheck(config.metricsToken) : undefined;
  }

  async answer(authorization: string | undefined, clientAddress: string): Promise<MetricsAnswer> {
    const check = this.auth.check(authorization, clientAddress, this.token);
    if (check.ok) {
      return {
        status: 200,
        headers: { 'content-type': this.metrics.contentType, 'cache-control': 'no-store' },
        body: await this.metrics.render(),
      };
    }
    const problem = 'application/problem+json';
    if (check.status === 429) {
      const detail = `Too many failed sign-ins from your address; retry after ${check.retryAfterSeconds} s.`;
      return {
        status: 429,
        headers: { 'content-type': problem, 'retry-after': String(check.retryAfterSeconds) },
        body: JSON.stringify(problemBody(problemFor(429, detail), METRICS_PATH)),
      };
    }
    const challenge = 'Basic realm="operators", charset="UTF-8"';
    return {
      status: 401,
      headers: {
        'content-type': problem,
        'www-authenticate': this.token ? `${challenge}, Bearer realm="metrics"` : challenge,
      },
      body: JSON.stringify(
        problemBody(
          problemFor(
            401,
            this.token
              ? 'Operator credentials or the metrics token are required.'
              : 'Operator credentials are required.',
          ),
          METRICS_PATH,
        ),
      ),
    };
  }
}

/** Serves GET /metrics on the API (outside /api/v1 and the OpenAPI document, like /health). */
export function mountMetrics(app: NestFastifyApplication, endpoint: MetricsEndpoint): void {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.get(METRICS_PATH, async (request, reply) => {
    const answer = await endpoint.answer(request.headers.authorization, request.ip);
    if (answer.status === 429) markRateLimited(request, 'operator-sign-in');
    return reply.status(answer.status).headers(answer.headers).send(answer.body);
  });
}
