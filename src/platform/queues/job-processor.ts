import { Logger, SetMetadata } from '@nestjs/common';
import { OnWorkerEvent, WorkerHost } from '@nestjs/bullmq';
import { UnrecoverableError, type Job } from 'bullmq';
import type { JobName, JobPayloads } from './queue-catalogue';

export const HANDLES_JOBS = 'rm:handlesJobs';

/** Declares which catalogue jobs a processor handles (checked at worker start). */
export const HandlesJobs = (...jobs: JobName[]) => SetMetadata(HANDLES_JOBS, jobs);

export type JobHandlers = { [J in JobName]?: (job: Job<JobPayloads[J]>) => Promise<unknown> };

/** A BullMQ processor that dispatches by job name; an unknown name fails without retries. */
export abstract class JobProcessor extends WorkerHost {
  protected abstract readonly handlers: JobHandlers;
  private lastErrorLog = 0;

  async process(job: Job): Promise<unknown> {
    const handler = this.handlers[job.name as JobName] as
      ((job: Job) => Promise<unknown>) | undefined;
    if (!handler) throw new UnrecoverableError(`No handler for job ${job.name}`);
    return handler(job);
  }

  /** Redis being away is expected (the worker reconnects); say so once in a while, not per retry. */
  @OnWorkerEvent('error')
  onWorkerError(error: Error): void {
    if (Date.now() - this.lastErrorLog < 10_000) return;
    this.lastErrorLog = Date.now();
    new Logger(this.constructor.name).warn(`worker: ${error.message}`);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A consumer job's payload: an org and 1..n event ids; anything else is poison. */
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
