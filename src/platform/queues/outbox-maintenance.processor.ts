import {
  Inject,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { APP_CONFIG } from '../../config/config.module';
import type { AppConfig } from '../../config/app-config';
import { PgPool, runPrepared } from '../database/pg-pool';
import type Redis from 'ioredis';
import type { Queue } from 'bullmq';
import { JobProcessor, Processes, type JobHandlers } from './job-processor';
import { CONSUMER_JOBS, type JobName } from './queue-catalogue';
import { OutboxMetrics } from './outbox-metrics';
import { QueueRegistry } from './queue-registry';
import { isCluster } from './redis-connection';
import type { Consumer } from './outbox-types';

const RECONCILE_EVERY_MS = 15_000;
const PRUNE_EVERY_MS = 10 * 60_000;
/** Longer than a relay transaction can last around a Redis restart (2 s add timeout + commit). */
const EXPEDITE_AGAIN_MS = 5_000;
/** On a Redis Cluster, how often each queue's sentinel is looked at. */
const SENTINEL_CHECK_MS = 2_000;

/**
 * The outbox's maintenance jobs. The reconciler re-dispatches consumer work that is due and not
 * done under a fresh job id (`evt-<event>-<consumer>-r<n>`); pruning deletes finished events.
 * Their schedules are (re)declared at start and whenever Redis comes back, because a Redis that
 * restarts empty forgets them. On a Redis Cluster each queue lives on one master (its hash tag):
 * a sentinel per queue, looked at every 2 s (the cluster connection stays up while one master
 * restarts), tells which master came back empty.
 */
@Processes('outbox-relay', 1, 'reconcile-outbox', 'prune-outbox')
export class OutboxMaintenanceProcessor
  extends JobProcessor
  implements OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly logger = new Logger(OutboxMaintenanceProcessor.name);

  protected readonly handlers: JobHandlers = {
    'reconcile-outbox': () => this.reconcile(),
    'prune-outbox': () => this.prune(),
  };

  constructor(
    private readonly pg: PgPool,
    private readonly queues: QueueRegistry,
    private readonly metrics: OutboxMetrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  private sawRedis = false;
  private sentinelTimer: NodeJS.Timeout | null = null;

  onApplicationBootstrap(): void {
    const queue = this.queues.get('outbox-relay');
    const declare = () =>
      Promise.all([
        queue.upsertJobScheduler(
          'reconcile-outbox',
          { every: RECONCILE_EVERY_MS },
          { name: 'reconcile-outbox', data: {} },
        ),
        queue.upsertJobScheduler(
          'prune-outbox',
          { every: PRUNE_EVERY_MS },
          { name: 'prune-outbox', data: {} },
        ),
      ]).catch((error: unknown) =>
        this.logger.warn(`could not declare schedules: ${String(error)}`),
      );
    void declare();
    if (isCluster(this.config.redis)) {
      this.watchClusterSentinels(declare);
      return;
    }
    void queue.client.then((client) => {
      const onReady = async () => {
        await declare();
        // A sentinel key tells a Redis that lost its data (restarted empty, flushed) from one
        // that merely dropped the connection.
        if ((await setSentinel(queue)) && this.sawRedis) await this.recover();
        this.sawRedis = true;
      };
      client.on('ready', () => void onReady().catch(() => undefined));
      if (client.status === 'ready') void onReady().catch(() => undefined);
    });
  }

  onApplicationShutdown(): void {
    if (this.sentinelTimer) clearInterval(this.sentinelTimer);
  }

  /**
   * Every SENTINEL_CHECK_MS, sets each queue's sentinel if it is missing: one that was seen before
   * and is missing now means its master lost its data (restarted empty): the schedules are
   * declared again and what it forgot re-dispatched. A master that does not answer is skipped.
   */
  private watchClusterSentinels(declare: () => Promise<unknown>): void {
    const seen = new Set<string>();
    let running = false;
    const check = async () => {
      if (running) return;
      running = true;
      try {
        const lost = await Promise.allSettled(
          this.queues.all().map(async (queue) => {
            const fresh = await setSentinel(queue);
            const before = seen.has(queue.name);
            seen.add(queue.name);
            return fresh && before;
          }),
        );
        if (lost.some((result) => result.status === 'fulfilled' && result.value)) {
          await declare();
          await this.recover();
        }
      } finally {
        running = false;
      }
    };
    void check().catch(() => undefined);
    this.sentinelTimer = setInterval(() => void check().catch(() => undefined), SENTINEL_CHECK_MS);
    this.sentinelTimer.unref();
  }

  /**
   * After a Redis (or a cluster's master) lost its data: re-dispatches what it forgot, at once and
   * again a little later. A relay transaction may have added jobs to the old Redis just before it
   * died and committed only after the first pass (its next add waited for the new Redis, up to the
   * 2 s add timeout): those events' work was not yet visible to it. The second pass, once such
   * transactions are over, re-dispatches it (duplicates are harmless: the consumers' done-marks
   * deduplicate).
   */
  private async recover(): Promise<void> {
    await this.expedite();
    setTimeout(() => void this.expedite().catch(() => undefined), EXPEDITE_AGAIN_MS).unref();
  }

  /** Re-dispatches at once what a Redis that lost its data forgot. */
  async expedite(): Promise<void> {
    const rows = await this.pg.query<{ touched: number }>({
      sql: 'select rm_relay_expedite() as touched',
      params: [],
    });
    const touched = rows[0]?.touched ?? 0;
    this.logger.warn(`Redis lost its data; re-dispatching ${touched} unfinished item(s)`);
    this.metrics.redispatched('redis-restart', touched);
    await this.reconcile();
  }

  /** Re-dispatches due, unfinished consumer work; returns how many jobs it added. */
  async reconcile(): Promise<number> {
    return this.pg.transaction(async (client) => {
      const rows = await runPrepared<{
        eventId: string;
        orgId: string;
        consumer: Consumer;
        dispatches: number;
      }>(client, {
        sql: `select event_id as "eventId", org_id as "orgId", consumer, dispatches
                from rm_relay_due(1000, '2 minutes'::interval)`,
        params: [],
      });
      for (const row of rows) {
        const job = CONSUMER_JOBS[row.consumer as keyof typeof CONSUMER_JOBS] as
          JobName | undefined;
        if (!job) continue;
        await this.queues.add(
          job as 'create-notifications',
          { orgId: row.orgId, eventIds: [row.eventId] },
          {
            jobId: `evt-${row.eventId}-${row.consumer}-r${row.dispatches}`,
          },
        );
      }
      if (rows.length) this.logger.log(`reconciler re-dispatched ${rows.length} job(s)`);
      this.metrics.redispatched('reconciler', rows.length);
      return rows.length;
    });
  }

  /** Finished outbox events (after an hour), and stream events past their retention. */
  async prune(): Promise<number> {
    const rows = await this.pg.query<{ pruned: number; streams: number }>({
      sql: `select rm_relay_prune('1 hour'::interval) as pruned,
                   rm_stream_prune(make_interval(hours => ?)) as streams`,
      params: [this.config.events.retentionHours],
    });
    return (rows[0]?.pruned ?? 0) + (rows[0]?.streams ?? 0);
  }
}

/** Sets the queue's sentinel key if it is missing: true when it was (its Redis lost its data). */
async function setSentinel(queue: Queue): Promise<boolean> {
  const client = (await queue.client) as unknown as Redis;
  const sentinel = `${queue.opts.prefix ?? 'bull'}:rm:sentinel`;
  return (await client.set(sentinel, String(Date.now()), 'NX')) === 'OK';
}
