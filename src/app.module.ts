import { DevSignInModule } from './members/dev-sign-in.module';
import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { TracingModule } from './platform/tracing/tracing.module';
import { ConfigError, type AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { AuthModule } from './platform/auth/auth.module';
import { JwtAuthGuard } from './platform/auth/jwt-auth.guard';
import { RolesGuard } from './platform/auth/roles.guard';
import { UnexpectedBodyGuard } from './platform/http/unexpected-body.guard';
import { DatabaseModule } from './platform/database/database.module';
import { TenancyModule } from './platform/tenancy/tenancy.module';
import { loggerParams } from './platform/logging/logging';
import { RateLimitModule } from './platform/ratelimit/rate-limit.module';
import { UserRateLimitGuard } from './platform/ratelimit/user-rate-limit.guard';
import { BlocksModule } from './blocks/blocks.module';
import { MembersModule } from './members/members.module';
import { ConversationsModule } from './conversations/conversations.module';
import { OperationsModule } from './operations/operations.module';
import { QueuesModule } from './platform/queues/queues.module';
import { MetricsModule } from './platform/metrics/metrics.module';
import { OutboxModule } from './platform/queues/outbox.module';
import { NotificationsModule } from './notifications/notifications.module';
import { NotificationJobsModule } from './notifications/jobs/notification-jobs.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { EventsModule } from './events/events.module';

export interface AppShape {
  /** Serve HTTP (controllers, guards, the tenant interceptor). */
  http: boolean;
  /** Run the BullMQ processors and the outbox relay in this process. */
  worker: boolean;
}

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, shape: AppShape): DynamicModule {
    const httpProviders: Provider[] = shape.http
      ? [
          // Order matters: verify the token, then rate-limit per user, then check the role, then refuse
          // a body sent to a route that takes none.
          { provide: APP_GUARD, useClass: JwtAuthGuard },
          { provide: APP_GUARD, useClass: UserRateLimitGuard },
          { provide: APP_GUARD, useClass: RolesGuard },
          { provide: APP_GUARD, useClass: UnexpectedBodyGuard },
        ]
      : [];
    // One role per process: the worker's (rm_worker: rm_app's rights plus the relay's cross-org
    // functions) wherever the worker runs, the app role's (rm_app) in an API-only process.
    const runtimeUrl = shape.worker ? config.database.workerUrl : config.database.appUrl;
    if (!runtimeUrl) {
      throw new ConfigError([
        shape.worker
          ? 'DATABASE_WORKER_URL is required where the worker runs (npm run start:worker, or WORKER_ENABLED=true)'
          : 'DATABASE_APP_URL is required to run the API',
      ]);
    }
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot(loggerParams(config)),
        TracingModule,
        RateLimitModule,
        DatabaseModule.forRoot({ url: runtimeUrl, worker: shape.worker }),
        TenancyModule,
        QueuesModule.forRoot(config),
        // One registry per application; `process` says which kind of process it describes.
        MetricsModule.forRoot(shape.http ? 'api' : 'worker'),
        AuthModule.forRoot(config),
        OperationsModule,
        MembersModule,
        ConversationsModule,
        BlocksModule,
        OutboxModule.register({ worker: shape.worker, config }),
        NotificationsModule,
        NotificationJobsModule.register({ worker: shape.worker }),
        WebhooksModule.register({ worker: shape.worker, config }),
        EventsModule.register({ worker: shape.worker, http: shape.http }),
        ...(shape.http && config.devSeed ? [DevSignInModule] : []),
      ],
      providers: httpProviders,
    };
  }
}
