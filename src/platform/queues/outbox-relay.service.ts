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
import { OutboxSignals } from './outbox-signals';
import { QueueRegistry } from './queue-registry';
import type { Consumer } from './outbox-types';

/** Events given to the streams per pass while Redis is away (the relay's passes back off to 5 s). */
const STREAM_FEED_LIMIT = 5000;

interface Claimed {
  eventId: string;
  orgId: string;
  consumer: Consumer | null;
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
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private lastErrorLog = 0;

  constructor(
    private readonly pg: PgPool,
    private readonly queues: QueueRegistry,
    private readonly signals: OutboxSignals,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /**
   * Publishes one batch; returns how many events it claimed. `beforeCommit` runs after the jobs
   * are in Redis and before the events are marked published: the fault tests use it to crash there.
   */
  async relayOnce(beforeCommit?: () => Promise<void>): Promise<number> {
    return this.pg.transaction(async (client) => {
      const rows = await runPrepared<Claimed>(client, {
        sql: `select event_id as "eventId", org_id as "orgId", consumer from rm_relay_claim(?)`,
        params: [this.config.outbox.batchSize],
      });
      // One job per (consumer, org, up to CONSUMER_BATCH events): one transaction for the batch.
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
          const items = byJob.get(job) ?? [];
          items.push({
            data: { orgId: group.orgId, eventIds },
            // Deterministic: a relay that crashed after adding re-adds the same ids (BullMQ
            // ignores an id it still holds; the consumers' done-marks cover the rest).
            opts: { jobId: `evts-${group.consumer}-${batchKey(eventIds)}` },
          });
          byJob.set(job, items);
        }
      }
      for (const [job, items] of byJob) {
        await this.queues.addBulk(job as 'create-notifications' | 'fan-out-webhooks', items);
      }
      if (beforeCommit) await beforeCommit();
      return rows.length;
    });
  }

  /**
   * Dispatches webhook deliveries that are due (their schedule lives in PostgreSQL), leasing each
   * so it is dispatched once; a lost job is re-dispatched when the lease runs out.
   */
  async dispatchDeliveries(): Promise<number> {
    return this.pg.transaction(async (client) => {
      const rows = await runPrepared<{
        deliveryId: string;
        orgId: string;
        attempt: number;
        dispatches: number;
      }>(client, {
        sql: `select delivery_id as "deliveryId", org_id as "orgId", attempt, dispatches
                from rm_relay_claim_deliveries(?, ?::interval)`,
        params: [
          this.config.outbox.batchSize,
          `${Math.ceil(this.config.webhooks.timeoutMs / 1000) + 60} seconds`,
        ],
      });
      await this.queues.addBulk(
        'deliver-webhook',
        rows.map((r) => ({
          data: {
            orgId: r.orgId,
            deliveryId: r.deliveryId,
            attempt: r.attempt,
            dispatch: r.dispatches,
          },
          opts: { jobId: `whd-${r.deliveryId}-a${r.attempt}-d${r.dispatches}` },
        })),
      );
      return rows.length;
    });
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      let claimed = 0;
      try {
        claimed = await this.relayOnce();
        if (claimed) this.signals.claimed();
        claimed = Math.max(claimed, await this.dispatchDeliveries());
        failures = 0;
      } catch (error) {
        failures++;
        await this.feedStreams();
        if (Date.now() - this.lastErrorLog > 10_000) {
          this.lastErrorLog = Date.now();
          this.logger.warn(`outbox relay paused: ${(error as Error).message}`);
        }
      }
      if (!this.running) break;
      if (failures) await this.sleep(Math.min(5000, 200 * 2 ** Math.min(failures, 5)));
      else if (claimed < this.config.outbox.batchSize) await this.sleep(this.config.outbox.pollMs);
    }
  }

  /**
   * While Redis cannot take jobs the events stay unpublished, but the event streams need
   * PostgreSQL only: their consumer rows are recorded anyway (rm_events_feed) and the event pump
   * woken. Best effort: PostgreSQL may be what failed.
   */
  async feedStreams(): Promise<number> {
    try {
      const rows = await this.pg.query<{ added: number }>({
        sql: 'select rm_events_feed(?) as added',
        params: [STREAM_FEED_LIMIT],
      });
      const added = rows[0]?.added ?? 0;
      if (added) this.signals.claimed();
      return added;
    } catch {
      return 0;
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
}

function batchKey(eventIds: string[]): string {
  return createHash('sha1').update(eventIds.join(',')).digest('hex').slice(0, 24);
}
