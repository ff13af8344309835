import { Processor } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { ConsumerJobRunner } from '../../platform/queues/consumer-job';
import {
  HandlesJobs,
  JobProcessor,
  requireUuids,
  type JobHandlers,
} from '../../platform/queues/job-processor';
import type { JobPayloads } from '../../platform/queues/queue-catalogue';
import { NotificationsService } from '../notifications.service';

/** One outbox event → the in-app notifications it causes (idempotent; see rm_process_notifications). */
@Processor('notifications', { concurrency: 16 })
@HandlesJobs('create-notifications')
export class CreateNotificationsProcessor extends JobProcessor {
  protected readonly handlers: JobHandlers = {
    'create-notifications': (job) => this.create(job),
  };

  constructor(
    private readonly runner: ConsumerJobRunner,
    private readonly notifications: NotificationsService,
  ) {
    super();
  }

  private create(job: Job<JobPayloads['create-notifications']>): Promise<string> {
    requireUuids(job, 'orgId', 'eventId');
    return this.runner.run(job, 'notifications', () =>
      this.notifications.processEvent(job.data.eventId),
    );
  }
}
