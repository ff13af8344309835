import { Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { CreateNotificationsProcessor } from './jobs/create-notifications.processor';
import { NotificationsController } from './notifications.controller';
import { NotificationsRepository } from './notifications.repository';
import { NotificationsService } from './notifications.service';

@Module({})
export class NotificationsModule {
  /** The processor only where processors run (a worker, or `npm start` with the worker in-process). */
  static register(options: { worker: boolean; config: AppConfig }): DynamicModule {
    return {
      module: NotificationsModule,
      controllers: [NotificationsController],
      providers: [
        NotificationsService,
        NotificationsRepository,
        ...(options.worker ? [CreateNotificationsProcessor] : []),
      ],
      exports: [NotificationsService],
    };
  }
}
