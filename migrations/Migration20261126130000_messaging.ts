import { Migration } from '@mikro-orm/migrations';
import { tenantPolicy } from './Migration20261126120000_foundation';

/**
 * Conversations: direct threads, per-participant state, messages, read-receipt history and the
 * transactional outbox. The hot paths (start, send, read, delete) are plpgsql functions so that a
 * request costs one round trip inside its tenant transaction; they run as the caller (RLS applies).
 *
 * Per-participant state (thread_participants) is what makes reads cheap and blocking private:
 * each row holds what *that* participant may see (last visible message, unread count, list
 * position) and is maintained in the writing transaction. `blocks_other` mirrors user_blocks for
 * the pair so the send path needs no extra lookup.
 */
export class Migration20261126130000_messaging extends Migration {
  override up(): void {
    this.addSql(`
      create table message_threads (
        id uuid primary key,
        org_id uuid not null references orgs (id),
        kind text not null default 'direct' check (kind in ('direct')),
        user_low uuid not null,
        user_high uuid not null,
        created_by uuid not null,
        created_at timestamptz not null default now(),
        last_seq integer not null default 0,
        last_message_at timestamptz,
        constraint message_threads_pair_check check (user_low < user_high),
        constraint message_threads_pair_key unique (org_id, user_low, user_high),
        constraint message_threads_low_fkey foreign key (org_id, user_low) references memberships (org_id, user_id),
        constraint message_threads_high_fkey foreign key (org_id, user_high) references memberships (org_id, user_id)
      )`);

    this.addSql(`
      create table thread_participants (
        org_id uuid not null,
        thread_id uuid not null references message_threads (id),
        user_id uuid not null,
        other_user_id uuid not null,
        blocks_other boolean not null default false,
        listed boolean not null default true,
        last_read_seq integer not null default 0,
        last_read_at timestamptz,
        unread_count integer not null default 0,
        last_visible_seq integer,
        last_message_at timestamptz,
        activity_at timestamptz not null,
        primary key (thread_id, user_id),
        constraint thread_participants_member_fkey foreign key (org_id, user_id) references memberships (org_id, user_id)
      )`);
    // A member's threads by last visible activity (the thread list), and unread totals.
    this.addSql(`
      create index thread_participants_list_idx
        on thread_participants (org_id, user_id, activity_at desc, thread_id desc) where listed`);
    this.addSql(`
      create index thread_participants_unread_idx
        on thread_participants (org_id, user_id) include (unread_count) where unread_count > 0`);

    this.addSql(`
      create table messages (
        id uuid primary key,
        org_id uuid not null,
        thread_id uuid not null references message_threads (id),
        seq integer not null,
        sender_id uuid not null,
        body text,
        client_message_id text,
        request_hash bytea,
        withheld boolean not null default false,
        created_at timestamptz not null default now(),
        deleted_at timestamptz,
        constraint messages_thread_seq_key unique (thread_id, seq),
        constraint messages_body_check check ((deleted_at is null) = (body is not null))
      )`);
    // Idempotency keys are scoped to (org, sender) and kept as long as the message.
    this.addSql(`
      create unique index messages_client_message_id_key
        on messages (org_id, sender_id, client_message_id) where client_message_id is not null`);

    // Read-receipt history: each forward move of a read pointer covers (from_seq, to_seq] at read_at,
    // which gives every message its exact first-seen time per reader.
    this.addSql(`
      create table message_reads (
        org_id uuid not null,
        thread_id uuid not null references message_threads (id),
        reader_id uuid not null,
        from_seq integer not null,
        to_seq integer not null,
        read_at timestamptz not null,
        primary key (thread_id, reader_id, to_seq),
        constraint message_reads_range_check check (from_seq < to_seq)
      )`);

    // Blocks (AC-3). Private to the blocker; mirrored into thread_participants.blocks_other.
    this.addSql(`
      create table user_blocks (
        org_id uuid not null,
        blocker_id uuid not null,
        blocked_id uuid not null,
        created_at timestamptz not null default now(),
        primary key (org_id, blocker_id, blocked_id),
        constraint user_blocks_self_check check (blocker_id <> blocked_id),
        constraint user_blocks_blocker_fkey foreign key (org_id, blocker_id) references memberships (org_id, user_id),
        constraint user_blocks_blocked_fkey foreign key (org_id, blocked_id) references memberships (org_id, user_id)
      )`);

    this.addSql(`
      create table outbox_events (
        id uuid primary key,
        org_id uuid not null,
        type text not null check (type in ('thread.created', 'message.created', 'message.deleted', 'message.read')),
        thread_id uuid not null,
        message_id uuid,
        actor_id uuid not null,
        seq integer,
        data jsonb not null default '{}',
        created_at timestamptz not null default now(),
        published_at timestamptz
      )`);
    this.addSql(
      `create index outbox_events_unpublished_idx on outbox_events (created_at) where published_at is null`,
    );

    for (const table of [
      'message_threads',
      'thread_participants',
      'messages',
      'message_reads',
      'user_blocks',
      'outbox_events',
    ]) {
      this.addSql(tenantPolicy(table));
    }
    this.addSql(
      `grant select, insert, update on message_threads, thread_participants, messages to rm_app`,
    );
    this.addSql(`grant select, insert on message_reads, outbox_events to rm_app`);
    this.addSql(`grant select, insert, delete on user_blocks to rm_app`);

    // Hook: reading a thread (or replying in it) also marks its notifications read. A no-op until
    // the notifications migration replaces it.
    this.addSql(`
      create or replace function rm_after_read(p_thread uuid, p_user uuid) returns void
      language plpgsql as $$ begin null; end $$`);
    this.addSql(START_THREAD);
    this.addSql(SEND_MESSAGE);
    this.addSql(MARK_READ);
    this.addSql(DELETE_MESSAGE);
    this.addSql(REFRESH_PARTICIPANT);
    for (const fn of [
      'rm_start_thread(uuid, uuid, text, uuid)',
      'rm_send_message(uuid, uuid, uuid, text, text, bytea, boolean)',
      'rm_mark_read(uuid, uuid, uuid)',
      'rm_delete_message(uuid, uuid, uuid)',
      'rm_refresh_participant(uuid, uuid)',
      'rm_after_read(uuid, uuid)',
    ]) {
      this.addSql(`grant execute on function ${fn} to rm_app`);
    }
  }

  override down(): void {
    for (const fn of [
      'rm_start_thread(uuid, uuid, text, uuid)',
      'rm_send_message(uuid, uuid, uuid, text, text, bytea, boolean)',
      'rm_mark_read(uuid, uuid, uuid)',
      'rm_delete_message(uuid, uuid, uuid)',
      'rm_refresh_participant(uuid, uuid)',
      'rm_after_read(uuid, uuid)',
    ]) {
      this.addSql(`drop function if exists ${fn}`);
    }
    for (const table of [
      'outbox_events',
      'user_blocks',
      'message_reads',
      'messages',
      'thread_participants',
      'message_threads',
    ]) {
      this.addSql(`drop table if exists ${table}`);
    }
  }
}

/**
 * Get-or-create the direct thread between the caller and a recipient, applying who may start
 * what. Statuses: created | existing | not-found | blocked-by-you. Race-free: the unique key on
 * (org, ordered pair) makes a concurrent second insert wait, then find the first one's thread.
 */
const START_THREAD = `
create or replace function rm_start_thread(p_id uuid, p_caller uuid, p_caller_role text, p_recipient uuid)
returns table (status text, thread_id uuid) language plpgsql as $$
declare
  v_org uuid := nullif(current_setting('app.org_id', true), '')::uuid;
  v_low uuid := least(p_caller, p_recipient);
  v_high uuid := greatest(p_caller, p_recipient);
  v_recipient memberships%rowtype;
  v_thread uuid;
  v_caller_blocks boolean;
  v_recipient_blocks boolean;
  v_now timestamptz := now();
begin
  select * into v_recipient from memberships m where m.org_id = v_org and m.user_id = p_recipient;
  if not found or not v_recipient.active then
    return query select 'not-found'::text, null::uuid;
    return;
  end if;
  v_caller_blocks := exists (select 1 from user_blocks b
    where b.org_id = v_org and b.blocker_id = p_caller and b.blocked_id = p_recipient);
  v_recipient_blocks := exists (select 1 from user_blocks b
    where b.org_id = v_org and b.blocker_id = p_recipient and b.blocked_id = p_caller);

  select t.id into v_thread from message_threads t
    where t.org_id = v_org and t.user_low = v_low and t.user_high = v_high;
  if found then
    if v_caller_blocks then
      return query select 'blocked-by-you'::text, v_thread;
      return;
    end if;
    -- Re-opening a thread puts it back in the caller's list.
    update thread_participants tp set listed = true
      where tp.thread_id = v_thread and tp.user_id = p_caller and not tp.listed;
    return query select 'existing'::text, v_thread;
    return;
  end if;

  if v_caller_blocks then
    return query select 'blocked-by-you'::text, null::uuid;
    return;
  end if;
  -- Residents cannot start threads with hidden members, nor with someone who blocks them: the
  -- same answer as for an unknown member, so a block looks like a member who turned hidden.
  if p_caller_role = 'resident' and (v_recipient.visibility = 'hidden' or v_recipient_blocks) then
    return query select 'not-found'::text, null::uuid;
    return;
  end if;

  insert into message_threads (id, org_id, kind, user_low, user_high, created_by, created_at)
    values (p_id, v_org, 'direct', v_low, v_high, p_caller, v_now)
    on conflict (org_id, user_low, user_high) do nothing;
  if not found then
    select t.id into v_thread from message_threads t
      where t.org_id = v_org and t.user_low = v_low and t.user_high = v_high;
    return query select 'existing'::text, v_thread;
    return;
  end if;

  insert into thread_participants (org_id, thread_id, user_id, other_user_id, blocks_other, listed, activity_at)
    values (v_org, p_id, p_caller, p_recipient, false, true, v_now),
           -- A thread started by someone the recipient blocks stays out of the recipient's list.
           (v_org, p_id, p_recipient, p_caller, v_recipient_blocks, not v_recipient_blocks, v_now);
  insert into outbox_events (id, org_id, type, thread_id, actor_id, data, created_at)
    values (rm_uuid_v7(), v_org, 'thread.created', p_id, p_caller,
            jsonb_build_object('recipientId', p_recipient, 'silent', v_recipient_blocks), v_now);
  return query select 'created'::text, p_id;
end $$`;

/**
 * Sends a message. Statuses: created | repeat | key-conflict | in-progress | not-found |
 * blocked-by-you | recipient-inactive. The thread row lock orders concurrent senders (seq 1..n,
 * no gap, no repeat) and serializes with block/unblock, so a message is withheld exactly when
 * the recipient blocks the sender at the moment of sending.
 */
export const SEND_MESSAGE = `
create or replace function rm_send_message(
  p_thread uuid, p_sender uuid, p_id uuid, p_body text, p_client_id text, p_hash bytea, p_first boolean
) returns table (status text, message_id uuid, seq integer, created_at timestamptz)
language plpgsql as $$
declare
  v_org uuid := nullif(current_setting('app.org_id', true), '')::uuid;
  v_existing record;
  v_me thread_participants%rowtype;
  v_other thread_participants%rowtype;
  v_other_active boolean;
  v_seq integer;
  v_withheld boolean;
  v_now timestamptz := now();
begin
  if p_client_id is not null then
    if not pg_try_advisory_xact_lock(hashtextextended(v_org::text || '/' || p_sender::text || '/' || p_client_id, 0)) then
      return query select 'in-progress'::text, null::uuid, null::integer, null::timestamptz;
      return;
    end if;
    select m.id, m.thread_id, m.request_hash, m.seq, m.created_at into v_existing from messages m
      where m.org_id = v_org and m.sender_id = p_sender and m.client_message_id = p_client_id;
    if found then
      if v_existing.thread_id = p_thread and v_existing.request_hash = p_hash then
        return query select 'repeat'::text, v_existing.id, v_existing.seq, v_existing.created_at;
      else
        return query select 'key-conflict'::text, v_existing.id, null::integer, null::timestamptz;
      end if;
      return;
    end if;
  end if;

  -- Lock the thread first: it orders sends and serializes them with blocks.
  perform 1 from message_threads t where t.id = p_thread for no key update;
  if not found then
    return query select 'not-found'::text, null::uuid, null::integer, null::timestamptz;
    return;
  end if;
  select * into v_me from thread_participants tp where tp.thread_id = p_thread and tp.user_id = p_sender;
  if not found then
    return query select 'not-found'::text, null::uuid, null::integer, null::timestamptz;
    return;
  end if;
  select * into v_other from thread_participants tp where tp.thread_id = p_thread and tp.user_id = v_me.other_user_id;
  select m.active into v_other_active from memberships m where m.org_id = v_org and m.user_id = v_me.other_user_id;
  if v_me.blocks_other then
    return query select 'blocked-by-you'::text, null::uuid, null::integer, null::timestamptz;
    return;
  end if;
  if not v_other_active then
    return query select 'recipient-inactive'::text, null::uuid, null::integer, null::timestamptz;
    return;
  end if;
  v_withheld := v_other.blocks_other;

  update message_threads t set last_seq = t.last_seq + 1, last_message_at = v_now
    where t.id = p_thread returning t.last_seq into v_seq;
  insert into messages (id, org_id, thread_id, seq, sender_id, body, client_message_id, request_hash, withheld, created_at)
    values (p_id, v_org, p_thread, v_seq, p_sender, p_body, p_client_id, p_hash, v_withheld, v_now);

  -- The sender has read everything up to their own message.
  if v_me.last_read_seq < v_seq - 1 then
    insert into message_reads (org_id, thread_id, reader_id, from_seq, to_seq, read_at)
      values (v_org, p_thread, p_sender, v_me.last_read_seq, v_seq, v_now);
  end if;
  update thread_participants tp set
      last_read_seq = v_seq,
      last_read_at = case when v_me.last_read_seq < v_seq - 1 then v_now else tp.last_read_at end,
      unread_count = 0,
      last_visible_seq = v_seq, last_message_at = v_now, activity_at = v_now, listed = true
    where tp.thread_id = p_thread and tp.user_id = p_sender;
  perform rm_after_read(p_thread, p_sender);
  -- The recipient's row is written either way, so a withheld send costs what a normal one does.
  update thread_participants tp set
      unread_count = tp.unread_count + case when v_withheld then 0 else 1 end,
      last_visible_seq = case when v_withheld then tp.last_visible_seq else v_seq end,
      last_message_at = case when v_withheld then tp.last_message_at else v_now end,
      activity_at = case when v_withheld then tp.activity_at else v_now end,
      listed = tp.listed or not v_withheld
    where tp.thread_id = p_thread and tp.user_id = v_me.other_user_id;

  -- A withheld message produces no notification and no webhook: its event row is written
  -- already published, so nothing is dispatched.
  insert into outbox_events (id, org_id, type, thread_id, message_id, actor_id, seq, data, created_at, published_at)
    values (rm_uuid_v7(), v_org, 'message.created', p_thread, p_id, p_sender, v_seq,
            case when p_first then '{"first":true}'::jsonb else '{}'::jsonb end, v_now,
            case when v_withheld then v_now end);
  return query select 'created'::text, p_id, v_seq, v_now;
end $$`;

/**
 * Moves the reader's pointer forward (never back) to a message they can see, or to their latest
 * visible one. Statuses: moved | unchanged | not-found. Records the range passed (exact seenAt per
 * message) and a message.read event when the reader emits receipts.
 */
export const MARK_READ = `
create or replace function rm_mark_read(p_thread uuid, p_reader uuid, p_upto uuid)
returns table (status text, last_read_seq integer, last_read_at timestamptz, last_read_message_id uuid)
language plpgsql as $$
declare
  v_org uuid := nullif(current_setting('app.org_id', true), '')::uuid;
  v_me thread_participants%rowtype;
  v_target integer;
  v_target_id uuid;
  v_receipts boolean;
  v_now timestamptz := now();
begin
  -- Lock the reader's row first: the unread recount below then sees every send committed before.
  select * into v_me from thread_participants tp
    where tp.thread_id = p_thread and tp.user_id = p_reader for no key update;
  if not found then
    return query select 'not-found'::text, null::integer, null::timestamptz, null::uuid;
    return;
  end if;
  if p_upto is null then
    v_target := v_me.last_visible_seq;
  else
    select m.seq into v_target from messages m
      where m.id = p_upto and m.thread_id = p_thread
        and (m.sender_id = p_reader or (not m.withheld and not v_me.blocks_other));
    if not found then
      return query select 'not-found'::text, null::integer, null::timestamptz, null::uuid;
      return;
    end if;
  end if;

  if v_target is null or v_target <= v_me.last_read_seq then
    return query select 'unchanged'::text, v_me.last_read_seq, v_me.last_read_at,
      (select m.id from messages m where m.thread_id = p_thread and m.seq = v_me.last_read_seq);
    return;
  end if;

  insert into message_reads (org_id, thread_id, reader_id, from_seq, to_seq, read_at)
    values (v_org, p_thread, p_reader, v_me.last_read_seq, v_target, v_now);
  update thread_participants tp set
      last_read_seq = v_target,
      last_read_at = v_now,
      unread_count = case when tp.blocks_other then 0 else (
        select count(*) from messages m
         where m.thread_id = p_thread and m.seq > v_target and m.sender_id <> p_reader
           and not m.withheld and m.deleted_at is null) end
    where tp.thread_id = p_thread and tp.user_id = p_reader;
  perform rm_after_read(p_thread, p_reader);
  select m.id into v_target_id from messages m where m.thread_id = p_thread and m.seq = v_target;
  select ms.read_receipts into v_receipts from memberships ms where ms.org_id = v_org and ms.user_id = p_reader;
  if v_receipts then
    insert into outbox_events (id, org_id, type, thread_id, message_id, actor_id, seq, created_at)
      values (rm_uuid_v7(), v_org, 'message.read', p_thread, v_target_id, p_reader, v_target, v_now);
  end if;
  return query select 'moved'::text, v_target, v_now, v_target_id;
end $$`;

/**
 * Soft delete by the sender. Statuses: deleted | already-deleted | forbidden (visible, not yours)
 * | not-found (unknown or not visible to the caller).
 */
const DELETE_MESSAGE = `
create or replace function rm_delete_message(p_thread uuid, p_message uuid, p_user uuid)
returns table (status text) language plpgsql as $$
declare
  v_org uuid := nullif(current_setting('app.org_id', true), '')::uuid;
  v_me thread_participants%rowtype;
  v_msg messages%rowtype;
  v_now timestamptz := now();
begin
  select * into v_me from thread_participants tp where tp.thread_id = p_thread and tp.user_id = p_user;
  if not found then
    return query select 'not-found'::text;
    return;
  end if;
  select * into v_msg from messages m where m.id = p_message and m.thread_id = p_thread for no key update;
  if not found or not (v_msg.sender_id = p_user or (not v_msg.withheld and not v_me.blocks_other)) then
    return query select 'not-found'::text;
    return;
  end if;
  if v_msg.sender_id <> p_user then
    return query select 'forbidden'::text;
    return;
  end if;
  if v_msg.deleted_at is not null then
    return query select 'already-deleted'::text;
    return;
  end if;
  update messages m set body = null, deleted_at = v_now where m.id = p_message;
  -- The tombstone stays visible (and in previews); it just stops counting as unread.
  update thread_participants tp set unread_count = greatest(tp.unread_count - 1, 0)
    where tp.thread_id = p_thread and tp.user_id = v_me.other_user_id
      and tp.last_read_seq < v_msg.seq and not tp.blocks_other and not v_msg.withheld;
  insert into outbox_events (id, org_id, type, thread_id, message_id, actor_id, seq, created_at, published_at)
    values (rm_uuid_v7(), v_org, 'message.deleted', p_thread, p_message, p_user, v_msg.seq, v_now,
            case when v_msg.withheld then v_now end);
  return query select 'deleted'::text;
end $$`;

/**
 * Recomputes what one participant sees of a thread (last visible message, list position, unread
 * count) from the messages; used when blocking changes what they may see. Index-backed: it walks
 * the thread's messages by seq.
 */
const REFRESH_PARTICIPANT = `
create or replace function rm_refresh_participant(p_thread uuid, p_user uuid)
returns void language plpgsql as $$
declare
  v_me thread_participants%rowtype;
  v_created timestamptz;
  v_last record;
begin
  select * into v_me from thread_participants tp where tp.thread_id = p_thread and tp.user_id = p_user for no key update;
  if not found then
    return;
  end if;
  select t.created_at into v_created from message_threads t where t.id = p_thread;
  select m.seq, m.created_at into v_last from messages m
    where m.thread_id = p_thread and (m.sender_id = p_user or (not m.withheld and not v_me.blocks_other))
    order by m.seq desc limit 1;
  update thread_participants tp set
      last_visible_seq = v_last.seq,
      last_message_at = v_last.created_at,
      activity_at = coalesce(v_last.created_at, v_created),
      unread_count = case when v_me.blocks_other then 0 else (
        select count(*) from messages m
         where m.thread_id = p_thread and m.seq > v_me.last_read_seq and m.sender_id <> p_user
           and not m.withheld and m.deleted_at is null) end
    where tp.thread_id = p_thread and tp.user_id = p_user;
end $$`;
