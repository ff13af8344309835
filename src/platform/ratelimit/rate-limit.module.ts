import { Global, Module } from '@nestjs/common';
import { RateLimiter } from './rate-limiter.service';
import { RedisThrottlerStorage } from './redis-throttler.storage';

@Global()
@Module({
  providers: [RateLimiter, RedisThrottlerStorage],
  exports: [RateLimiter, RedisThrottlerStorage],
})
export class RateLimitModule {}
