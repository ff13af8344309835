import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import Redis from 'ioredis';
import { APP_CONFIG } from '../../config/config.module';
import type { AppConfig } from '../../config/app-config';

/** Answers "does Redis answer?" within a short timeout, without ever throwing. */
@Injectable()
export class RedisProbe implements OnModuleDestroy {
  private readonly redis: Redis;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.redis = new Redis(config.redis.url, {
      // Queue while (re)connecting so a probe right after boot waits for the connection; the
      // command timeout still bounds every answer.
      enableOfflineQueue: true,
      maxRetriesPerRequest: 0,
      commandTimeout: 500,
      retryStrategy: (times) => Math.min(times * 250, 2000),
    });
    this.redis.on('error', () => undefined);
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  /** Redis's eviction policy, or null when it cannot be read. BullMQ needs noeviction. */
  async maxmemoryPolicy(): Promise<string | null> {
    try {
      const reply = (await this.redis.config('GET', 'maxmemory-policy')) as string[];
      return reply[1] ?? null;
    } catch {
      return null;
    }
  }

  onModuleDestroy(): void {
    this.redis.disconnect();
  }
}
