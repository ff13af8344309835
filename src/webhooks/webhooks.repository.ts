import { Injectable } from '@nestjs/common';
import { Db } from '../platform/tenancy/db.service';
import type { WebhookEventType } from '../platform/queues/outbox-types';
import type { DeliveryDispatch } from '../platform/queues/queue-catalogue';
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
/** What a fan-out reads of one event (WebhooksRepository.fanOutSources). */
export interface FanOutSource {
  eventId: string;
  doneAt: string | null;
  event: {
    id: string;
    orgId: string;
    type: WebhookEventType;
    threadId: string;
    messageId: string | null;
    seq: number | null;
    actorId: string;
    createdAt: string;
    withheld: boolean | null;
  };
  endpoints: { id: string; includeMessageBody: boolean }[];
}

/** One delivery a fan-out writes. */
export interface NewDelivery {
  eventId: string;
  endpointId: string;
  eventType: WebhookEventType;
  payload: string;
  /** The message whose text the payload carries (so a delete can take it out again). */
  bodyMessageId: string | null;
  /** The fan-out's trace context, continued by every attempt; null when not traced. */
  traceparent: string | null;
}

/** One attempt made, as recordAttempts writes it. */
export interface RecordedAttempt {
  deliveryId: string;
  attempt: number;
  startedAt: Date;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
  responseBody: string | null;
  status: DeliveryStatus;
  nextAttemptInMs: number | null;
}

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

  /**
   * What the fan-out of a few events needs, in one statement: each event's webhooks consumer row,
   * locked in id order (a duplicate job then waits and finds it done), the event, whether its
   * message is withheld, and the enabled endpoints subscribed to its type. An event whose consumer
   * row or event is missing has no row.
   */
  fanOutSources(eventIds: string[]) {
    return this.db.query<FanOutSource>(
      `select c.event_id as "eventId", c.done_at as "doneAt",
              json_build_object('id', e.id, 'orgId', e.org_id, 'type', e.type, 'threadId', e.thread_id,
                                'messageId', e.message_id, 'seq', e.seq, 'actorId', e.actor_id,
                                'createdAt', e.created_at, 'withheld', m.withheld) as event,
              coalesce((select json_agg(json_build_object('id', w.id,
                                                          'includeMessageBody', w.include_message_body)
                                        order by w.id)
                          from webhook_endpoints w
                         where w.enabled and e.type = any(w.events)), '[]'::json) as endpoints
         from event_consumers c
         join outbox_events e on e.id = c.event_id
         left join messages m on m.id = e.message_id
        where c.event_id = any(?::uuid[]) and c.consumer = 'webhooks'
        order by c.event_id
        for no key update of c`,
      [eventIds],
    );
  }

  /**
   * Records the webhooks consumer row of an event that has none (the relay normally does), with
   * the event key-share locked as a foreign key would (pruning cannot take it meanwhile).
   */
  async recordConsumer(eventId: string, orgId: string): Promise<void> {
    await this.db.query(
      `insert into event_consumers (event_id, org_id, consumer, next_attempt_at)
       select e.id, e.org_id, 'webhooks', now() + interval '1 minute' from outbox_events e
        where e.id = ? and e.org_id = ?
          for key share
       on conflict do nothing`,
      [eventId, orgId],
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

  /**
   * The deliveries of a few events (one per event and endpoint; a delivery's webhook-id, `msg_` +
   * its id's hex, is the same on every attempt) and their webhooks consumer rows marked done, in
   * one statement. Returns how many deliveries it wrote (a duplicate writes none).
   */
  async completeFanOut(input: {
    orgId: string;
    /** The events whose fan-out is done (with or without deliveries). */
    eventIds: string[];
    deliveries: NewDelivery[];
  }): Promise<number> {
    if (!input.eventIds.length) return 0;
    const d = input.deliveries;
    const row = await this.db.one<{ created: number }>(
      `with inserted as (
         insert into webhook_deliveries (id, org_id, endpoint_id, event_id, event_type, webhook_id,
                                         payload, body_message_id, traceparent, status, next_attempt_at)
         select d.id, ?::uuid, d.endpoint_id, d.event_id, d.event_type,
                'msg_' || replace(d.id::text, '-', ''), d.payload, d.body_message_id, d.traceparent,
                'pending', now()
           from (select rm_uuid_v7() as id, x.*
                   from unnest(?::uuid[], ?::uuid[], ?::text[], ?::text[], ?::uuid[], ?::text[])
                        as x (event_id, endpoint_id, event_type, payload, body_message_id, traceparent)) d
         on conflict (org_id, event_id, endpoint_id) do nothing
         returning 1
       )
       update event_consumers set done_at = now(), attempts = attempts + 1, last_error = null
        where event_id = any(?::uuid[]) and consumer = 'webhooks'
       returning (select count(*) from inserted)::int as created`,
      [
        input.orgId,
        d.map((x) => x.eventId),
        d.map((x) => x.endpointId),
        d.map((x) => x.eventType),
        d.map((x) => x.payload),
        d.map((x) => x.bodyMessageId),
        d.map((x) => x.traceparent),
        input.eventIds,
      ],
    );
    return row?.created ?? 0;
  }

  /**
   * Starts the attempts of a job in one statement: locks its deliveries (in id order, with their
   * endpoint) and, for each that this job may attempt, extends the lease for the attempt and marks
   * its dispatch started. A job may attempt a delivery when its attempt and dispatch numbers are
   * the current ones, that dispatch has not been started by another job (a second job holding it
   * finds it taken; the same job, run again after a crash, may), the delivery is not exhausted and
   * its endpoint is enabled. `leased` tells which; the row tells
   * why not. A delivery that is gone has no row.
   */
  startAttempts(
    jobId: string,
    dispatches: DeliveryDispatch[],
    leaseSeconds: number,
  ): Promise<(DeliveryTarget & { leased: boolean })[]> {
    return this.db.query<DeliveryTarget & { leased: boolean }>(
      `with wanted as (
         select * from unnest(?::uuid[], ?::int[], ?::int[]) as w (id, attempt, dispatch)
       ), target as (
         select d.id, d.status, d.attempts, d.dispatches, d.started_dispatch, d.started_job,
                d.webhook_id, d.payload,
                d.traceparent, e.id as endpoint_id, e.url, e.enabled, e.secret_ciphertext,
                e.previous_secret_ciphertext, e.previous_secret_expires_at, e.failing_since,
                w.attempt as wanted_attempt, w.dispatch as wanted_dispatch
           from wanted w
           join webhook_deliveries d on d.id = w.id
           join webhook_endpoints e on e.id = d.endpoint_id
          order by d.id
            for no key update of d
       ), leased as (
         update webhook_deliveries d
            set lease_until = now() + make_interval(secs => ?), started_dispatch = t.dispatches,
                started_job = ?
           from target t
          where d.id = t.id and t.status <> 'exhausted' and t.attempts + 1 = t.wanted_attempt
            and t.dispatches = t.wanted_dispatch
            and (t.started_dispatch is distinct from t.dispatches or t.started_job = ?)
            and t.enabled
         returning d.id
       )
       select t.id, t.status, t.attempts, t.dispatches, t.webhook_id as "webhookId", t.payload,
              t.traceparent, t.endpoint_id as "endpointId", t.url, t.enabled,
              t.secret_ciphertext as "secretCiphertext",
              t.previous_secret_ciphertext as "previousSecretCiphertext",
              t.previous_secret_expires_at as "previousSecretExpiresAt",
              t.failing_since as "failingSince", t.id in (select l.id from leased l) as leased
         from target t`,
      [
        dispatches.map((d) => d.deliveryId),
        dispatches.map((d) => d.attempt),
        dispatches.map((d) => d.dispatch),
        leaseSeconds,
        jobId,
        jobId,
      ],
    );
  }

  async exhaust(deliveryId: string, error: string): Promise<void> {
    await this.db.query(
      `update webhook_deliveries set status = 'exhausted', last_error = ?, next_attempt_at = null,
              lease_until = null, updated_at = now() where id = ?`,
      [error, deliveryId],
    );
  }

  /**
   * Records the attempts of a job (deliveries of one endpoint), each delivery's new state and the
   * endpoint's failure streak in one statement: a success among them clears the streak, else a
   * failure starts it. Returns the deliveries recorded (another worker may have recorded one
   * first: then nothing is written for it) and when the endpoint's streak started (null: healthy).
   * The endpoint's row is written only when the streak changes: every delivery to an endpoint
   * passes here, and a write each would serialise them on its row lock.
   */
  async recordAttempts(input: {
    orgId: string;
    endpointId: string;
    /** Whether any attempt succeeded. */
    ok: boolean;
    attempts: RecordedAttempt[];
  }): Promise<{ recorded: Set<string>; failingSince: string | null }> {
    const a = input.attempts;
    const row = await this.db.one<{ recorded: string[]; failingSince: string | null }>(
      `with input as (
         select * from unnest(?::uuid[], ?::int[], ?::text[], ?::int[], ?::text[], ?::bigint[],
                              ?::timestamptz[], ?::int[], ?::text[])
                as x (id, attempt, status, status_code, error, next_in_ms, started_at, duration_ms,
                      response_body)
       ), updated as (
         update webhook_deliveries d
            set attempts = i.attempt, status = i.status, last_status_code = i.status_code,
                last_error = i.error,
                next_attempt_at = case when i.next_in_ms is null then null
                                       else now() + make_interval(secs => i.next_in_ms / 1000.0) end,
                lease_until = null, updated_at = now()
           from input i
          where d.id = i.id and d.attempts = i.attempt - 1
         returning d.id
       ), attempted as (
         insert into webhook_attempts (org_id, delivery_id, attempt, started_at, duration_ms,
                                       status_code, error, response_body)
         select ?::uuid, i.id, i.attempt, i.started_at, i.duration_ms, i.status_code, i.error,
                i.response_body
           from input i join updated u on u.id = i.id
         on conflict (org_id, delivery_id, attempt) do nothing
       ), streak as (
         update webhook_endpoints set failing_since = case when ?::boolean then null else now() end
          where id = ? and exists (select 1 from updated)
            and (failing_since is null) = not ?::boolean
         returning failing_since
       )
       select array(select u.id from updated u) as recorded,
              case when ?::boolean then null
                   else coalesce((select failing_since from streak),
                                 (select failing_since from webhook_endpoints where id = ?)) end
                as "failingSince"`,
      [
        a.map((x) => x.deliveryId),
        a.map((x) => x.attempt),
        a.map((x) => x.status),
        a.map((x) => x.statusCode),
        a.map((x) => x.error),
        a.map((x) => x.nextAttemptInMs),
        a.map((x) => x.startedAt.toISOString()),
        a.map((x) => x.durationMs),
        a.map((x) => x.responseBody),
        input.orgId,
        input.ok,
        input.endpointId,
        input.ok,
        input.ok,
        input.endpointId,
      ],
    );
    return { recorded: new Set(row?.recorded ?? []), failingSince: row?.failingSince ?? null };
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
