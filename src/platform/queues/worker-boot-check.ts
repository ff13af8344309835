import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, Reflector } from '@nestjs/core';
import { HANDLES_JOBS } from './job-processor';
import { QUEUES, type JobName } from './queue-catalogue';
import { RedisProbe } from '../../operations/redis-probe.service';
import { evictionPolicyWarning } from './redis-policy';

/**
 * Startup fails when a catalogue job has no processor in this (worker) process, and warns when
 * Redis may evict BullMQ's keys.
 */
@Injectable()
export class WorkerBootCheck implements OnApplicationBootstrap {
  private readonly logger = new Logger(WorkerBootCheck.name);

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly reflector: Reflector,
    private readonly redis: RedisProbe,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.checkProcessors();
    const warning = evictionPolicyWarning(await this.redis.maxmemoryPolicy());
    if (warning) this.logger.warn(warning);
  }

  checkProcessors(): void {
    const handled = new Set<JobName>();
    for (const wrapper of this.discovery.getProviders()) {
      const target = wrapper.metatype;
      if (!target || typeof target !== 'function') continue;
      for (const job of this.reflector.get<JobName[] | undefined>(HANDLES_JOBS, target) ?? []) {
        handled.add(job);
      }
    }
    const missing = QUEUES.flatMap((q) => q.jobs.filter((job) => !handled.has(job)));
    if (missing.length) {
      throw new Error(
        `Refusing to start the worker: no processor for job(s) ${missing.join(', ')}`,
      );
    }
  }
}
