import type { DefaultJobOptions } from 'bullmq';

/**
 * Every queue and job of the service, with typed payloads and options. Payloads carry ids and
 * the org, never message text. The worker refuses to start when a job here has no processor.
 */
export interface JobPayloads {
  /** Re-dispatch consumer work that is due and not done (lost jobs, Redis restarts). */
  'reconcile-outbox': Record<string, never>;
  /** Delete published events whose consumers are all done. */
  'prune-outbox': Record<string, never>;
  /** The in-app notifications of a few outbox events of one org (one transaction for all). */
  'create-notifications': ConsumerPayload;
  /** The webhook deliveries of a few outbox events of one org (one per subscribed endpoint). */
  'fan-out-webhooks': ConsumerPayload;
  /**
   * One attempt of each of a few deliveries of one endpoint (the relay batches them); `dispatch`
   * tells a current job from a stale duplicate. A job queued before batching has one delivery's
   * fields at the top level instead of `deliveries`.
   */
  'deliver-webhook': {
    orgId: string;
    deliveries?: DeliveryDispatch[];
  } & Partial<DeliveryDispatch>;
}

export type JobName = keyof JobPayloads;

/** One delivery a deliver-webhook job attempts: which attempt, under which dispatch. */
export interface DeliveryDispatch {
  deliveryId: string;
  attempt: number;
  dispatch: number;
}

/**
 * The events of one org that one consumer job works on. The relay batches up to
 * CONSUMER_BATCH events per job (one transaction for all of them); the reconciler sends one.
 */
export interface ConsumerPayload {
  orgId: string;
  eventIds: string[];
  /**
   * The trace context to continue for each event (same order as eventIds; null for an untraced
   * one). Present only when some event was traced (docs/operations.md, "Traces").
   */
  traces?: (string | null)[];
}

/** Small batches: a batch holds the recipients' participant rows locked until it commits. */
export const CONSUMER_BATCH = 25;

export interface QueueDefinition {
  name: string;
  description: string;
  jobs: readonly JobName[];
  defaultJobOptions: DefaultJobOptions;
}

const DAY = 24 * 3600;

/** Every queue's retries: exponential, with jitter. */
const BACKOFF = { type: 'exponential', delay: 1000, jitter: 0.5 } as const;

/** Both webhook queues: three tries, the last hour's or 10,000 finished jobs kept, failed ones a week. */
const WEBHOOK_JOB_OPTIONS: DefaultJobOptions = {
  attempts: 3,
  backoff: BACKOFF,
  removeOnComplete: { age: 3600, count: 10000 },
  removeOnFail: { age: 7 * DAY },
};

export const QUEUES: readonly QueueDefinition[] = [
  {
    name: 'outbox-relay',
    description:
      'Maintenance of the transactional outbox: the reconciler (every 15 s) re-dispatches consumer work that is due and not done; pruning (every 10 min) deletes finished events. The relay loop itself runs in every worker and is not a job.',
    jobs: ['reconcile-outbox', 'prune-outbox'],
    defaultJobOptions: {
      attempts: 3,
      backoff: BACKOFF,
      removeOnComplete: { count: 100 },
      removeOnFail: { age: 7 * DAY },
    },
  },
  {
    name: 'notifications',
    description:
      'In-app notifications: one create-notifications job per thread.created / message.created event.',
    jobs: ['create-notifications'],
    defaultJobOptions: {
      attempts: 5,
      backoff: BACKOFF,
      removeOnComplete: { age: 3600, count: 10000 },
      removeOnFail: { age: 7 * DAY },
    },
  },
  {
    name: 'webhooks',
    description:
      "Webhooks: fan-out-webhooks renders one delivery per subscribed endpoint of an event (the attempts are the webhook-deliveries queue's).",
    jobs: ['fan-out-webhooks'],
    defaultJobOptions: WEBHOOK_JOB_OPTIONS,
  },
  {
    name: 'webhook-deliveries',
    description:
      'Webhook attempts: deliver-webhook makes one signed attempt of each of a few due deliveries of one endpoint (the relay batches them). A queue of its own, so that receivers that answer slowly never hold the fan-out. The retry schedule lives in PostgreSQL (webhook_deliveries.next_attempt_at); the relay dispatches deliveries when due, at most WEBHOOK_CONCURRENCY_PER_ENDPOINT of an endpoint at once (one while it fails), so BullMQ retries only crashes.',
    jobs: ['deliver-webhook'],
    defaultJobOptions: WEBHOOK_JOB_OPTIONS,
  },
];

/** Which job serves each consumer of outbox events. */
export const CONSUMER_JOBS = {
  notifications: 'create-notifications',
  webhooks: 'fan-out-webhooks',
} as const satisfies Record<string, JobName>;

export function queueOf(job: JobName): QueueDefinition {
  const queue = QUEUES.find((q) => q.jobs.includes(job));
  if (!queue) throw new Error(`No queue declares job ${String(job)}`);
  return queue;
}
