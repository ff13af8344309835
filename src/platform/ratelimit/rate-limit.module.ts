import { Global, Module } from '@nestjs/common';
import { LocalLimits } from './local-limits';
import { RateLimiter } from './rate-limiter.service';

@Global()
@Module({
  providers: [RateLimiter, LocalLimits],
  exports: [RateLimiter, LocalLimits],
})
export class RateLimitModule {}
