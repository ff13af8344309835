import { Controller, Get, Inject } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { Fanout } from '../events/fanout.service';
import { StreamHub } from '../events/stream-hub.service';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  type HealthCheckResult,
} from '@nestjs/terminus';
import { PgPool } from '../platform/database/pg-pool';
import { Public } from '../platform/auth/decorators';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/app-config';
import { RedisProbe } from '../platform/queues/redis-probe.service';
import { ApiAnyRoute, ApiProblems } from '../platform/http/api-docs';
import { workerThread } from './worker-thread-state';

@ApiTags('health')
@ApiAnyRoute()
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly pg: PgPool,
    private readonly redis: RedisProbe,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly moduleRef: ModuleRef,
  ) {}

  @Get('live')
  @ApiOperation({ operationId: 'getLiveness', summary: 'Liveness: the process answers' })
  @ApiOkResponse({
    description: 'The process is up.',
    schema: { type: 'object', properties: { status: { type: 'string', example: 'ok' } } },
  })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOkResponse({
    description:
      'PostgreSQL answers. `info.redis` reports Redis (not required); `info.events` the event streams this process holds and its fan-out subscriber (`up`, `down`: streams are fed from PostgreSQL meanwhile, or `idle`: no stream open), with the streams dropped for not keeping up since start; `info.worker` appears when the worker runs in this process.',
    schema: {
      type: 'object',
      example: {
        status: 'ok',
        info: {
          database: { status: 'up' },
          redis: { status: 'up', required: false },
          events: {
            status: 'up',
            streams: 2,
            fanout: 'up',
            slowStreamsDropped: 0,
            required: false,
          },
        },
        error: {},
        details: {},
      },
    },
  })
  @ApiProblems({
    status: 503,
    detail: 'Service unavailable.',
    description: 'The database does not answer.',
    retryAfter: false,
  })
  @HealthCheck()
  @ApiOperation({
    operationId: 'getReadiness',
    summary: 'Readiness: the database answers',
    description:
      'The API is ready when PostgreSQL answers. Redis is reported under info.redis but does not make the API unready: messages are still accepted and their notifications follow once Redis is back.',
  })
  async ready(): Promise<HealthCheckResult> {
    const redisUp = await this.redis.ping();
    const result = await this.health.check([() => this.database()]);
    const redis = { status: redisUp ? 'up' : 'down', required: false } as const;
    result.info = { ...result.info, redis };
    result.details = { ...result.details, redis };
    // The event streams this process holds, and whether live events reach it (they are read
    // back from PostgreSQL while not). Reported, not required.
    const hub = this.moduleRef.get(StreamHub, { strict: false });
    const fanout = this.moduleRef.get(Fanout, { strict: false });
    const events = {
      status: 'up',
      streams: hub.open,
      // idle: no stream open, so no subscription (nothing to receive).
      fanout: hub.open === 0 ? 'idle' : fanout.isUp() ? 'up' : 'down',
      slowStreamsDropped: hub.droppedSlow,
      required: false,
    } as const;
    result.info.events = events;
    result.details = { ...result.details, events };
    if (this.config.workerEnabled) {
      // The in-process worker needs Redis for its jobs (PostgreSQL is checked above). Reported,
      // like Redis, without making the API unready: sends do not depend on it.
      const worker = {
        status: redisUp && !workerThread.exited ? 'up' : 'down',
        inProcess: true,
        required: false,
      } as const;
      result.info.worker = worker;
      result.details = { ...result.details, worker };
    }
    return result;
  }

  private async database() {
    const indicator = this.indicators.check('database');
    try {
      await this.pg.pool.query('select 1');
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: (error as Error).message.slice(0, 200) });
    }
  }
}
