import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { RedisProbe } from './redis-probe.service';
import { evictionPolicyWarning } from './redis-policy';

/** Warns at worker start when Redis may evict BullMQ's keys (it needs noeviction). */
@Injectable()
export class WorkerBootCheck implements OnApplicationBootstrap {
  private readonly logger = new Logger(WorkerBootCheck.name);

  constructor(private readonly redis: RedisProbe) {}

  async onApplicationBootstrap(): Promise<void> {
    const warning = evictionPolicyWarning(await this.redis.maxmemoryPolicy());
    if (warning) this.logger.warn(warning);
  }
}
