import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { Counter, Histogram } from 'prom-client';
import { PgPool } from '../database/pg-pool';
import { LAG_BUCKETS, Metrics, uuidV7Time } from '../metrics/metrics';
import { withTimeout } from './queue-registry';
import type { Consumer } from './outbox-types';

/** Longest a scrape waits for PostgreSQL to count the backlog. */
const BACKLOG_TIMEOUT_MS = 2000;

export interface BacklogRow {
  stage: string;
  pending: string;
  oldest: number;
}

/**
 * The outbox's metrics, kept by the worker (the relay and the consumers run there):
 * - at scrape time, the backlog per stage (`relay`: events not yet published; each consumer: work
 *   neither done nor dead) and the age of its oldest event (rm_outbox_backlog, the worker's role);
 * - counters of events relayed and of work re-dispatched (the reconciler's lost jobs, and what a
 *   Redis that came back empty forgot);
 * - per consumer, events done and failed, and the lag from an event's commit to its completion
 *   (read from the event's UUIDv7 id, which carries the time it was written).
 */
@Injectable()
export class OutboxMetrics implements OnModuleInit {
  private readonly relayedTotal: Counter;
  private readonly redispatchedTotal: Counter<'reason'>;
  private readonly consumerEvents: Counter<'consumer' | 'outcome'>;
  private readonly consumerLag: Histogram<'consumer'>;

  constructor(
    private readonly metrics: Metrics,
    private readonly pg: PgPool,
  ) {
    this.relayedTotal = metrics.counter({
      name: 'outbox_events_relayed_total',
      help: 'Outbox events the relay published (handed to their consumers).',
    });
    this.redispatchedTotal = metrics.counter({
      name: 'outbox_redispatched_total',
      help: 'Consumer work dispatched again: reason="reconciler" (a job lost or failed, found due in PostgreSQL), reason="redis-restart" (unfinished work made due at once after Redis came back empty).',
      labelNames: ['reason'],
    });
    this.consumerEvents = metrics.counter({
      name: 'outbox_consumer_events_total',
      help: 'Events a consumer (notifications, webhooks, events) finished (outcome="done") or failed on (outcome="failed"; it is retried).',
      labelNames: ['consumer', 'outcome'],
    });
    this.consumerLag = metrics.histogram({
      name: 'outbox_consumer_lag_seconds',
      help: 'Time from an event’s commit to the end of a consumer’s work on it.',
      labelNames: ['consumer'],
      buckets: LAG_BUCKETS,
    });
  }

  onModuleInit(): void {
    const backlog = () => this.backlog();
    this.metrics.gauge({
      name: 'outbox_pending_events',
      help: 'Outbox work pending now, by stage: relay (events not yet published), notifications, webhooks, events (consumer work neither done nor dead).',
      labelNames: ['stage'],
      async collect() {
        this.reset();
        for (const row of (await backlog()) ?? [])
          this.set({ stage: row.stage }, Number(row.pending));
      },
    });
    this.metrics.gauge({
      name: 'outbox_oldest_pending_age_seconds',
      help: 'Age of the oldest pending event, by stage (0 when nothing is pending).',
      labelNames: ['stage'],
      async collect() {
        this.reset();
        for (const row of (await backlog()) ?? []) this.set({ stage: row.stage }, row.oldest);
      },
    });
  }

  relayed(events: number): void {
    if (events > 0) this.relayedTotal.inc(events);
  }

  redispatched(reason: 'reconciler' | 'redis-restart', count: number): void {
    if (count > 0) this.redispatchedTotal.inc({ reason }, count);
  }

  /** A consumer finished these events now. */
  done(consumer: Consumer, eventIds: readonly string[]): void {
    if (!eventIds.length) return;
    this.consumerEvents.inc({ consumer, outcome: 'done' }, eventIds.length);
    const now = Date.now();
    for (const id of eventIds) {
      this.consumerLag.observe({ consumer }, Math.max(0, now - uuidV7Time(id)) / 1000);
    }
  }

  failed(consumer: Consumer, count = 1): void {
    this.consumerEvents.inc({ consumer, outcome: 'failed' }, count);
  }

  private sampling: Promise<BacklogRow[] | null> | null = null;

  /**
   * The backlog per stage (null when PostgreSQL does not answer within 2 s); one count at a time,
   * shared by whoever asks meanwhile (both gauges of a scrape, the worker's readiness answer).
   */
  backlog(): Promise<BacklogRow[] | null> {
    this.sampling ??= withTimeout(
      this.pg.query<BacklogRow>({
        sql: `select stage, pending, oldest_age_seconds as oldest from rm_outbox_backlog()`,
        params: [],
      }),
      BACKLOG_TIMEOUT_MS,
    )
      .catch(() => null)
      .finally(() => {
        this.sampling = null;
      });
    return this.sampling;
  }
}
