import { Injectable, Logger } from '@nestjs/common';
import type { Job } from 'bullmq';
import { TenantRunner } from '../tenancy/tenant-runner.service';
import { TenantContext } from '../tenancy/tenant-context';
import type { Consumer } from './event-consumer.entity';

/**
 * Runs one consumer's work on one event under the event's org, and records a failed attempt in
 * PostgreSQL (the state the reconciler reads) before BullMQ retries it. When BullMQ has no
 * attempts left the row is marked dead, so the reconciler does not loop on a poison event.
 */
@Injectable()
export class ConsumerJobRunner {
  private readonly logger = new Logger(ConsumerJobRunner.name);

  constructor(private readonly tenants: TenantRunner) {}

  async run<T>(
    job: Job<{ orgId: string; eventId: string }>,
    consumer: Consumer,
    work: () => Promise<T>,
  ): Promise<T> {
    const { orgId, eventId } = job.data;
    try {
      return await this.tenants.run({ orgId, userId: null }, work);
    } catch (error) {
      const attempts = job.opts.attempts ?? 1;
      const dead = job.attemptsMade + 1 >= attempts;
      const message = error instanceof Error ? error.message : String(error);
      await this.tenants
        .run({ orgId, userId: null }, () =>
          TenantContext.em().execute('select rm_record_consumer_failure(?, ?, ?, ?::interval, ?)', [
            eventId,
            consumer,
            message,
            dead ? '100 years' : '2 minutes',
            dead,
          ]),
        )
        .catch((e: unknown) =>
          this.logger.warn(`could not record the failure of ${job.id}: ${String(e)}`),
        );
      throw error;
    }
  }
}
