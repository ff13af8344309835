import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/app-config';
import { PgPool } from '../platform/database/pg-pool';
import { OutboxMetrics } from '../platform/queues/outbox-metrics';
import { OutboxSignals } from '../platform/queues/outbox-signals';
import { WorkLoop } from '../platform/queues/work-loop';
import { TenantRunner } from '../platform/tenancy/tenant-runner.service';
import { Db } from '../platform/tenancy/db.service';
import { EventProducer } from './event-producer.service';
import { Fanout } from './fanout.service';

/**
 * How long a claim keeps other pumps off the events it took. Only a hint: the producer locks the
 * events' consumer rows in its transaction and skips those already done, so a pump that outlives
 * its lease duplicates nothing; a short lease means a pump that died (killed mid-batch) delays the
 * streams by at most this much.
 */
const LEASE = '5 seconds';
const BATCH = 500;
/**
 * Woken passes start at least this far apart. Each pass costs a claim and a transaction per org;
 * under load one pass per commit would spend more database time on the streams than on the sends
 * themselves, while 50 ms is a fifth of the stream's latency budget (SPEC §5: 250 ms p99).
 */
const PASS_GAP_MS = 50;

/**
 * The worker loop of the `events` consumer: claims the events whose stream work is due
 * (rm_events_claim, skip locked: several workers cooperate), produces each org's batch in its
 * tenant transaction (EventProducer), and publishes what was appended once that transaction has
 * committed. It needs PostgreSQL only (the events' consumer rows are written with them): while
 * Redis is away streams are fed from PostgreSQL, so the work goes on. Every commit wakes it
 * (OutboxSignals); otherwise it polls every OUTBOX_POLL_MS. A batch that
 * fails is done event by event, so one poison event holds back no other; its failure is recorded
 * and it is tried again when its claim runs out.
 */
@Injectable()
export class EventPump implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(EventPump.name);
  private readonly loop: WorkLoop;
  private stopWakes?: () => void;
  private lastErrorLog = 0;

  constructor(
    private readonly pg: PgPool,
    private readonly tenants: TenantRunner,
    private readonly db: Db,
    private readonly producer: EventProducer,
    private readonly fanout: Fanout,
    private readonly signals: OutboxSignals,
    private readonly metrics: OutboxMetrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.loop = new WorkLoop({
      pass: () => this.pumpOnce(),
      batch: BATCH,
      pollMs: config.outbox.pollMs,
      minGapMs: PASS_GAP_MS,
      logger: this.logger,
      what: 'event pump',
    });
  }

  onApplicationBootstrap(): void {
    // Woken by every commit (API processes publish it) and by the notifications this worker makes.
    this.stopWakes = this.signals.onWake(() => this.loop.wake());
    this.loop.start();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopWakes?.();
    await this.loop.stop();
  }

  /** Claims and produces one batch; returns how many events it claimed. */
  async pumpOnce(): Promise<number> {
    const rows = await this.pg.query<{ eventId: string; orgId: string }>({
      sql: `select event_id as "eventId", org_id as "orgId" from rm_events_claim(?, ?::interval)`,
      params: [BATCH, LEASE],
    });
    const byOrg = new Map<string, string[]>();
    for (const r of rows) byOrg.set(r.orgId, [...(byOrg.get(r.orgId) ?? []), r.eventId]);
    // Orgs never share a member: their batches run side by side (a pump on one connection would
    // get one backend's share of a busy database); an org's own batch stays in order.
    const batches = [...byOrg];
    const next = async (): Promise<void> => {
      for (let batch = batches.shift(); batch; batch = batches.shift()) {
        await this.produce(batch[0], batch[1]);
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(this.config.events.pumpConcurrency, batches.length) }, next),
    );
    return rows.length;
  }

  private async produce(orgId: string, eventIds: string[]): Promise<void> {
    const scope = { orgId, userId: null };
    try {
      await this.fanout.publish(
        await this.tenants.run(scope, () => this.producer.produce(orgId, eventIds)),
      );
      this.metrics.done('events', eventIds);
      return;
    } catch (error) {
      if (eventIds.length === 1) return this.recordFailure(orgId, eventIds[0], error);
    }
    for (const eventId of eventIds) {
      try {
        await this.fanout.publish(
          await this.tenants.run(scope, () => this.producer.produce(orgId, [eventId])),
        );
        this.metrics.done('events', [eventId]);
      } catch (error) {
        await this.recordFailure(orgId, eventId, error);
      }
    }
  }

  private async recordFailure(orgId: string, eventId: string, error: unknown): Promise<void> {
    this.metrics.failed('events');
    this.warn(`stream events of ${eventId} failed: ${String(error)}`);
    await this.tenants
      .run({ orgId, userId: null }, () =>
        this.db.query('select rm_record_consumer_failure(?, ?, ?, ?::interval, false)', [
          eventId,
          'events',
          error instanceof Error ? error.message : String(error),
          LEASE,
        ]),
      )
      .catch(() => undefined);
  }

  private warn(message: string): void {
    if (Date.now() - this.lastErrorLog < 10_000) return;
    this.lastErrorLog = Date.now();
    this.logger.warn(message);
  }
}
