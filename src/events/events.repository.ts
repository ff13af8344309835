import { Injectable } from '@nestjs/common';
import type { OutboxEventType } from '../platform/queues/outbox-types';
import { Db } from '../platform/tenancy/db.service';
import type { StreamEventName } from './stream-events';

/** An outbox event as the event producer reads it. */
export interface OutboxEventRow {
  id: string;
  type: OutboxEventType;
  threadId: string | null;
  messageId: string | null;
  actorId: string | null;
  seq: number | null;
  data: Record<string, unknown>;
  createdAt: Date;
}

/** A stored stream event: references and small facts, never message text. */
export interface StoredStreamEvent {
  seq: number;
  type: StreamEventName;
  threadId: string | null;
  messageId: string | null;
  notificationId: string | null;
  data: Record<string, unknown>;
}

export interface NewStreamEvent extends Omit<StoredStreamEvent, 'seq'> {
  userId: string;
}

export interface StreamCursor {
  epoch: string;
  lastSeq: number;
  /** The oldest sequence number still kept (null: none kept). */
  firstSeq: number | null;
}

@Injectable()
export class EventsRepository {
  constructor(private readonly db: Db) {}

  // ---- the producer (worker) ----

  /**
   * The events of `eventIds` whose stream work is not done yet, their consumer rows locked
   * (a second pump that claimed them after a lease ran out waits, then finds them done).
   */
  async pending(eventIds: string[]): Promise<OutboxEventRow[]> {
    return this.db.query<OutboxEventRow>(
      `select e.id, e.type, e.thread_id as "threadId", e.message_id as "messageId",
              e.actor_id as "actorId", e.seq, e.data, e.created_at as "createdAt"
         from event_consumers c
         join outbox_events e on e.id = c.event_id
        where c.event_id = any(?::uuid[]) and c.consumer = 'events' and c.done_at is null
        order by e.created_at, e.id
          for no key update of c`,
      [eventIds],
    );
  }

  /**
   * Marks the events' stream work done and appends `events` to members' streams, numbered in
   * order per member, in one statement (one round trip of the producer's transaction). The
   * members' cursors are locked in user id order (the one order every producer takes them in), so
   * two producers never wait on each other in a cycle, and a member's numbers commit in the order
   * they were given. Answers each event's number and its member's epoch, in the order given.
   */
  async finish(
    orgId: string,
    eventIds: string[],
    events: NewStreamEvent[],
  ): Promise<{ epochs: Map<string, string>; seqs: number[] }> {
    const rows = await this.db.query<{ userId: string; epoch: string; seq: string }>(
      `with done as (
         update event_consumers set done_at = now(), attempts = attempts + 1, last_error = null
          where org_id = ?::uuid and event_id = any(?::uuid[]) and consumer = 'events'
       ),
       given as (
         select * from unnest(?::uuid[], ?::text[], ?::uuid[], ?::uuid[], ?::uuid[], ?::jsonb[])
                with ordinality as e(user_id, type, thread_id, message_id, notification_id, data, ord)
       ),
       per_member as (select user_id, count(*) as n from given group by user_id),
       cursors as (
         insert into stream_cursors as c (org_id, user_id, last_seq)
         select ?::uuid, m.user_id, m.n from per_member m order by m.user_id
         on conflict (org_id, user_id) do update set last_seq = c.last_seq + excluded.last_seq
         returning c.user_id, c.epoch, c.last_seq
       ),
       numbered as (
         select g.*, c.epoch,
                c.last_seq - m.n + row_number() over (partition by g.user_id order by g.ord) as seq
           from given g join per_member m using (user_id) join cursors c using (user_id)
       ),
       appended as (
         insert into stream_events (org_id, user_id, seq, type, thread_id, message_id, notification_id, data)
         select ?::uuid, user_id, seq, type, thread_id, message_id, notification_id, data from numbered
       )
       select user_id as "userId", epoch, seq from numbered order by ord`,
      [
        orgId,
        eventIds,
        events.map((e) => e.userId),
        events.map((e) => e.type),
        events.map((e) => e.threadId),
        events.map((e) => e.messageId),
        events.map((e) => e.notificationId),
        events.map((e) => JSON.stringify(e.data)),
        orgId,
        orgId,
      ],
    );
    const epochs = new Map<string, string>();
    for (const r of rows) epochs.set(r.userId, r.epoch);
    return { epochs, seqs: rows.map((r) => Number(r.seq)) };
  }

  // ---- the streams (API) ----

  /** The member's stream cursor, created when missing (a first stream starts at 0). */
  async cursor(orgId: string, userId: string): Promise<StreamCursor> {
    await this.db.query(
      'insert into stream_cursors (org_id, user_id) values (?, ?) on conflict do nothing',
      [orgId, userId],
    );
    const row = await this.db.one<{ epoch: string; lastSeq: string; firstSeq: string | null }>(
      `select c.epoch, c.last_seq as "lastSeq",
              (select min(s.seq) from stream_events s
                where s.org_id = c.org_id and s.user_id = c.user_id) as "firstSeq"
         from stream_cursors c where c.org_id = ? and c.user_id = ?`,
      [orgId, userId],
    );
    return {
      epoch: row!.epoch,
      lastSeq: Number(row!.lastSeq),
      firstSeq: row!.firstSeq === null ? null : Number(row!.firstSeq),
    };
  }

  /** Stored events of a member after `afterSeq`, oldest first. */
  async after(
    orgId: string,
    userId: string,
    afterSeq: number,
    limit: number,
  ): Promise<StoredStreamEvent[]> {
    const rows = await this.db.query<StoredStreamEvent & { seq: string }>(
      `select seq, type, thread_id as "threadId", message_id as "messageId",
              notification_id as "notificationId", data
         from stream_events where org_id = ? and user_id = ? and seq > ?
        order by seq limit ?`,
      [orgId, userId, afterSeq, limit],
    );
    return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
  }

  /** Records a ticket's nonce; false when it was used before (a ticket opens one stream). */
  async consumeTicket(
    orgId: string,
    userId: string,
    nonce: string,
    expiresAt: Date,
  ): Promise<boolean> {
    const rows = await this.db.query(
      `insert into stream_tickets (org_id, nonce, user_id, expires_at) values (?, ?, ?, ?)
       on conflict do nothing returning nonce`,
      [orgId, nonce, userId, expiresAt.toISOString()],
    );
    return rows.length > 0;
  }
}
