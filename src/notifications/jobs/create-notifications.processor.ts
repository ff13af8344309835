import type { Job } from 'bullmq';
import { ConsumerJobRunner } from '../../platform/queues/consumer-job';
import {
  Processes,
  JobProcessor,
  requireConsumerPayload,
  type JobHandlers,
} from '../../platform/queues/job-processor';
import type { JobPayloads } from '../../platform/queues/queue-catalogue';
import { OutboxSignals } from '../../platform/queues/outbox-signals';
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
    private readonly signals: OutboxSignals,
  ) {
    super();
  }

  private async create(job: Job<JobPayloads['create-notifications']>): Promise<number> {
    requireConsumerPayload(job);
    const done = await this.runner.runStatement(job, 'notifications', (orgId, eventIds, traces) =>
      this.notifications.processBatch(orgId, eventIds, traces),
    );
    // The notifications it made wait for the event streams: wake the pump.
    this.signals.local();
    return done;
  }
}
