import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { getQueueToken } from '@nestjs/bullmq';
import type { JobsOptions, Queue } from 'bullmq';
import { QUEUES, queueOf, type JobName, type JobPayloads } from './queue-catalogue';

export class QueueTimeoutError extends Error {
  constructor(ms: number) {
    super(`Redis did not accept the job within ${ms} ms`);
    this.name = 'QueueTimeoutError';
  }
}

/** The declared queues, and a typed, time-bounded way to add jobs to them. */
@Injectable()
export class QueueRegistry implements OnModuleInit {
  private readonly logger = new Logger(QueueRegistry.name);
  private readonly queues = new Map<string, Queue>();

  constructor(private readonly moduleRef: ModuleRef) {}

  onModuleInit(): void {
    this.resolve();
  }

  /** Resolves the queues once (also when asked before module init, e.g. to mount the dashboard). */
  private resolve(): void {
    if (this.queues.size) return;
    for (const def of QUEUES) {
      const queue = this.moduleRef.get<Queue>(getQueueToken(def.name), { strict: false });
      let lastLog = 0;
      // Without a listener an 'error' event would crash the process; Redis being down is expected.
      queue.on('error', (error: Error) => {
        if (Date.now() - lastLog > 10_000) {
          lastLog = Date.now();
          this.logger.warn(`queue ${def.name}: ${error.message}`);
        }
      });
      this.queues.set(def.name, queue);
    }
  }

  all(): Queue[] {
    this.resolve();
    return [...this.queues.values()];
  }

  get(name: string): Queue {
    this.resolve();
    const queue = this.queues.get(name);
    if (!queue) throw new Error(`Unknown queue ${name}`);
    return queue;
  }

  async addBulk<J extends JobName>(
    job: J,
    items: { data: JobPayloads[J]; opts: JobsOptions & { jobId: string } }[],
    timeoutMs = 2000,
  ): Promise<void> {
    if (!items.length) return;
    const queue = this.get(queueOf(job).name);
    await withTimeout(
      queue.addBulk(items.map((item) => ({ name: job, data: item.data, opts: item.opts }))),
      timeoutMs,
    );
  }

  async add<J extends JobName>(
    job: J,
    data: JobPayloads[J],
    opts: JobsOptions & { jobId: string },
    timeoutMs = 2000,
  ): Promise<void> {
    await withTimeout(this.get(queueOf(job).name).add(job, data, opts), timeoutMs);
  }
}

export async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new QueueTimeoutError(ms)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
