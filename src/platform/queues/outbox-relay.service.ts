import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { PgPool, runPrepared } from '../database/pg-pool';
import { APP_CONFIG } from '../../config/config.module';
import type { AppConfig } from '../../config/app-config';
import {
  CONSUMER_BATCH,
  CONSUMER_JOBS,
  type ConsumerPayload,
  type JobName,
} from './queue-catalogue';
import { createHash } from 'node:crypto';
import { OutboxMetrics } from './outbox-metrics';
import { OutboxSignals } from './outbox-signals';
import { WAKE_GAP_MS, WorkLoop } from './work-loop';
import { QueueRegistry } from './queue-registry';
import type { Consumer } from './outbox-types';
import { childSpan, SpanKind } from '../tracing/tracing';

interface Claimed {
  eventId: string;
  orgId: string;
  consumer: Consumer | null;
  /** The trace context of the transaction that wrote the event; null when it was not traced. */
  traceparent: string | null;
}

/**
 * Publishes outbox events to BullMQ. In one transaction: claim a batch (skip locked, so several
 * workers cooperate), record the consumers each event needs, add one job per (event, consumer)
 * with a deterministic id (`evt-<event>-<consumer>`: BullMQ ignores an id it still holds), then
 * commit. If Redis refuses or times out, the transaction rolls back and the events stay
 * unpublished; a crash after the add and before the commit re-adds the same job ids, which the
 * consumers' done-marks make harmless.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxRelay.name);
  /** Events to their consumers, and due webhook deliveries to jobs: two loops, neither waits. */
  private readonly loops: WorkLoop[];
  private readonly relayLoop: WorkLoop;
  private readonly dispatchLoop: WorkLoop;
  private stopWakes?: () => void;
  private stopDeliveryWakes?: () => void;

  constructor(
    private readonly pg: PgPool,
    private readonly queues: QueueRegistry,
    private readonly signals: OutboxSignals,
    private readonly metrics: OutboxMetrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    const loop = (what: string, pass: () => Promise<number>) =>
      new WorkLoop({
        pass,
        batch: config.outbox.batchSize,
        pollMs: config.outbox.pollMs,
        minGapMs: WAKE_GAP_MS,
        logger: this.logger,
        what,
      });
    this.relayLoop = loop('outbox relay', () => this.relayOnce());
    this.dispatchLoop = loop('webhook dispatch', () => this.dispatchDeliveries());
    this.loops = [this.relayLoop, this.dispatchLoop];
  }

  onApplicationBootstrap(): void {
    this.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  start(): void {
    // A commit anywhere (API processes publish it) wakes the relay before its next poll. The
    // delivery dispatch wakes when deliveries became due here (a fan-out, a recorded attempt);
    // otherwise it polls: a commit creates no delivery, and an idle claim per commit cost
    // PostgreSQL about a third of a millisecond a send (issue 17).
    this.stopWakes ??= this.signals.onWake(() => this.relayLoop.wake());
    this.stopDeliveryWakes ??= this.signals.onDeliveries(() => this.dispatchLoop.wake());
    for (const loop of this.loops) loop.start();
  }

  async stop(): Promise<void> {
    this.stopWakes?.();
    this.stopWakes = undefined;
    this.stopDeliveryWakes?.();
    this.stopDeliveryWakes = undefined;
    await Promise.all(this.loops.map((loop) => loop.stop()));
  }

  /**
   * Publishes one batch; returns how many events it claimed. `beforeCommit` runs after the jobs
   * are in Redis and before the events are marked published: the fault tests use it to crash there.
   */
  async relayOnce(beforeCommit?: () => Promise<void>): Promise<number> {
    // One span per traced event (docs/operations.md, "Traces"), ended with the transaction.
    const spans = new Map<string, RelaySpan>();
    let claimed: Claimed[];
    try {
      claimed = await this.pg.transaction(async (client) => {
        const rows = await runPrepared<Claimed>(client, {
          sql: `select event_id as "eventId", org_id as "orgId", consumer, traceparent
                  from rm_relay_claim(?)`,
          params: [this.config.outbox.batchSize],
        });
        for (const row of rows) {
          const span = spans.has(row.eventId) ? null : relaySpan(row);
          if (span) spans.set(row.eventId, span);
        }
        const jobs = consumerJobs(rows, (eventId) => spans.get(eventId)?.traceparent ?? null);
        for (const [job, items] of jobs) {
          await this.queues.addBulk(job as 'create-notifications' | 'fan-out-webhooks', items);
        }
        if (beforeCommit) await beforeCommit();
        return rows;
      });
    } catch (error) {
      for (const span of spans.values()) span.end(error);
      throw error;
    }
    for (const span of spans.values()) span.end();
    // A row per (event, consumer): count the events.
    this.metrics.relayed(new Set(claimed.map((row) => row.eventId)).size);
    return claimed.length;
  }

  /**
   * Dispatches webhook deliveries that are due (their schedule lives in PostgreSQL), leasing each
   * so it is dispatched once; a lost job is re-dispatched when the lease runs out. At most
   * WEBHOOK_CONCURRENCY_PER_ENDPOINT of an endpoint's deliveries are leased at once (one while it
   * fails); a recorded attempt wakes the loop to fill its slot.
   */
  async dispatchDeliveries(): Promise<number> {
    return this.pg.transaction(async (client) => {
      const rows = await runPrepared<DueDelivery>(client, {
        sql: `select delivery_id as "deliveryId", org_id as "orgId", endpoint_id as "endpointId",
                     attempt, dispatches
                from rm_relay_claim_deliveries(?, ?::interval, ?)`,
        params: [
          this.config.outbox.batchSize,
          `${Math.ceil(this.config.webhooks.timeoutMs / 1000) + 60} seconds`,
          this.config.webhooks.concurrencyPerEndpoint,
        ],
      });
      await this.queues.addBulk('deliver-webhook', deliveryJobs(rows));
      return rows.length;
    });
  }
}

type RelaySpan = NonNullable<ReturnType<typeof childSpan>>;

/** The relay's span for a claimed event, continuing the trace that wrote it (null: untraced). */
function relaySpan(row: Claimed): RelaySpan | null {
  return childSpan('outbox relay', row.traceparent, {
    kind: SpanKind.PRODUCER,
    attributes: { 'messaging.system': 'bullmq', 'rm.outbox_event_id': row.eventId },
  });
}

/**
 * The consumer jobs of a claimed batch: one per (consumer, org, up to CONSUMER_BATCH events), so
 * a job's events share one transaction; `traceOf` gives the context each event's job continues.
 */
function consumerJobs(
  rows: Claimed[],
  traceOf: (eventId: string) => string | null,
): Map<JobName, { data: ConsumerPayload; opts: { jobId: string } }[]> {
  const groups = new Map<string, { consumer: Consumer; orgId: string; eventIds: string[] }>();
  for (const row of rows) {
    if (!row.consumer || !(row.consumer in CONSUMER_JOBS)) continue;
    const key = `${row.consumer}/${row.orgId}`;
    const group = groups.get(key) ?? { consumer: row.consumer, orgId: row.orgId, eventIds: [] };
    group.eventIds.push(row.eventId);
    groups.set(key, group);
  }
  const byJob = new Map<JobName, { data: ConsumerPayload; opts: { jobId: string } }[]>();
  for (const group of groups.values()) {
    const job = CONSUMER_JOBS[group.consumer as keyof typeof CONSUMER_JOBS] as JobName;
    for (let i = 0; i < group.eventIds.length; i += CONSUMER_BATCH) {
      const eventIds = group.eventIds.slice(i, i + CONSUMER_BATCH);
      const traces = eventIds.map(traceOf);
      const items = byJob.get(job) ?? [];
      items.push({
        data: {
          orgId: group.orgId,
          eventIds,
          ...(traces.some((t) => t !== null) ? { traces } : {}),
        },
        // Deterministic: a relay that crashed after adding re-adds the same ids (BullMQ ignores
        // an id it still holds; the consumers' done-marks cover the rest).
        opts: { jobId: `evts-${group.consumer}-${batchKey(eventIds)}` },
      });
      byJob.set(job, items);
    }
  }
  return byJob;
}

function batchKey(eventIds: string[]): string {
  return createHash('sha1').update(eventIds.join(',')).digest('hex').slice(0, 24);
}

interface DueDelivery {
  deliveryId: string;
  orgId: string;
  endpointId: string;
  attempt: number;
  dispatches: number;
}

/** Deliveries of one endpoint per deliver-webhook job: a busy endpoint's share several workers. */
const DELIVERIES_PER_JOB = 16;

/**
 * deliver-webhook jobs of up to DELIVERIES_PER_JOB due deliveries of one endpoint each (the claim
 * leases at most WEBHOOK_CONCURRENCY_PER_ENDPOINT of an endpoint). A job's id is made of its
 * deliveries, attempts and dispatches: a relay transaction that added the job and then failed to
 * commit claims them again under the same numbers, and BullMQ ignores the id it already holds.
 */
function deliveryJobs(rows: DueDelivery[]) {
  const byEndpoint = new Map<string, DueDelivery[]>();
  for (const row of rows) {
    const list = byEndpoint.get(row.endpointId) ?? [];
    list.push(row);
    byEndpoint.set(row.endpointId, list);
  }
  const chunks = [...byEndpoint.values()].flatMap((list) =>
    Array.from({ length: Math.ceil(list.length / DELIVERIES_PER_JOB) }, (_, i) =>
      list.slice(i * DELIVERIES_PER_JOB, (i + 1) * DELIVERIES_PER_JOB),
    ),
  );
  return chunks.map((list) => {
    const deliveries = list
      .map((r) => ({ deliveryId: r.deliveryId, attempt: r.attempt, dispatch: r.dispatches }))
      .sort((a, b) => a.deliveryId.localeCompare(b.deliveryId));
    const key = deliveries.map((d) => `${d.deliveryId}:${d.attempt}:${d.dispatch}`).join(',');
    return {
      data: { orgId: list[0].orgId, deliveries },
      opts: { jobId: `whd-${createHash('sha1').update(key).digest('hex')}` },
    };
  });
}
