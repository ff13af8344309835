import type { DefaultJobOptions } from 'bullmq';

/**
 * Every queue and job of the service, with typed payloads and options. Payloads carry ids and
 * the org, never message text. The worker refuses to start when a job here has no processor.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled as queues are declared
export interface JobPayloads {}

export type JobName = keyof JobPayloads;

export interface QueueDefinition {
  name: string;
  description: string;
  jobs: readonly JobName[];
  defaultJobOptions: DefaultJobOptions;
}

export const QUEUES: readonly QueueDefinition[] = [];

export function queueOf(job: JobName): QueueDefinition {
  const queue = QUEUES.find((q) => q.jobs.includes(job));
  if (!queue) throw new Error(`No queue declares job ${String(job)}`);
  return queue;
}
