import { Injectable } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { RateLimiter } from './rate-limiter.service';

/** What ThrottlerStorage.increment answers (the library exports the type only from a dist path). */
type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** @nestjs/throttler storage on the shared Redis counters; fails open. */
@Injectable()
export class RedisThrottlerStorage implements ThrottlerStorage {
  constructor(private readonly limiter: RateLimiter) {}

  async increment(key: string, ttl: number, limit: number): Promise<ThrottlerStorageRecord> {
    const result = await this.limiter.consume(key, ttl);
    if (!result) return { totalHits: 0, timeToExpire: 0, isBlocked: false, timeToBlockExpire: 0 };
    const seconds = Math.ceil(result.resetMs / 1000);
    return {
      totalHits: result.hits,
      timeToExpire: seconds,
      isBlocked: result.hits > limit,
      timeToBlockExpire: seconds,
    };
  }
}
