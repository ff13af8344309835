import { Injectable } from '@nestjs/common';
import { Db } from '../platform/tenancy/db.service';
import type { WebhookEventType } from '../platform/queues/outbox-types';
import type { DeliveryStatus, DisabledReason } from './webhook-types';

export interface DeliveryRow {
  id: string;
  eventId: string;
  eventType: WebhookEventType;
  status: DeliveryStatus;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  createdAt: string;
  createdKey: string;
}

export interface AttemptRow {
  attempt: number;
  startedAt: string;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
  responseBody: string | null;
}

/** What one delivery attempt needs, read under the delivery's row lock. */
export interface DeliveryTarget {
  id: string;
  status: DeliveryStatus;
  attempts: number;
  dispatches: number;
  webhookId: string;
  payload: string;
  /** The trace context of the fan-out that created the delivery (its attempts continue it). */
  traceparent: string | null;
  endpointId: string;
  url: string;
  enabled: boolean;
  secretCiphertext: string;
  previousSecretCiphertext: string | null;
  previousSecretExpiresAt: string | null;
  failingSince: string | null;
}

const DELIVERY_COLUMNS = `
  d.id, d.event_id as "eventId", d.event_type as "eventType", d.status, d.attempts,
  d.last_status_code as "lastStatusCode", d.last_error as "lastError",
  d.next_attempt_at as "nextAttemptAt", d.created_at as "createdAt",
  to_char(d.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as "createdKey"`;

/** An endpoint as the service reads it (the secrets stay encrypted). */
export interface EndpointRow {
  id: string;
  url: string;
  description: string | null;
  events: WebhookEventType[];
  includeMessageBody: boolean;
  enabled: boolean;
  disabledReason: DisabledReason | null;
  secretCiphertext: string;
  previousSecretCiphertext: string | null;
  previousSecretExpiresAt: Date | string | null;
  failingSince: Date | string | null;
  createdAt: Date | string;
  updatedAt: Date | string;
  /** The list's sort key, with microseconds (a cursor must not lose them). */
  createdKey: string;
}

const ENDPOINT_COLUMNS = `
  e.id, e.url, e.description, e.events, e.include_message_body as "includeMessageBody", e.enabled,
  e.disabled_reason as "disabledReason", e.secret_ciphertext as "secretCiphertext",
  e.previous_secret_ciphertext as "previousSecretCiphertext",
  e.previous_secret_expires_at as "previousSecretExpiresAt", e.failing_since as "failingSince",
  e.created_at as "createdAt", e.updated_at as "updatedAt",
  to_char(e.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as "createdKey"`;

export interface EndpointChanges {
  url?: string;
  events?: WebhookEventType[];
  /** null clears it. */
  description?: string | null;
  includeMessageBody?: boolean;
  enabled?: boolean;
}

@Injectable()
export class WebhooksRepository {
  constructor(private readonly db: Db) {}

  async createEndpoint(input: {
    orgId: string;
    url: string;
    description: string | null;
    events: WebhookEventType[];
    includeMessageBody: boolean;
    secretCiphertext: string;
    createdBy: string;
  }): Promise<EndpointRow> {
    const row = await this.db.one<EndpointRow>(
      `insert into webhook_endpoints as e (id, org_id, url, description, events, include_message_body,
                                           secret_ciphertext, created_by)
       values (rm_uuid_v7(), ?, ?, ?, ?::text[], ?, ?, ?)
       returning ${ENDPOINT_COLUMNS}`,
      [
        input.orgId,
        input.url,
        input.description,
        input.events,
        input.includeMessageBody,
        input.secretCiphertext,
        input.createdBy,
      ],
    );
    return row!;
  }

  /** The org's endpoints, newest first (index-backed: webhook_endpoints_org_idx). */
  listEndpoints(
    orgId: string,
    limit: number,
    after: [string, string] | null,
  ): Promise<EndpointRow[]> {
    const params: unknown[] = [orgId];
    let cursor = '';
    if (after) {
      cursor = 'and (e.created_at, e.id) < (?::timestamptz, ?::uuid)';
      params.push(...after);
    }
    params.push(limit);
    return this.db.query<EndpointRow>(
      `select ${ENDPOINT_COLUMNS} from webhook_endpoints e
        where e.org_id = ? ${cursor}
        order by e.created_at desc, e.id desc limit ?`,
      params,
    );
  }

  findEndpoint(orgId: string, id: string): Promise<EndpointRow | null> {
    return this.db.one<EndpointRow>(
      `select ${ENDPOINT_COLUMNS} from webhook_endpoints e where e.org_id = ? and e.id = ?`,
      [orgId, id],
    );
  }

  /**
   * Applies the changes given (others stay). Disabling by hand records why and when; enabling
   * clears that and forgets the failure streak.
   */
  updateEndpoint(orgId: string, id: string, changes: EndpointChanges): Promise<EndpointRow | null> {
    const enabled = changes.enabled ?? null;
    return this.db.one<EndpointRow>(
      `update webhook_endpoints e set
              url = coalesce(?::text, e.url),
              events = coalesce(?::text[], e.events),
              description = case when ?::boolean then ?::text else e.description end,
              include_message_body = coalesce(?::boolean, e.include_message_body),
              enabled = coalesce(?::boolean, e.enabled),
              disabled_reason = case when ?::boolean is distinct from e.enabled and ?::boolean is not null
                                     then case when ?::boolean then null else 'manual' end
                                     else e.disabled_reason end,
              disabled_at = case when ?::boolean is distinct from e.enabled and ?::boolean is not null
                                 then case when ?::boolean then null else now() end
                                 else e.disabled_at end,
              failing_since = case when ?::boolean and not e.enabled then null else e.failing_since end,
              updated_at = now()
        where e.org_id = ? and e.id = ?
        returning ${ENDPOINT_COLUMNS}`,
      [
        changes.url ?? null,
        changes.events ?? null,
        changes.description !== undefined,
        changes.description ?? null,
        changes.includeMessageBody ?? null,
        enabled,
        enabled,
        enabled,
        enabled,
        enabled,
        enabled,
        enabled,
        enabled,
        orgId,
        id,
      ],
    );
  }

  async removeEndpoint(orgId: string, id: string): Promise<boolean> {
    const rows = await this.db.query(
      'delete from webhook_endpoints where org_id = ? and id = ? returning id',
      [orgId, id],
    );
    return rows.length > 0;
  }

  /** A new secret; the previous one keeps signing until `previousExpiresAt` (null: not at all). */
  rotateSecret(
    orgId: string,
    id: string,
    secretCiphertext: string,
    previousExpiresAt: Date | null,
  ): Promise<EndpointRow | null> {
    return this.db.one<EndpointRow>(
      `update webhook_endpoints e set
              previous_secret_ciphertext = case when ?::timestamptz is null then null else e.secret_ciphertext end,
              previous_secret_expires_at = ?::timestamptz,
              secret_ciphertext = ?,
              updated_at = now()
        where e.org_id = ? and e.id = ?
        returning ${ENDPOINT_COLUMNS}`,
      [previousExpiresAt, previousExpiresAt, secretCiphertext, orgId, id],
    );
  }

  refreshRoutes(): Promise<unknown> {
    return this.db.query('select rm_refresh_webhook_routes()');
  }

  deliveries(
    endpointId: string,
    status: DeliveryStatus | undefined,
    limit: number,
    after: [string, string] | null,
  ): Promise<DeliveryRow[]> {
    const params: unknown[] = [endpointId];
    let filters = '';
    if (status) {
      filters += ' and d.status = ?';
      params.push(status);
    }
    if (after) {
      filters += ' and (d.created_at, d.id) < (?::timestamptz, ?::uuid)';
      params.push(...after);
    }
    params.push(limit);
    return this.db.query<DeliveryRow>(
      `select ${DELIVERY_COLUMNS} from webhook_deliveries d
        where d.endpoint_id = ? ${filters}
        order by d.created_at desc, d.id desc limit ?`,
      params,
    );
  }

  delivery(id: string): Promise<(DeliveryRow & { endpointEnabled: boolean }) | null> {
    return this.db.one(
      `select ${DELIVERY_COLUMNS}, e.enabled as "endpointEnabled"
         from webhook_deliveries d join webhook_endpoints e on e.id = d.endpoint_id
        where d.id = ?`,
      [id],
    );
  }

  /**
   * Makes a delivery due now (a manual retry); the relay dispatches it. Its status keeps saying
   * how the last attempt went: exhausted becomes failed (attempts are left again), pending,
   * failed and succeeded stay. False when an attempt is in flight.
   */
  async scheduleNow(id: string): Promise<boolean> {
    // Not while an attempt is dispatched or under way (its lease runs): two attempts at once
    // would race to record their results, and one of them would be lost.
    const updated = await this.db.query(
      `update webhook_deliveries set status = case when status = 'exhausted' then 'failed' else status end,
              next_attempt_at = now(), lease_until = null, updated_at = now()
        where id = ? and (lease_until is null or lease_until <= now())
        returning id`,
      [id],
    );
    return updated.length > 0;
  }

  attempts(deliveryId: string): Promise<AttemptRow[]> {
    return this.db.query<AttemptRow>(
      `select attempt, started_at as "startedAt", duration_ms as "durationMs", status_code as "statusCode",
              error, response_body as "responseBody"
         from webhook_attempts where delivery_id = ? order by attempt`,
      [deliveryId],
    );
  }

  // ---- worker side ----

  /** Locks the event's webhooks consumer row; false when it is already done (a duplicate job). */
  async claimConsumer(eventId: string, orgId: string): Promise<boolean> {
    await this.db.query(
      `insert into event_consumers (event_id, org_id, consumer, next_attempt_at)
       values (?, ?, 'webhooks', now() + interval '1 minute') on conflict do nothing`,
      [eventId, orgId],
    );
    const row = await this.db.one<{ doneAt: string | null }>(
      `select done_at as "doneAt" from event_consumers where event_id = ? and consumer = 'webhooks' for no key update`,
      [eventId],
    );
    return row !== null && row.doneAt === null;
  }

  async completeConsumer(eventId: string): Promise<void> {
    await this.db.query(
      `update event_consumers set done_at = now(), attempts = attempts + 1, last_error = null
        where event_id = ? and consumer = 'webhooks'`,
      [eventId],
    );
  }

  event(eventId: string) {
    return this.db.one<{
      id: string;
      orgId: string;
      type: WebhookEventType;
      threadId: string;
      messageId: string | null;
      seq: number | null;
      actorId: string;
      createdAt: string;
      withheld: boolean | null;
    }>(
      `select e.id, e.org_id as "orgId", e.type, e.thread_id as "threadId", e.message_id as "messageId",
              e.seq, e.actor_id as "actorId", e.created_at as "createdAt", m.withheld
         from outbox_events e left join messages m on m.id = e.message_id
        where e.id = ?`,
      [eventId],
    );
  }

  subscribedEndpoints(type: WebhookEventType) {
    return this.db.query<{ id: string; includeMessageBody: boolean }>(
      `select id, include_message_body as "includeMessageBody" from webhook_endpoints
        where enabled and ? = any(events)`,
      [type],
    );
  }

  /**
   * The text of a message about to be rendered into payloads, share-locked until the fan-out
   * commits: a delete (which locks the row for update) then either comes first, and there is no
   * text to render, or waits and scrubs the deliveries this fan-out wrote.
   */
  async lockedBody(messageId: string): Promise<string | null> {
    const row = await this.db.one<{ body: string | null }>(
      'select body from messages where id = ? for share',
      [messageId],
    );
    return row?.body ?? null;
  }

  /** One delivery; its webhook-id (`msg_` + the delivery id's hex) is the same on every attempt. */
  async insertDelivery(input: {
    orgId: string;
    endpointId: string;
    eventId: string;
    eventType: WebhookEventType;
    payload: string;
    /** The message whose text the payload carries (so a delete can take it out again). */
    bodyMessageId: string | null;
    /** The fan-out's trace context, continued by every attempt; null when not traced. */
    traceparent: string | null;
  }): Promise<void> {
    await this.db.query(
      `insert into webhook_deliveries (id, org_id, endpoint_id, event_id, event_type, webhook_id, payload,
                                       body_message_id, traceparent, status, next_attempt_at)
       select d.id, ?, ?, ?, ?, 'msg_' || replace(d.id::text, '-', ''), ?, ?, ?, 'pending', now()
         from (select rm_uuid_v7() as id) d
       on conflict (event_id, endpoint_id) do nothing`,
      [
        input.orgId,
        input.endpointId,
        input.eventId,
        input.eventType,
        input.payload,
        input.bodyMessageId,
        input.traceparent,
      ],
    );
  }

  lockTarget(deliveryId: string): Promise<DeliveryTarget | null> {
    return this.db.one<DeliveryTarget>(
      `select d.id, d.status, d.attempts, d.dispatches, d.webhook_id as "webhookId", d.payload,
              d.traceparent, e.id as "endpointId", e.url, e.enabled, e.secret_ciphertext as "secretCiphertext",
              e.previous_secret_ciphertext as "previousSecretCiphertext",
              e.previous_secret_expires_at as "previousSecretExpiresAt", e.failing_since as "failingSince"
         from webhook_deliveries d join webhook_endpoints e on e.id = d.endpoint_id
        where d.id = ? for no key update of d`,
      [deliveryId],
    );
  }

  async extendLease(deliveryId: string, seconds: number): Promise<void> {
    await this.db.query(
      `update webhook_deliveries set lease_until = now() + make_interval(secs => ?) where id = ?`,
      [seconds, deliveryId],
    );
  }

  async exhaust(deliveryId: string, error: string): Promise<void> {
    await this.db.query(
      `update webhook_deliveries set status = 'exhausted', last_error = ?, next_attempt_at = null,
              lease_until = null, updated_at = now() where id = ?`,
      [error, deliveryId],
    );
  }

  /** Records one attempt and the delivery's new state; false when another worker recorded it. */
  async recordAttempt(input: {
    orgId: string;
    deliveryId: string;
    attempt: number;
    startedAt: Date;
    durationMs: number;
    statusCode: number | null;
    error: string | null;
    responseBody: string | null;
    status: DeliveryStatus;
    nextAttemptInMs: number | null;
  }): Promise<boolean> {
    const updated = await this.db.query(
      `update webhook_deliveries set attempts = ?, status = ?, last_status_code = ?, last_error = ?,
              next_attempt_at = case when ?::bigint is null then null else now() + make_interval(secs => ?::bigint / 1000.0) end,
              lease_until = null, updated_at = now()
        where id = ? and attempts = ? returning id`,
      [
        input.attempt,
        input.status,
        input.statusCode,
        input.error,
        input.nextAttemptInMs,
        input.nextAttemptInMs,
        input.deliveryId,
        input.attempt - 1,
      ],
    );
    if (!updated.length) return false;
    await this.db.query(
      `insert into webhook_attempts (org_id, delivery_id, attempt, started_at, duration_ms, status_code, error, response_body)
       values (?, ?, ?, ?, ?, ?, ?, ?) on conflict (delivery_id, attempt) do nothing`,
      [
        input.orgId,
        input.deliveryId,
        input.attempt,
        input.startedAt.toISOString(),
        input.durationMs,
        input.statusCode,
        input.error,
        input.responseBody,
      ],
    );
    return true;
  }

  /** Success clears the failure streak; a failure starts it. Returns when it started. */
  async markEndpointHealth(endpointId: string, ok: boolean): Promise<string | null> {
    const row = await this.db.one<{ failingSince: string | null }>(
      `update webhook_endpoints set failing_since = case when ? then null else coalesce(failing_since, now()) end
        where id = ? returning failing_since as "failingSince"`,
      [ok, endpointId],
    );
    return row?.failingSince ?? null;
  }

  async disableEndpoint(endpointId: string, reason: 'gone' | 'failing'): Promise<void> {
    await this.db.query(
      `update webhook_endpoints set enabled = false, disabled_reason = ?, disabled_at = now(), updated_at = now()
        where id = ? and enabled`,
      [reason, endpointId],
    );
    await this.refreshRoutes();
  }

  /**
   * Tells every active org admin that an endpoint was disabled: an in-app notification, and the
   * notification.created event for their event streams (written published: the streams are its
   * only consumer).
   */
  async notifyAdmins(endpointId: string): Promise<void> {
    await this.db.query(
      `with created as (
         insert into notifications (org_id, user_id, type, endpoint_id)
         select m.org_id, m.user_id, 'webhook.disabled', ? from memberships m
          where m.org_id = nullif(current_setting('app.org_id', true), '')::uuid
            and m.role = 'org_admin' and m.active
         returning id, org_id, user_id
       )
       insert into outbox_events (id, org_id, type, data, published_at)
       select rm_uuid_v7(), c.org_id, 'notification.created',
              jsonb_build_object('notificationId', c.id), now()
         from created c`,
      [endpointId],
    );
  }
}
