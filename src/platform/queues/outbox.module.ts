import { Global, Module, type DynamicModule } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import type { AppConfig } from '../../config/app-config';
import { ConsumerJobRunner } from './consumer-job';
import { OutboxMaintenanceProcessor } from './outbox-maintenance.processor';
import { OutboxMetrics } from './outbox-metrics';
import { OutboxRelay } from './outbox-relay.service';
import { WorkerBootCheck } from './worker-boot-check';
import { WorkerRegistry } from './worker-registry';

/**
 * The worker side of the outbox: the relay loop, the maintenance jobs, and the BullMQ workers of
 * every processor of the process (WorkerRegistry), with their startup checks.
 */
@Global()
@Module({})
export class OutboxModule {
  static register(options: { worker: boolean; config: AppConfig }): DynamicModule {
    return {
      module: OutboxModule,
      imports: [DiscoveryModule],
      providers: options.worker
        ? [
            ConsumerJobRunner,
            OutboxMetrics,
            OutboxRelay,
            OutboxMaintenanceProcessor,
            WorkerBootCheck,
            WorkerRegistry,
          ]
        : [],
      exports: options.worker ? [ConsumerJobRunner, OutboxMetrics] : [],
    };
  }
}
