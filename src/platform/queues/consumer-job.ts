import { Injectable, Logger } from '@nestjs/common';
import type { Job } from 'bullmq';
import { TenantRunner } from '../tenancy/tenant-runner.service';
import { Db } from '../tenancy/db.service';
import { OutboxMetrics } from './outbox-metrics';
import type { Consumer } from './outbox-types';
import type { ConsumerPayload } from './queue-catalogue';
import { childSpan, currentTraceparent, inSpan, SpanKind } from '../tracing/tracing';

/**
 * Runs one consumer's work on a batch of events of one org, in one tenant transaction. If the
 * batch fails, each event is retried on its own (a poison event must not hold its neighbours
 * back), and each failure is recorded in PostgreSQL (the state the reconciler reads) before BullMQ
 * retries the job. When BullMQ has no attempts left the failing rows are marked dead, so the
 * reconciler does not loop on a poison event.
 */
@Injectable()
export class ConsumerJobRunner {
  private readonly logger = new Logger(ConsumerJobRunner.name);

  constructor(
    private readonly tenants: TenantRunner,
    private readonly db: Db,
    private readonly metrics: OutboxMetrics,
  ) {}

  /**
   * `prepare` runs first in each transaction, with the events it will work on (e.g. to lock or to
   * read them all at once); `work` then runs per event (in its span when traced); `complete` runs
   * last, with the same events (e.g. to write what `work` gathered in one statement).
   */
  async run(
    job: Job<ConsumerPayload>,
    consumer: Consumer,
    work: (eventId: string) => Promise<unknown>,
    prepare: (eventIds: string[]) => Promise<unknown> = () => Promise.resolve(),
    complete: (eventIds: string[]) => Promise<unknown> = () => Promise.resolve(),
  ): Promise<number> {
    const scope = { orgId: job.data.orgId, userId: null };
    const traced = (eventId: string, i: number) =>
      inSpan(
        `${consumer} consumer`,
        job.data.traces?.[i],
        {
          kind: SpanKind.CONSUMER,
          attributes: spanAttributes(job, consumer, eventId),
        },
        async () => {
          // What this event's work writes to the outbox (a notification) continues its trace.
          const traceparent = currentTraceparent();
          if (traceparent) {
            await this.db.query(`select set_config('rm.traceparent', ?, true)`, [traceparent]);
          }
          return work(eventId);
        },
      );
    return this.inBatches(job, consumer, (ids, offset) =>
      this.tenants.run(scope, async () => {
        await prepare(ids);
        for (const [i, eventId] of ids.entries()) await traced(eventId, offset + i);
        await complete(ids);
      }),
    );
  }

  /**
   * A consumer whose work on a batch is one statement that enters the org's tenant itself (issue
   * 17: one round trip a job, no BEGIN, tenant entry or COMMIT of the service's). `statement` gets
   * the org, the events and, for each, the trace context its work continues: its consumer span,
   * when the event was traced. Failures are handled as in run().
   */
  async runStatement(
    job: Job<ConsumerPayload>,
    consumer: Consumer,
    statement: (orgId: string, eventIds: string[], traces: (string | null)[]) => Promise<unknown>,
  ): Promise<number> {
    return this.inBatches(job, consumer, async (ids, offset) => {
      const spans = ids.map((eventId, i) =>
        childSpan(`${consumer} consumer`, job.data.traces?.[offset + i], {
          kind: SpanKind.CONSUMER,
          attributes: spanAttributes(job, consumer, eventId),
        }),
      );
      try {
        await statement(
          job.data.orgId,
          ids,
          spans.map((span) => span?.traceparent ?? null),
        );
      } catch (error) {
        for (const span of spans) span?.end(error);
        throw error;
      }
      for (const span of spans) span?.end();
    });
  }

  /**
   * `attempt` on the whole batch; if it fails, on each event alone (a poison event must not hold
   * its neighbours back), each failure recorded. `offset` is the first event's index in the job.
   */
  private async inBatches(
    job: Job<ConsumerPayload>,
    consumer: Consumer,
    attempt: (eventIds: string[], offset: number) => Promise<void>,
  ): Promise<number> {
    const { eventIds } = job.data;
    try {
      await attempt(eventIds, 0);
      this.metrics.done(consumer, eventIds);
      return eventIds.length;
    } catch (batchError) {
      if (eventIds.length === 1) {
        this.metrics.failed(consumer);
        await this.recordFailure(job, consumer, eventIds[0], batchError);
        throw batchError;
      }
    }
    const failures: string[] = [];
    for (const [i, eventId] of eventIds.entries()) {
      try {
        await attempt([eventId], i);
        this.metrics.done(consumer, [eventId]);
      } catch (error) {
        failures.push(eventId);
        this.metrics.failed(consumer);
        await this.recordFailure(job, consumer, eventId, error);
      }
    }
    if (failures.length) {
      throw new Error(
        `${failures.length} of ${eventIds.length} events failed: ${failures.join(', ')}`,
      );
    }
    return eventIds.length;
  }

  private async recordFailure(
    job: Job,
    consumer: Consumer,
    eventId: string,
    error: unknown,
  ): Promise<void> {
    const attempts = job.opts.attempts ?? 1;
    const dead = job.attemptsMade + 1 >= attempts;
    const message = error instanceof Error ? error.message : String(error);
    await this.tenants
      .run({ orgId: (job.data as ConsumerPayload).orgId, userId: null }, () =>
        this.db.query('select rm_record_consumer_failure(?, ?, ?, ?::interval, ?)', [
          eventId,
          consumer,
          message,
          dead ? '100 years' : '2 minutes',
          dead,
        ]),
      )
      .catch((e: unknown) =>
        this.logger.warn(`could not record the failure of ${job.id}: ${String(e)}`),
      );
  }
}

/** The attributes of an event's consumer span. */
function spanAttributes(job: Job, consumer: Consumer, eventId: string) {
  return {
    'messaging.system': 'bullmq',
    'messaging.operation': 'process',
    'messaging.message.id': job.id ?? '',
    'rm.consumer': consumer,
    'rm.outbox_event_id': eventId,
  };
}
