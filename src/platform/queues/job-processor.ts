import { SetMetadata } from '@nestjs/common';
import { UnrecoverableError, type Job } from 'bullmq';
import type { DeliveryDispatch, JobName, JobPayloads } from './queue-catalogue';
import { UUID } from '../ids';

export const PROCESSES = 'rm:processes';

/** What a processor class declares: its queue, how many jobs it runs at once, which jobs. */
export interface ProcessorDeclaration {
  queue: string;
  concurrency: number;
  jobs: JobName[];
}

/**
 * Declares a processor of `queue` handling `jobs` with `concurrency` jobs at once. The worker
 * (WorkerRegistry) creates one BullMQ worker per declaration, with the lock and stalled-job
 * settings from the configuration, and refuses to start when a catalogue job has no processor.
 */
export const Processes = (queue: string, concurrency: number, ...jobs: JobName[]) =>
  SetMetadata(PROCESSES, { queue, concurrency, jobs } satisfies ProcessorDeclaration);

export type JobHandlers = { [J in JobName]?: (job: Job<JobPayloads[J]>) => Promise<unknown> };

/** A BullMQ processor that dispatches by job name; an unknown name fails without retries. */
export abstract class JobProcessor {
  protected abstract readonly handlers: JobHandlers;

  process(job: Job): Promise<unknown> {
    const handler = this.handlers[job.name as JobName] as
      ((job: Job) => Promise<unknown>) | undefined;
    if (!handler) return Promise.reject(new UnrecoverableError(`No handler for job ${job.name}`));
    return handler(job);
  }
}

/**
 * A consumer job's payload: an org and 1..n event ids; anything else is poison. Its `traces` are
 * advisory: one that is not a well-formed traceparent only starts a new trace.
 */
export function requireConsumerPayload(job: Job): void {
  requireUuids(job, 'orgId');
  const ids = (job.data as { eventIds?: unknown })?.eventIds;
  if (
    !Array.isArray(ids) ||
    ids.length === 0 ||
    ids.some((id) => typeof id !== 'string' || !UUID.test(id))
  ) {
    throw new UnrecoverableError('Malformed payload: eventIds must be a non-empty list of UUIDs');
  }
}

/** Payload fields that must be UUIDs; a malformed payload is poison and fails without retries. */
export function requireUuids(job: Job, ...fields: string[]): void {
  const data = job.data as Record<string, unknown>;
  for (const field of fields) {
    const value = data?.[field];
    if (typeof value !== 'string' || !UUID.test(value)) {
      throw new UnrecoverableError(`Malformed payload: ${field} must be a UUID`);
    }
  }
}

/**
 * The deliveries a deliver-webhook job names: 1..n, each by UUID with integer attempt and dispatch
 * numbers (a job queued before the relay batched deliveries names one at the top level); anything
 * else is poison and fails without retries.
 */
export function requireDeliveryDispatches(
  job: Job<JobPayloads['deliver-webhook']>,
): DeliveryDispatch[] {
  requireUuids(job, 'orgId');
  const { deliveries, deliveryId, attempt, dispatch } = job.data ?? {};
  const list = deliveries ?? [{ deliveryId, attempt, dispatch }];
  const valid = (d: Partial<DeliveryDispatch> | undefined): d is DeliveryDispatch =>
    typeof d?.deliveryId === 'string' &&
    UUID.test(d.deliveryId) &&
    Number.isInteger(d.attempt) &&
    Number.isInteger(d.dispatch);
  if (!Array.isArray(list) || !list.length || !list.every(valid)) {
    throw new UnrecoverableError(
      'Malformed payload: deliveries must be a non-empty list of { deliveryId, attempt, dispatch }',
    );
  }
  return list;
}
