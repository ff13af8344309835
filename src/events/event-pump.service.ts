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
import { OutboxSignals } from '../platform/queues/outbox-signals';
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
 * The worker loop of the `events` consumer: claims the events whose stream work is due
 * (rm_events_claim, skip locked: several workers cooperate), produces each org's batch in its
 * tenant transaction (EventProducer), and publishes what was appended once that transaction has
 * committed. It needs PostgreSQL only: while Redis is away streams are fed from PostgreSQL, so
 * the work goes on, and the relay wakes it as soon as it has published new events. A batch that
 * fails is done event by event, so one poison event holds back no other; its failure is recorded
 * and it is tried again when its claim runs out.
 */
@Injectable()
export class EventPump implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(EventPump.name);
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private stopSignals?: () => void;
  private lastErrorLog = 0;

  constructor(
    private readonly pg: PgPool,
    private readonly tenants: TenantRunner,
    private readonly db: Db,
    private readonly producer: EventProducer,
    private readonly fanout: Fanout,
    private readonly signals: OutboxSignals,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.running = true;
    this.stopSignals = this.signals.onClaimed(() => this.wake?.());
    this.loop = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    this.stopSignals?.();
    this.wake?.();
    await this.loop;
  }

  /** Claims and produces one batch; returns how many events it claimed. */
  async pumpOnce(): Promise<number> {
    const rows = await this.pg.query<{ eventId: string; orgId: string }>({
      sql: `select event_id as "eventId", org_id as "orgId" from rm_events_claim(?, ?::interval)`,
      params: [BATCH, LEASE],
    });
    const byOrg = new Map<string, string[]>();
    for (const r of rows) byOrg.set(r.orgId, [...(byOrg.get(r.orgId) ?? []), r.eventId]);
    for (const [orgId, eventIds] of byOrg) await this.produce(orgId, eventIds);
    return rows.length;
  }

  private async produce(orgId: string, eventIds: string[]): Promise<void> {
    const scope = { orgId, userId: null };
    try {
      await this.fanout.publish(
        await this.tenants.run(scope, () => this.producer.produce(orgId, eventIds)),
      );
      return;
    } catch (error) {
      if (eventIds.length === 1) return this.recordFailure(orgId, eventIds[0], error);
    }
    for (const eventId of eventIds) {
      try {
        await this.fanout.publish(
          await this.tenants.run(scope, () => this.producer.produce(orgId, [eventId])),
        );
      } catch (error) {
        await this.recordFailure(orgId, eventId, error);
      }
    }
  }

  private async recordFailure(orgId: string, eventId: string, error: unknown): Promise<void> {
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

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      let claimed = 0;
      try {
        claimed = await this.pumpOnce();
        failures = 0;
      } catch (error) {
        failures++;
        this.warn(`event pump paused: ${String(error)}`);
      }
      if (!this.running) break;
      if (failures) await this.sleep(Math.min(5000, 200 * 2 ** Math.min(failures, 5)));
      else if (claimed < BATCH) await this.sleep(this.config.outbox.pollMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private warn(message: string): void {
    if (Date.now() - this.lastErrorLog < 10_000) return;
    this.lastErrorLog = Date.now();
    this.logger.warn(message);
  }
}
