import type { Job } from 'bullmq';
import { ConsumerJobRunner } from '../../platform/queues/consumer-job';
import {
  Processes,
  JobProcessor,
  requireConsumerPayload,
  type JobHandlers,
} from '../../platform/queues/job-processor';
import type { JobPayloads } from '../../platform/queues/queue-catalogue';
import { NotificationsService } from '../notifications.service';

/** Outbox events → the in-app notifications they cause (idempotent; see rm_process_notifications). */
@Processes('notifications', 16, 'create-notifications')
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

  private create(job: Job<JobPayloads['create-notifications']>): Promise<number> {
    requireConsumerPayload(job);
    return this.runner.run(
      job,
      'notifications',
      (eventId) => this.notifications.processEvent(eventId),
      (eventIds) => this.notifications.lockParticipants(eventIds),
    );
  }
}
