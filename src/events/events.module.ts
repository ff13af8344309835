import { Module, type DynamicModule } from '@nestjs/common';
import { ConversationsModule } from '../conversations/conversations.module';
import { NotificationsModule } from '../notifications/notifications.module';
import { EventProducer } from './event-producer.service';
import { EventPump } from './event-pump.service';
import { EventsController } from './events.controller';
import { EventsRepository } from './events.repository';
import { EventStreamMetrics } from './event-stream-metrics';
import { Fanout } from './fanout.service';
import { StreamHub } from './stream-hub.service';

/**
 * The real-time event stream (SPEC §4a): in a worker, the `events` consumer of the outbox (the
 * pump and producer); in an API process, the streams (the hub and the routes). Both sides share
 * the fan-out through Redis and the stream tables in PostgreSQL.
 */
@Module({})
export class EventsModule {
  static register(options: { worker: boolean; http: boolean }): DynamicModule {
    return {
      module: EventsModule,
      imports: [ConversationsModule, NotificationsModule],
      controllers: options.http ? [EventsController] : [],
      providers: [
        EventsRepository,
        Fanout,
        ...(options.worker ? [EventProducer, EventPump] : []),
        ...(options.http ? [StreamHub, EventStreamMetrics] : []),
      ],
      exports: options.http ? [StreamHub, Fanout] : [Fanout],
    };
  }
}
