import { Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { WebhookDeliveriesProcessor, WebhooksProcessor } from './jobs/webhooks.processor';
import {
  WEBHOOK_RESOLVER,
  WebhookDispatcher,
  type ResolverHolder,
} from './webhook-dispatcher.service';
import { WebhookMetrics } from './webhook-metrics';
import { WebhooksController } from './webhooks.controller';
import { WebhooksRepository } from './webhooks.repository';
import { WebhooksService } from './webhooks.service';

@Module({})
export class WebhooksModule {
  static register(options: { worker: boolean; config: AppConfig }): DynamicModule {
    const resolver: ResolverHolder = { resolve: null };
    return {
      module: WebhooksModule,
      controllers: [WebhooksController],
      providers: [
        WebhooksService,
        WebhooksRepository,
        { provide: WEBHOOK_RESOLVER, useValue: resolver },
        ...(options.worker
          ? [WebhookDispatcher, WebhookMetrics, WebhooksProcessor, WebhookDeliveriesProcessor]
          : []),
      ],
    };
  }
}
