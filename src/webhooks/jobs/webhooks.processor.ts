import type { Job } from 'bullmq';
import { ConsumerJobRunner } from '../../platform/queues/consumer-job';
import {
  Processes,
  JobProcessor,
  requireConsumerPayload,
  requireDeliveryDispatches,
  type JobHandlers,
} from '../../platform/queues/job-processor';
import { OutboxSignals } from '../../platform/queues/outbox-signals';
import type { JobPayloads } from '../../platform/queues/queue-catalogue';
import { WebhookDispatcher } from '../webhook-dispatcher.service';

/** deliver-webhook jobs a worker runs at once (each up to 16 deliveries of one endpoint). */
const DELIVERY_JOBS = 32;

/**
 * Webhook attempts: a job per up to 16 due deliveries of one endpoint (posted side by side), many
 * jobs at once: they wait on receivers, not on us.
 */
@Processes('webhook-deliveries', DELIVERY_JOBS, 'deliver-webhook')
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

  async deliver(job: Job<JobPayloads['deliver-webhook']>): Promise<Record<string, string>> {
    const list = requireDeliveryDispatches(job);
    // The job's id, the same when BullMQ runs it again after a crash (it may attempt again).
    const outcomes = await this.dispatcher.deliver(
      job.id ?? `${job.name}:${job.timestamp}`,
      job.data.orgId,
      list,
    );
    // Recorded attempts free their endpoint's slots: let the relay fill them (and wake the
    // consumers for what an attempt may have written, e.g. a webhook.disabled notification).
    this.signals.deliveries();
    this.signals.local();
    return outcomes;
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
    if (created) this.signals.deliveries();
    return events;
  }
}
