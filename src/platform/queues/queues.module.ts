import { Global, Module, type DynamicModule } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import type { AppConfig } from '../../config/app-config';
import { QUEUES } from './queue-catalogue';
import { QueueRegistry } from './queue-registry';
import { bullConnection } from './redis-connection';

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
          ...QUEUES.map((q) => ({ name: q.name, defaultJobOptions: q.defaultJobOptions })),
        ),
      ],
      providers: [QueueRegistry],
      exports: [QueueRegistry, BullModule],
    };
  }
}
