import type { Job } from 'bullmq';
import { ConsumerJobRunner } from '../../platform/queues/consumer-job';
import {
  Processes,
  JobProcessor,
  requireConsumerPayload,
  requireUuids,
  type JobHandlers,
} from '../../platform/queues/job-processor';
import type { JobPayloads } from '../../platform/queues/queue-catalogue';
import { WebhookDispatcher } from '../webhook-dispatcher.service';

/** Webhook fan-out (one job per event) and delivery attempts (one job per attempt). */
@Processes('webhooks', 32, 'fan-out-webhooks', 'deliver-webhook')
export class WebhooksProcessor extends JobProcessor {
  protected readonly handlers: JobHandlers = {
    'fan-out-webhooks': (job) => this.fanOut(job),
    'deliver-webhook': (job) => this.deliver(job),
  };

  constructor(
    private readonly runner: ConsumerJobRunner,
    private readonly dispatcher: WebhookDispatcher,
  ) {
    super();
  }

  private fanOut(job: Job<JobPayloads['fan-out-webhooks']>): Promise<number> {
    requireConsumerPayload(job);
    return this.runner.run(job, 'webhooks', (eventId) =>
      this.dispatcher.fanOut(job.data.orgId, eventId),
    );
  }

  private deliver(job: Job<JobPayloads['deliver-webhook']>): Promise<string> {
    requireUuids(job, 'orgId', 'deliveryId');
    return this.dispatcher.deliver(job.data);
  }
}
