import { WORKER_METADATA } from '@nestjs/bullmq/dist/bull.constants';
import type { AppConfig } from '../../config/app-config';

/**
 * Worker options come from @Processor decorator metadata, evaluated at import time; the lock and
 * stalled-job settings come from configuration, so they are merged in when the module is built
 * (before @nestjs/bullmq creates the workers).
 */
export function tuneWorker(
  processor: abstract new (...args: never[]) => unknown,
  config: AppConfig,
): void {
  const current = (Reflect.getMetadata(WORKER_METADATA, processor) ?? {}) as Record<
    string,
    unknown
  >;
  Reflect.defineMetadata(
    WORKER_METADATA,
    {
      ...current,
      lockDuration: config.jobs.lockMs,
      stalledInterval: config.jobs.stalledIntervalMs,
      maxStalledCount: 2,
    },
    processor,
  );
}
