import { Global, Module, type DynamicModule } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import type { AppConfig } from '../../config/app-config';
import type { DefaultJobOptions } from 'bullmq';
import { QUEUES } from './queue-catalogue';
import { QueueRegistry } from './queue-registry';
import { RedisProbe } from './redis-probe.service';
import { OutboxSignals } from './outbox-signals';
import { bullConnection, queueConnection, queuePrefix } from './redis-connection';

@Global()
@Module({})
export class QueuesModule {
  static forRoot(config: AppConfig): DynamicModule {
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
            ...(config.redis.clusterNodes && {
              // A Redis Cluster: each queue its own hash-tagged prefix and cluster connection,
              // which BullMQ does not close by itself (it closes connections it made).
              prefix: queuePrefix(config.redis, q.name),
              connection: queueConnection(config.redis, 'worker'),
              forceDisconnectOnShutdown: true,
            }),
          })),
        ),
      ],
      providers: [QueueRegistry, RedisProbe, OutboxSignals],
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
