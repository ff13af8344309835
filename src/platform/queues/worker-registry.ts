import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DiscoveryService, Reflector } from '@nestjs/core';
import { Worker } from 'bullmq';
import { Cluster } from 'ioredis';
import { APP_CONFIG } from '../../config/config.module';
import type { AppConfig } from '../../config/app-config';
import { PROCESSES, type JobProcessor, type ProcessorDeclaration } from './job-processor';
import { QUEUES, queueOf, type JobName } from './queue-catalogue';
import { queueConnection, queuePrefix } from './redis-connection';

/**
 * The BullMQ workers of this process: one per processor declared with @Processes, created with
 * the configuration's lock and stalled-job settings (JOB_LOCK_MS, JOB_STALLED_INTERVAL_MS), closed
 * gracefully on shutdown (running jobs finish). Refuses to start when a job of the catalogue has no
 * processor, or a processor names a job of another queue.
 */
@Injectable()
export class WorkerRegistry implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WorkerRegistry.name);
  private readonly workers: Worker[] = [];
  /** On a Redis Cluster, the workers' cluster connections (BullMQ does not close them). */
  private readonly clusters: Cluster[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly reflector: Reflector,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The processors of this process and what each declares. */
  processors(): { instance: JobProcessor; declaration: ProcessorDeclaration }[] {
    return this.discovery.getProviders().flatMap((wrapper) => {
      const target = wrapper.metatype;
      if (!target || typeof target !== 'function' || !wrapper.instance) return [];
      const declaration = this.reflector.get<ProcessorDeclaration | undefined>(PROCESSES, target);
      return declaration ? [{ instance: wrapper.instance as JobProcessor, declaration }] : [];
    });
  }

  checkProcessors(): void {
    const handled = new Set<JobName>();
    for (const { declaration } of this.processors()) {
      for (const job of declaration.jobs) {
        if (queueOf(job).name !== declaration.queue) {
          throw new Error(
            `Refusing to start the worker: ${job} is not a job of ${declaration.queue}`,
          );
        }
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

  onApplicationBootstrap(): void {
    this.checkProcessors();
    for (const { instance, declaration } of this.processors()) {
      const connection = queueConnection(this.config.redis, 'worker');
      if (connection instanceof Cluster) this.clusters.push(connection);
      const worker = new Worker(declaration.queue, (job) => instance.process(job), {
        connection,
        prefix: queuePrefix(this.config.redis, declaration.queue),
        concurrency: declaration.concurrency,
        lockDuration: this.config.jobs.lockMs,
        stalledInterval: this.config.jobs.stalledIntervalMs,
        maxStalledCount: 2,
      });
      // Redis being away is expected (the worker reconnects): say so once in a while, not per retry.
      let lastLog = 0;
      worker.on('error', (error: Error) => {
        if (Date.now() - lastLog < 10_000) return;
        lastLog = Date.now();
        this.logger.warn(`worker ${declaration.queue}: ${error.message}`);
      });
      this.workers.push(worker);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.workers.splice(0).map((worker) => worker.close()));
    for (const cluster of this.clusters.splice(0)) cluster.disconnect();
  }
}
