import { Global, Module, type DynamicModule } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import type { AppConfig } from '../../config/app-config';
import { tuneWorker } from './worker-tuning';
import { ConsumerJobRunner } from './consumer-job';
import { OutboxMaintenanceProcessor } from './outbox-maintenance.processor';
import { OutboxRelay } from './outbox-relay.service';
import { WorkerBootCheck } from './worker-boot-check';
import { OperationsModule } from '../../operations/operations.module';

/** The worker side of the outbox: the relay loop, the maintenance jobs, the startup check. */
@Global()
@Module({})
export class OutboxModule {
  static register(options: { worker: boolean; config: AppConfig }): DynamicModule {
    if (options.worker) tuneWorker(OutboxMaintenanceProcessor, options.config);
    return {
      module: OutboxModule,
      imports: [DiscoveryModule, OperationsModule],
      providers: options.worker
        ? [ConsumerJobRunner, OutboxRelay, OutboxMaintenanceProcessor, WorkerBootCheck]
        : [],
      exports: options.worker ? [ConsumerJobRunner] : [],
    };
  }
}
