import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { Counter, Gauge } from 'prom-client';
import { PgPool } from '../database/pg-pool';
import { QueueRegistry, withTimeout } from '../queues/queue-registry';
import { Metrics } from './metrics';

/** Longest a scrape waits for Redis to count the queues' jobs. */
const QUEUE_COUNT_TIMEOUT_MS = 1000;
const JOB_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed'] as const;

type QueueSample = { name: string; counts: Record<string, number> }[] | null;

/**
 * The platform's gauges, read at scrape time: the runtime connection pool, and the BullMQ queues'
 * job counts (skipped, with `queue_metrics_up 0`, while Redis does not answer within 1 s).
 */
@Injectable()
export class PlatformMetrics implements OnModuleInit {
  private sampling: Promise<QueueSample> | null = null;

  constructor(
    private readonly metrics: Metrics,
    private readonly pg: PgPool,
    private readonly queues: QueueRegistry,
  ) {}

  onModuleInit(): void {
    const registers = [this.metrics.registry];
    const pool = this.pg.pool;
    new Gauge({
      name: 'db_pool_connections',
      help: 'Connections of the runtime PostgreSQL pool: total open, idle, and requests waiting for one.',
      labelNames: ['state'],
      registers,
      collect() {
        this.set({ state: 'total' }, pool.totalCount);
        this.set({ state: 'idle' }, pool.idleCount);
        this.set({ state: 'waiting' }, pool.waitingCount);
      },
    });
    const stats = this.pg.stats;
    new Counter({
      name: 'db_statement_errors_total',
      help: 'Statements PostgreSQL refused, by SQLSTATE class (23 integrity, 40 rollback such as a deadlock, 57 operator intervention such as a statement timeout, 53 insufficient resources). Domain refusals (403, 404…) are not statement errors.',
      labelNames: ['sqlstate_class'],
      registers,
      collect() {
        this.reset();
        for (const [sqlClass, count] of stats.errorsByClass) {
          this.inc({ sqlstate_class: sqlClass }, count);
        }
      },
    });
    new Counter({
      name: 'db_deadlock_retries_total',
      help: 'Transactions run again after PostgreSQL rolled them back as a deadlock victim (40P01) or a serialization failure (40001).',
      registers,
      collect() {
        this.reset();
        this.inc(stats.conflictRetries);
      },
    });
    const sample = () => this.sampleQueues();
    new Gauge({
      name: 'queue_jobs',
      help: 'Jobs of each BullMQ queue by state, read from Redis at scrape time.',
      labelNames: ['queue', 'state'],
      registers,
      async collect() {
        const queues = await sample();
        // While Redis is away, no values rather than stale ones.
        this.reset();
        for (const queue of queues ?? []) {
          for (const state of JOB_STATES) {
            this.set({ queue: queue.name, state }, queue.counts[state] ?? 0);
          }
        }
      },
    });
    new Gauge({
      name: 'queue_metrics_up',
      help: 'Whether the queues could be read from Redis at this scrape (1) or not (0: queue_jobs is absent).',
      registers,
      async collect() {
        this.set((await sample()) ? 1 : 0);
      },
    });
  }

  /** One read of every queue per scrape, shared by the gauges collected at the same time. */
  private sampleQueues(): Promise<QueueSample> {
    this.sampling ??= this.readQueues().finally(() => {
      this.sampling = null;
    });
    return this.sampling;
  }

  private async readQueues(): Promise<QueueSample> {
    const queues = this.queues.all();
    try {
      return await withTimeout(
        (async () => {
          // Not connected: do not queue commands for when Redis comes back.
          if (!(await ready(queues[0]))) return null;
          return Promise.all(
            queues.map(async (queue) => ({
              name: queue.name,
              counts: await queue.getJobCounts(...JOB_STATES),
            })),
          );
        })(),
        QUEUE_COUNT_TIMEOUT_MS,
      );
    } catch {
      return null;
    }
  }
}

async function ready(queue: Queue | undefined): Promise<boolean> {
  if (!queue) return true;
  const client = await queue.client;
  return client.status === 'ready';
}
