import { Injectable } from '@nestjs/common';
import type { Counter, Histogram } from 'prom-client';
import { Metrics } from '../platform/metrics/metrics';
import type { PostResult } from './http-delivery';

/** How a delivery attempt ended, for `webhook_deliveries_total{outcome}`. */
export type DeliveryOutcome = 'succeeded' | 'failed' | 'exhausted' | 'endpoint-disabled';

/**
 * Webhook delivery metrics (worker): attempts by outcome (`failed`: another attempt is scheduled;
 * `exhausted`: none is left, or the receiver answered 410; `endpoint-disabled`: the endpoint was
 * disabled before the attempt, so it was not made) and the duration of each HTTP attempt by
 * result (the receiver's status class, or `error` when no response arrived in time).
 */
@Injectable()
export class WebhookMetrics {
  private readonly deliveries: Counter<'outcome'>;
  private readonly attempts: Histogram<'result'>;

  constructor(metrics: Metrics) {
    this.deliveries = metrics.counter({
      name: 'webhook_deliveries_total',
      help: 'Webhook delivery attempts by outcome: succeeded, failed (retried later), exhausted (no attempt left, or 410 Gone), endpoint-disabled (not attempted).',
      labelNames: ['outcome'],
    });
    this.attempts = metrics.histogram({
      name: 'webhook_attempt_duration_seconds',
      help: 'Duration of webhook HTTP attempts, by result: the status class of the answer (2xx, 4xx, 5xx…) or error (no answer: refused, unreachable, timed out).',
      labelNames: ['result'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    });
  }

  attempted(result: PostResult): void {
    const status = result.statusCode;
    this.attempts.observe(
      { result: status === null ? 'error' : `${Math.floor(status / 100)}xx` },
      result.durationMs / 1000,
    );
  }

  outcome(outcome: DeliveryOutcome): void {
    this.deliveries.inc({ outcome });
  }
}
