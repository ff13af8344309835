import type { Job } from 'bullmq';
import { ConsumerJobRunner } from '../../platform/queues/consumer-job';
import {
  Processes,
  JobProcessor,
  requireConsumerPayload,
  requireUuids,
  type JobHandlers,
} from '../../platform/queues/job-processor';
import { OutboxSignals } from '../../platform/queues/outbox-signals';
import type { JobPayloads } from '../../platform/queues/queue-catalogue';
import { DELIVERY_CONCURRENCY } from '../http-delivery';
import { WebhookDispatcher } from '../webhook-dispatcher.service';

/** Webhook attempts (one job per attempt), many at once: they wait on receivers, not on us. */
@Processes('webhook-deliveries', DELIVERY_CONCURRENCY, 'deliver-webhook')
export class WebhookDeliveriesProcessor extends JobProcessor {
  protected readonly handlers: JobHandlers = {
    'deliver-webhook': (job) => this.deliver(job),
  };

  constructor(
    private readonly dispatcher: WebhookDispatcher,
    private readonly signals: OutboxSignals,
  ) {
    super();
  }

  async deliver(job: Job<JobPayloads['deliver-webhook']>): Promise<string> {
    requireUuids(job, 'orgId', 'deliveryId');
    const outcome = await this.dispatcher.deliver(job.data);
    // A recorded attempt frees one of its endpoint's slots: let the relay fill it.
    this.signals.local();
    return outcome;
  }
}

/** Webhook fan-out: one delivery per subscribed endpoint of each event of the job (a batch). */
@Processes('webhooks', 16, 'fan-out-webhooks')
export class WebhooksProcessor extends JobProcessor {
  protected readonly handlers: JobHandlers = {
    'fan-out-webhooks': (job) => this.fanOut(job),
    // Attempts queued here before they had a queue of their own (an upgrade): run them too.
    'deliver-webhook': (job) => this.deliveries.deliver(job),
  };

  constructor(
    private readonly runner: ConsumerJobRunner,
    private readonly dispatcher: WebhookDispatcher,
    private readonly signals: OutboxSignals,
    private readonly deliveries: WebhookDeliveriesProcessor,
  ) {
    super();
  }

  private async fanOut(job: Job<JobPayloads['fan-out-webhooks']>): Promise<number> {
    requireConsumerPayload(job);
    const batch = this.dispatcher.fanOutBatch(job.data.orgId);
    let created = 0;
    const events = await this.runner.run(
      job,
      'webhooks',
      (eventId) => batch.work(eventId),
      (eventIds) => batch.prepare(eventIds),
      async (eventIds) => {
        created += await batch.complete(eventIds);
      },
    );
    // New deliveries are due now: the relay dispatches them without waiting for its poll.
    if (created) this.signals.local();
    return events;
  }
}
