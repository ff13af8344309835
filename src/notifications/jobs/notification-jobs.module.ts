import { Module, type DynamicModule } from '@nestjs/common';
import { NotificationsModule } from '../notifications.module';
import { CreateNotificationsProcessor } from './create-notifications.processor';

/** The notifications consumer of the outbox, only where processors run (a worker, or `npm start`). */
@Module({})
export class NotificationJobsModule {
  static register(options: { worker: boolean }): DynamicModule {
    return {
      module: NotificationJobsModule,
      imports: [NotificationsModule],
      providers: options.worker ? [CreateNotificationsProcessor] : [],
    };
  }
}
