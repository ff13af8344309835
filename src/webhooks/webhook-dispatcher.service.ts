import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/app-config';
import { TenantRunner } from '../platform/tenancy/tenant-runner.service';
import { currentTraceparent, inSpan } from '../platform/tracing/tracing';
import { postWebhook, type PostResult } from './http-delivery';
import { renderPayload } from './payload';
import { nextDelayMs } from './retry-policy';
import { decryptSecret } from './secrets';
import { webhookHeaders } from './signing';
import type { Resolver } from './ssrf';
import { WebhookMetrics } from './webhook-metrics';
import type { DeliveryStatus } from './webhook-types';
import {
  WebhooksRepository,
  type DeliveryTarget,
  type FanOutSource,
  type NewDelivery,
  type RecordedAttempt,
} from './webhooks.repository';
import type { DeliveryDispatch } from '../platform/queues/queue-catalogue';

/**
 * The resolver used at connect time: DNS unless `resolve` is set. A seam for the SSRF tests,
 * which make a public-looking hostname resolve to 127.0.0.1.
 */
export const WEBHOOK_RESOLVER = Symbol('WEBHOOK_RESOLVER');
export interface ResolverHolder {
  resolve: Resolver | null;
}

/** The worker side of webhooks: fan events out to deliveries, make the attempts of a batch. */
@Injectable()
export class WebhookDispatcher {
  constructor(
    private readonly repo: WebhooksRepository,
    private readonly tenants: TenantRunner,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(WEBHOOK_RESOLVER) private readonly resolver: ResolverHolder,
    private readonly metrics: WebhookMetrics,
  ) {}

  /**
   * The fan-out of one job's events (run by ConsumerJobRunner, in the events' tenant transaction):
   * one delivery per enabled endpoint subscribed to each event, its body rendered once. Two
   * statements for the whole batch: `prepare` reads every event with its consumer row locked (a
   * duplicate job waits, then finds them done) and `complete` writes every delivery (unique per
   * event and endpoint) and marks the events done; `work` renders, reading a message's text (share-
   * locked) only for endpoints that asked for it. `complete` returns how many deliveries it wrote.
   */
  fanOutBatch(orgId: string): {
    prepare(eventIds: string[]): Promise<void>;
    work(eventId: string): Promise<void>;
    complete(eventIds: string[]): Promise<number>;
  } {
    let sources = new Map<string, FanOutSource>();
    let deliveries: NewDelivery[] = [];
    let finished: string[] = [];
    return {
      prepare: async (eventIds) => {
        sources = new Map((await this.repo.fanOutSources(eventIds)).map((s) => [s.eventId, s]));
        deliveries = [];
        finished = [];
      },
      work: async (eventId) => {
        let source = sources.get(eventId);
        if (!source) {
          // No consumer row (the relay records it: a job from elsewhere), or the event is gone.
          await this.repo.recordConsumer(eventId, orgId);
          [source] = await this.repo.fanOutSources([eventId]);
          if (!source) {
            finished.push(eventId);
            return;
          }
        }
        if (source.doneAt) return;
        finished.push(eventId);
        const { event, endpoints } = source;
        const targets = event.withheld ? [] : endpoints;
        const body =
          event.type === 'message.created' &&
          event.messageId &&
          targets.some((e) => e.includeMessageBody)
            ? await this.repo.lockedBody(event.messageId)
            : null;
        // What this event's deliveries continue: the consumer span's context (when traced).
        const traceparent = currentTraceparent();
        for (const endpoint of targets) {
          const withBody = endpoint.includeMessageBody && body !== null;
          deliveries.push({
            eventId,
            endpointId: endpoint.id,
            eventType: event.type,
            payload: renderPayload(event, withBody ? body : null),
            bodyMessageId: withBody ? event.messageId : null,
            traceparent,
          });
        }
      },
      complete: () => this.repo.completeFanOut({ orgId, eventIds: finished, deliveries }),
    };
  }

  /**
   * One attempt of each delivery of a job (deliveries of one endpoint, batched by the relay): one
   * statement locks them, checks that this job holds their current dispatch and leases them; the
   * POSTs go out side by side, outside any transaction; one statement records every attempt,
   * schedules the next (or stops) and keeps the endpoint's failure streak. Returns each delivery's
   * outcome.
   */
  async deliver(
    jobId: string,
    orgId: string,
    dispatches: DeliveryDispatch[],
  ): Promise<Record<string, string>> {
    const scope = { orgId, userId: null };
    const outcomes: Record<string, string> = {};
    const targets = await this.tenants.run(scope, () => this.start(jobId, dispatches, outcomes));
    // Counted once committed.
    for (const outcome of Object.values(outcomes)) {
      if (outcome === 'endpoint-disabled') this.metrics.outcome(outcome);
    }
    if (!targets.length) return outcomes;
    const attempts = await Promise.all(
      targets.map((target) =>
        inSpan(
          'webhook attempt',
          target.traceparent,
          {
            attributes: {
              'rm.webhook_delivery_id': target.id,
              'rm.webhook_attempt': target.attempts + 1,
              'rm.webhook_endpoint_id': target.endpointId,
            },
          },
          () => this.attempt(target),
        ),
      ),
    );
    const recorded = await this.tenants.run(scope, () => this.finish(orgId, targets, attempts));
    for (const [i, target] of targets.entries()) {
      const outcome = recorded.has(target.id) ? attempts[i].status : 'stale';
      outcomes[target.id] = outcome;
      if (outcome !== 'stale' && outcome !== 'pending') this.metrics.outcome(outcome);
    }
    return outcomes;
  }

  /** The deliveries this job may attempt; the others' outcomes go into `outcomes`. */
  private async start(
    jobId: string,
    dispatches: DeliveryDispatch[],
    outcomes: Record<string, string>,
  ): Promise<DeliveryTarget[]> {
    const rows = await this.repo.startAttempts(
      jobId,
      dispatches,
      Math.ceil(this.config.webhooks.timeoutMs / 1000) + 60,
    );
    const found = new Map(rows.map((row) => [row.id, row]));
    const targets: DeliveryTarget[] = [];
    for (const wanted of dispatches) {
      const target = found.get(wanted.deliveryId);
      if (!target) outcomes[wanted.deliveryId] = 'vanished';
      else if (target.leased) targets.push(target);
      // A succeeded delivery is claimed again only when redelivered by hand.
      else if (target.status === 'exhausted') outcomes[target.id] = 'finished';
      // Attempt and dispatch numbers tell a current job from a stale one; a current dispatch that
      // was not leased to this job was started by another.
      else if (
        target.attempts + 1 !== wanted.attempt ||
        target.dispatches !== wanted.dispatch ||
        target.enabled
      )
        outcomes[target.id] = 'stale';
      else {
        await this.repo.exhaust(target.id, 'endpoint disabled');
        outcomes[target.id] = 'endpoint-disabled';
      }
    }
    return targets;
  }

  /** POSTs once (the HTTP instrumentation's client span and its `traceparent` header inside). */
  private async attempt(target: DeliveryTarget): Promise<RecordedAttempt & { result: PostResult }> {
    const startedAt = new Date();
    const attempt = target.attempts + 1;
    const secrets = [decryptSecret(target.secretCiphertext, this.config.webhooks.encryptionKey)];
    if (
      target.previousSecretCiphertext &&
      target.previousSecretExpiresAt &&
      new Date(target.previousSecretExpiresAt) > startedAt
    ) {
      secrets.push(
        decryptSecret(target.previousSecretCiphertext, this.config.webhooks.encryptionKey),
      );
    }
    const result = await postWebhook({
      url: target.url,
      body: target.payload,
      headers: webhookHeaders(secrets, target.webhookId, target.payload, startedAt),
      timeoutMs: this.config.webhooks.timeoutMs,
      allowPrivate: this.config.webhooks.allowPrivateUrls,
      resolver: this.resolver.resolve ?? undefined,
    });
    this.metrics.attempted(result);
    let status: DeliveryStatus = 'succeeded';
    let nextIn: number | null = null;
    if (!result.ok) {
      nextIn =
        result.statusCode === 410
          ? null
          : nextDelayMs(
              attempt,
              this.config.webhooks.retryScheduleSeconds,
              result.retryAfterSeconds,
            );
      status = nextIn === null ? 'exhausted' : 'failed';
    }
    return {
      deliveryId: target.id,
      attempt,
      startedAt,
      durationMs: result.durationMs,
      statusCode: result.statusCode,
      error: result.error,
      responseBody: result.responseBody,
      status,
      nextAttemptInMs: nextIn,
      result,
    };
  }

  /**
   * Records the attempts; disables the endpoint on 410 (gone) or when it has failed for longer
   * than WEBHOOK_DISABLE_AFTER_HOURS, and tells its org's admins. Returns the deliveries recorded.
   */
  private async finish(
    orgId: string,
    targets: DeliveryTarget[],
    attempts: (RecordedAttempt & { result: PostResult })[],
  ): Promise<Set<string>> {
    const endpointId = targets[0].endpointId;
    const { recorded, failingSince } = await this.repo.recordAttempts({
      orgId,
      endpointId,
      ok: attempts.some((a) => a.result.ok),
      attempts,
    });
    if (!recorded.size) return recorded;
    const gone = attempts.some((a) => recorded.has(a.deliveryId) && a.statusCode === 410);
    if (gone) {
      await this.repo.disableEndpoint(endpointId, 'gone');
      await this.repo.notifyAdmins(endpointId);
    } else if (
      failingSince &&
      Date.now() - new Date(failingSince).getTime() >
        this.config.webhooks.disableAfterHours * 3600_000
    ) {
      await this.repo.disableEndpoint(endpointId, 'failing');
      await this.repo.notifyAdmins(endpointId);
    }
    return recorded;
  }
}
