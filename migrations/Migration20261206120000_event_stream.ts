import { Migration } from '@mikro-orm/migrations';
import { tenantPolicy } from './Migration20261126120000_foundation';
import { functionSql } from './sql';

const NAME = 'Migration20261206120000_event_stream';

/**
 * The real-time event stream (SPEC §4a): a third consumer of the outbox, `events`, turns each
 * event into what every member it concerns may see of it, kept per member in stream_events (in
 * the order of stream_cursors.last_seq: the SSE ids, which resume reads back from) and fanned out
 * through Redis to the API processes holding the streams.
 *
 * - outbox_events carries two internal types for the streams only, never for webhooks:
 *   notification.created (written with the notification) and unread.changed (a block changed the
 *   blocker's counts); withheld messages and their deletion are no longer written already
 *   published but marked withheld (the sender's streams show them), and every read writes its
 *   message.read event, marked receipts=false when the reader emits no receipts.
 * - event_consumers gains the `events` consumer, claimed by the worker's event pump
 *   (rm_events_claim) rather than dispatched as jobs; while Redis cannot take jobs, the relay
 *   still feeds it (rm_events_feed), so the streams need PostgreSQL only.
 * - stream_tickets: the single-use tickets of EventSource clients (their nonces).
 */
export const FUNCTION_FILES: [file: string, sha256: string][] = [
  [
    'platform/queues/sql/rm_relay_claim.sql',
    'f3f2326934b4b356488b89844bba771fc9f95fc2fcb893904ae9c78ad0b4bb1c',
  ],
  [
    'platform/queues/sql/rm_relay_due.sql',
    '9e5e8e1bcf849137b2f6522e1cdcf4098e938cc5e7d0c5c6cefe1f3d56ef2ac6',
  ],
  [
    'platform/queues/sql/rm_events_claim.sql',
    'b6d6650e284920cdb67ce5d2588f895dc4e089791bba3d5c5067298a5fbb4fd4',
  ],
  [
    'platform/queues/sql/rm_events_feed.sql',
    '94925782367c85a9451e02926973316ff0bf294a95ad0a9ca7a0753dcf1ea3c3',
  ],
  [
    'platform/queues/sql/rm_stream_prune.sql',
    'e9ad79e7071c093eb1dc5551538bfce61ba8a28cf9bb0e61a77886282bf5f596',
  ],
  [
    'notifications/sql/rm_process_notifications.sql',
    'c4c0f0e89e8b50f2b77e9f1f07b8ffecb2a24056d5a90dc0536df5a42d8748e1',
  ],
  [
    'blocks/sql/rm_set_block.sql',
    '433d606132abe043b48ede3fe4c5b64660e1d1c4d698d57d1f6957b2601e9752',
  ],
  [
    'conversations/sql/rm_mark_read.sql',
    '879f588897b98cae7d90de8aba87aa77fec5160912d52b9ff791b76798faf4ee',
  ],
  [
    'conversations/sql/rm_send_message.sql',
    '0a7862220c618fd1d9de72b12070be5b138a0822bd83a46fed2c1cc2d3a533db',
  ],
  [
    'conversations/sql/rm_delete_message.sql',
    '82acd61dc66fb2e8d8639a4635bde7098b52b4b8c883c46a0b1dc26b830f99c2',
  ],
];

export class Migration20261206120000_event_stream extends Migration {
  override up(): void {
    this.addSql(`alter table outbox_events drop constraint outbox_events_type_check`);
    this.addSql(`
      alter table outbox_events add constraint outbox_events_type_check check (type in (
        'thread.created', 'message.created', 'message.deleted', 'message.read',
        'notification.created', 'unread.changed'))`);
    this.addSql(`alter table outbox_events alter column thread_id drop not null`);
    this.addSql(`alter table outbox_events alter column actor_id drop not null`);
    this.addSql(`alter table event_consumers drop constraint event_consumers_consumer_check`);
    this.addSql(`
      alter table event_consumers add constraint event_consumers_consumer_check
        check (consumer in ('notifications', 'webhooks', 'events'))`);
    this.addSql(`
      create index event_consumers_events_due_idx on event_consumers (next_attempt_at, created_at)
        where consumer = 'events' and done_at is null and dead_at is null`);

    // Per member: the last SSE sequence number given, and the epoch that makes ids of an earlier
    // life of the stream (a wiped cursor) unknown rather than misread.
    this.addSql(`
      create table stream_cursors (
        org_id uuid not null,
        user_id uuid not null,
        epoch text not null default substr(md5(random()::text), 1, 8),
        last_seq bigint not null default 0,
        primary key (org_id, user_id),
        constraint stream_cursors_member_fkey foreign key (org_id, user_id) references memberships (org_id, user_id)
      )`);
    // What each member's streams were sent, by sequence number: resume reads it back. No message
    // text is kept here (messages, threads and notifications are rendered again on resume).
    this.addSql(`
      create table stream_events (
        org_id uuid not null,
        user_id uuid not null,
        seq bigint not null,
        type text not null check (type in ('thread.created', 'message.created', 'message.deleted',
                                           'message.read', 'unread.changed', 'notification.created')),
        thread_id uuid,
        message_id uuid,
        notification_id uuid,
        data jsonb not null default '{}',
        created_at timestamptz not null default now(),
        primary key (org_id, user_id, seq)
      )`);
    this.addSql(`create index stream_events_created_idx on stream_events (created_at)`);
    this.addSql(`
      create table stream_tickets (
        org_id uuid not null,
        nonce text not null,
        user_id uuid not null,
        expires_at timestamptz not null,
        primary key (org_id, nonce)
      )`);
    this.addSql(`create index stream_tickets_expires_idx on stream_tickets (expires_at)`);
    for (const table of ['stream_cursors', 'stream_events', 'stream_tickets']) {
      this.addSql(tenantPolicy(table));
    }
    this.addSql(`grant select, insert, update on stream_cursors to rm_app`);
    this.addSql(`grant select, insert on stream_events, stream_tickets to rm_app`);
    // Pruning crosses orgs: rm_relay's exception, on these two tables too.
    this.addSql(`create policy relay_access on stream_events to rm_relay using (true)`);
    this.addSql(`create policy relay_access on stream_tickets to rm_relay using (true)`);
    this.addSql(`grant select, delete on stream_events, stream_tickets to rm_relay`);

    for (const [file, sha256] of FUNCTION_FILES) this.addSql(functionSql(NAME, file, sha256));
    for (const fn of [
      'rm_events_claim(integer, interval)',
      'rm_events_feed(integer)',
      'rm_stream_prune(interval)',
    ]) {
      this.addSql(`alter function ${fn} owner to rm_relay`);
      this.addSql(`revoke all on function ${fn} from public, rm_app`);
      this.addSql(`grant execute on function ${fn} to rm_worker`);
    }
  }

  override down(): void {
    this.addSql(`drop function if exists rm_events_claim(integer, interval)`);
    this.addSql(`drop function if exists rm_events_feed(integer)`);
    this.addSql(`drop function if exists rm_stream_prune(interval)`);
    this.addSql(`drop table if exists stream_tickets`);
    this.addSql(`drop table if exists stream_events`);
    this.addSql(`drop table if exists stream_cursors`);
    this.addSql(`drop index if exists event_consumers_events_due_idx`);
  }
}
