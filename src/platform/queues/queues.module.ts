import {
  Global,
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Cluster } from 'ioredis';
import { BullModule } from '@nestjs/bullmq';
import type { AppConfig } from '../../config/app-config';
import type { DefaultJobOptions } from 'bullmq';
import { QUEUES } from './queue-catalogue';
import { QueueRegistry } from './queue-registry';
import { RedisProbe } from './redis-probe.service';
import { OutboxSignals } from './outbox-signals';
import { bullConnection, queueConnection, queuePrefix } from './redis-connection';

const QUEUE_CLUSTERS = Symbol('QUEUE_CLUSTERS');

/**
 * On a Redis Cluster, the queues' cluster connections: BullMQ shares a connection it is given and
 * never closes it, so they are closed here, after the queues, at shutdown.
 */
@Injectable()
class QueueClusters implements OnApplicationShutdown {
  constructor(
    @Inject(QUEUE_CLUSTERS) private readonly clusters: Cluster[],
    private readonly queues: QueueRegistry,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    if (!this.clusters.length) return;
    await Promise.all(this.queues.all().map((queue) => queue.close()));
    for (const cluster of this.clusters.splice(0)) cluster.disconnect();
  }
}

@Global()
@Module({})
export class QueuesModule {
  static forRoot(config: AppConfig): DynamicModule {
    const clusters: Cluster[] = [];
    const clusterConnection = () => {
      const connection = queueConnection(config.redis, 'worker') as Cluster;
      clusters.push(connection);
      return connection;
    };
    return {
      module: QueuesModule,
      imports: [
        BullModule.forRoot({
          connection: bullConnection(config.redis.url, 'worker'),
          prefix: config.redis.queuePrefix,
        }),
        BullModule.registerQueue(
          ...QUEUES.map((q) => ({
            name: q.name,
            defaultJobOptions: withBackoff(q.defaultJobOptions, config),
            // A Redis Cluster: each queue its own hash-tagged prefix and cluster connection.
            ...(config.redis.clusterNodes && {
              prefix: queuePrefix(config.redis, q.name),
              connection: clusterConnection(),
            }),
          })),
        ),
      ],
      providers: [
        QueueRegistry,
        RedisProbe,
        OutboxSignals,
        { provide: QUEUE_CLUSTERS, useValue: clusters },
        QueueClusters,
      ],
      exports: [QueueRegistry, RedisProbe, OutboxSignals, BullModule],
    };
  }
}

/** The first retry delay comes from JOB_BACKOFF_MS (exponential, with jitter, from there). */
function withBackoff(options: DefaultJobOptions, config: AppConfig): DefaultJobOptions {
  const backoff = options.backoff;
  if (!backoff || typeof backoff === 'number') return options;
  return { ...options, backoff: { ...backoff, delay: config.jobs.backoffMs } };
}
