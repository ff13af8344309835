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
} from './webhooks.repository';

/**
 * The resolver used at connect time: DNS unless `resolve` is set. A seam for the SSRF tests,
 * which make a public-looking hostname resolve to 127.0.0.1.
 */
export const WEBHOOK_RESOLVER = Symbol('WEBHOOK_RESOLVER');
export interface ResolverHolder {
  resolve: Resolver | null;
}

/** The worker side of webhooks: fan an event out to deliveries, make one delivery attempt. */
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
   * One attempt: under the delivery's row lock check that this job is the current one and take a
   * lease (one statement); POST outside any transaction; then record the attempt, schedule the next
   * (or stop) and keep the endpoint's failure streak (one statement).
   */
  async deliver(job: {
    orgId: string;
    deliveryId: string;
    attempt: number;
    dispatch: number;
  }): Promise<string> {
    const scope = { orgId: job.orgId, userId: null };
    const target = await this.tenants.run(scope, () => this.start(job));
    if (typeof target === 'string') {
      if (target === 'endpoint-disabled') this.metrics.outcome(target);
      return target;
    }

    return inSpan(
      'webhook attempt',
      target.traceparent,
      {
        attributes: {
          'rm.webhook_delivery_id': target.id,
          'rm.webhook_attempt': job.attempt,
          'rm.webhook_endpoint_id': target.endpointId,
        },
      },
      () => this.attempt(job, target),
    );
  }

  /** POSTs once (the HTTP instrumentation's client span and its `traceparent` header inside). */
  private async attempt(
    job: { orgId: string; deliveryId: string; attempt: number },
    target: DeliveryTarget,
  ): Promise<string> {
    const scope = { orgId: job.orgId, userId: null };
    const startedAt = new Date();
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
    const outcome = await this.tenants.run(scope, () =>
      this.finish(job, target, startedAt, result),
    );
    if (outcome !== 'stale' && outcome !== 'pending') this.metrics.outcome(outcome);
    return outcome;
  }

  private async start(job: {
    deliveryId: string;
    attempt: number;
    dispatch: number;
  }): Promise<DeliveryTarget | string> {
    const target = await this.repo.startAttempt({
      deliveryId: job.deliveryId,
      attempt: job.attempt,
      dispatch: job.dispatch,
      leaseSeconds: Math.ceil(this.config.webhooks.timeoutMs / 1000) + 60,
    });
    if (!target) return 'vanished';
    if (target.leased) return target;
    // A succeeded delivery is claimed again only when redelivered by hand (the attempt and
    // dispatch numbers tell a current job from a stale one).
    if (target.status === 'exhausted') return 'finished';
    if (target.attempts + 1 !== job.attempt || target.dispatches !== job.dispatch) return 'stale';
    await this.repo.exhaust(target.id, 'endpoint disabled');
    return 'endpoint-disabled';
  }

  private async finish(
    job: { orgId: string; deliveryId: string; attempt: number },
    target: DeliveryTarget,
    startedAt: Date,
    result: PostResult,
  ): Promise<DeliveryStatus | 'stale'> {
    let status: DeliveryStatus = 'succeeded';
    let nextIn: number | null = null;
    if (!result.ok) {
      nextIn =
        result.statusCode === 410
          ? null
          : nextDelayMs(
              job.attempt,
              this.config.webhooks.retryScheduleSeconds,
              result.retryAfterSeconds,
            );
      status = nextIn === null ? 'exhausted' : 'failed';
    }
    const { recorded, failingSince } = await this.repo.recordAttempt({
      orgId: job.orgId,
      deliveryId: target.id,
      endpointId: target.endpointId,
      ok: result.ok,
      attempt: job.attempt,
      startedAt,
      durationMs: result.durationMs,
      statusCode: result.statusCode,
      error: result.error,
      responseBody: result.responseBody,
      status,
      nextAttemptInMs: nextIn,
    });
    if (!recorded) return 'stale';
    if (result.statusCode === 410) {
      await this.repo.disableEndpoint(target.endpointId, 'gone');
      await this.repo.notifyAdmins(target.endpointId);
    } else if (
      failingSince &&
      Date.now() - new Date(failingSince).getTime() >
        this.config.webhooks.disableAfterHours * 3600_000
    ) {
      await this.repo.disableEndpoint(target.endpointId, 'failing');
      await this.repo.notifyAdmins(target.endpointId);
    }
    return status;
  }
}
