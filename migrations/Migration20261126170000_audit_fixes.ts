import { Migration } from '@mikro-orm/migrations';
import { ENTER_TENANT } from './Migration20261126120000_foundation';
import { MARK_READ, SEND_MESSAGE } from './Migration20261126130000_messaging';
import { PROCESS_NOTIFICATIONS } from './Migration20261126150000_notifications';
import { CLAIM_DELIVERIES, EXPEDITE, RELAY_CLAIM } from './Migration20261126160000_webhooks';
import { frozenSql } from './sql';

const frozen = (file: string) => frozenSql('Migration20261126170000_audit_fixes', file);

/**
 * Fixes found by an audit against the SPEC.
 *
 * Sends (rm_send_message):
 * - lock both participant rows in user_id order after the thread row, the order the notification
 *   worker's batches lock them in: before, a send (sender's row, then the recipient's) and a
 *   worker batch holding the other row could deadlock, and PostgreSQL answered one of them with
 *   an error after a second;
 * - take createdAt and the UUIDv7 id under the thread lock, strictly after the previous
 *   message's, with sub-millisecond precision in the id: createdAt and id order agree with seq;
 * - a send moves the sender's read pointer, so it sets the read time too (POST …/read answered
 *   an older readAt than the message it named) and, when it passes the other's messages and the
 *   sender emits receipts, writes the message.read event an explicit read would.
 *
 * Webhooks: a thread started with someone who blocks the starter ('silent') emits no
 * thread.created, as its withheld first message emits no message.created.
 *
 * Members: the token's name and role refresh the membership when *they* change (SPEC §2), not
 * whenever they differ from it: memberships remember the claims last seen (token_name,
 * token_role), so a name or role set through the provisioning API stays until the identity
 * provider's claims change. A membership no token has used yet takes the claims as seen without
 * being overwritten by them.
 *
 * Webhook deliveries are due when next_attempt_at is set, whatever their status: a manual retry
 * of an exhausted delivery makes it `failed` (its last attempt failed; the next is due now), and a
 * manual redelivery of a succeeded one keeps `succeeded` with the next attempt due now. Before,
 * both showed `pending`, which the SPEC reserves for "not attempted yet".
 *
 * Blocking privacy (docs/blocking.md, "Receipts"):
 *
 * 1. Reading passes the messages hidden from the reader that follow the message read. A read up
 *    to message X (by default the reader's latest visible one) moves the pointer to just before
 *    the next message the reader can see, or to the thread's end. Before, the pointer stopped at
 *    X, so a withheld message at the tail of the thread stayed "not seen" after every read by the
 *    blocker while its older neighbours were seen: a pattern no default read produces without a
 *    block. The answer and the message.read event still name X (never a hidden message), and no
 *    event is written when the reader passed only hidden messages.
 *
 * 2. A message sent before a block gets its notification whenever the worker runs. Before, the
 *    worker skipped it when the recipient blocked the sender by then, so whether the message's
 *    notification came back after an unblock depended on the worker's timing. Withheld messages
 *    and threads started while blocked ('silent') still notify nobody; the inbox hides the
 *    notifications of a member you block while the block lasts.
 */
// Functions changed in a line or two are applied from copies frozen beside this migration
// (migrations/sql/Migration20261126170000_audit_fixes/); the ones rewritten in many places are
// written out whole below. Their current definitions live in src/<module>/sql/.
export class Migration20261126170000_audit_fixes extends Migration {
  override up(): void {
    // No transaction of the service waits between statements for more than a Redis add (2 s
    // timeout): one idle for 15 s belongs to a process that hung, and its row locks would stall
    // the relay and the workers until PostgreSQL ends it (60 s before).
    this.addSql(`alter role rm_app set idle_in_transaction_session_timeout = '15s'`);
    this.addSql(`alter table memberships add column token_name text, add column token_role text`);
    this.addSql(ENTER_TENANT_CLAIMS_CHANGED);
    this.addSql(UUID_V7_AT);
    this.addSql(`drop index webhook_deliveries_due_idx`);
    this.addSql(
      `create index webhook_deliveries_due_idx on webhook_deliveries (next_attempt_at) where next_attempt_at is not null`,
    );
    this.addSql(frozen('rm_relay_claim_deliveries.sql'));
    this.addSql(frozen('rm_relay_claim.sql'));
    this.addSql(frozen('rm_relay_expedite.sql'));
    this.addSql(`grant execute on function rm_uuid_v7_at(timestamptz) to rm_app`);
    this.addSql(SEND_MESSAGE_ORDERED);
    this.addSql(MARK_READ_THROUGH_HIDDEN);
    this.addSql(frozen('rm_process_notifications.sql'));
  }

  override down(): void {
    this.addSql(SEND_MESSAGE);
    this.addSql(MARK_READ);
    this.addSql(PROCESS_NOTIFICATIONS);
    this.addSql(`drop function if exists rm_uuid_v7_at(timestamptz)`);
    this.addSql(ENTER_TENANT);
    this.addSql(CLAIM_DELIVERIES);
    this.addSql(EXPEDITE);
    this.addSql(RELAY_CLAIM);
    this.addSql(`drop index webhook_deliveries_due_idx`);
    this.addSql(
      `create index webhook_deliveries_due_idx on webhook_deliveries (next_attempt_at) where status in ('pending', 'failed')`,
    );
    this.addSql(`alter table memberships drop column token_name, drop column token_role`);
    this.addSql(`alter role rm_app set idle_in_transaction_session_timeout = '60s'`);
  }
}

/** As before, except when the membership is refreshed from the claims (see above). */
const ENTER_TENANT_CLAIMS_CHANGED = `
create or replace function rm_enter_tenant(
  p_org uuid, p_user uuid, p_name text, p_role text, p_jit boolean
) returns table (
  user_id uuid, display_name text, role text, visibility text, read_receipts boolean,
  receipts_since timestamptz, active boolean, created_at timestamptz, updated_at timestamptz
) language plpgsql as $$
declare
  m memberships%rowtype;
begin
  perform set_config('app.org_id', p_org::text, true),
          set_config('app.user_id', coalesce(p_user::text, ''), true);
  if p_user is null then
    return;
  end if;
  select * into m from memberships where memberships.org_id = p_org and memberships.user_id = p_user;
  if not found then
    if not p_jit or p_role is null then
      return;
    end if;
    insert into orgs (id) values (p_org) on conflict do nothing;
    insert into users (id) values (p_user) on conflict do nothing;
    insert into memberships (org_id, user_id, display_name, role, token_name, token_role)
      values (p_org, p_user, coalesce(p_name, 'Member ' || left(p_user::text, 8)), p_role, p_name, p_role)
      on conflict do nothing;
    select * into m from memberships where memberships.org_id = p_org and memberships.user_id = p_user;
  elsif m.active and ((p_name is not null and p_name is distinct from m.token_name)
                      or (p_role is not null and p_role is distinct from m.token_role)) then
    update memberships set
        -- A claim seen for the first time is recorded; one that changed since is applied.
        display_name = case when p_name is not null and m.token_name is not null
                              and p_name <> m.token_name then p_name else memberships.display_name end,
        role = case when p_role is not null and m.token_role is not null
                      and p_role <> m.token_role then p_role else memberships.role end,
        token_name = coalesce(p_name, memberships.token_name),
        token_role = coalesce(p_role, memberships.token_role),
        -- Recording a claim seen for the first time changes nothing a member can see.
        updated_at = case when (p_name is not null and m.token_name is not null and p_name <> m.token_name
                                and p_name <> memberships.display_name)
                            or (p_role is not null and m.token_role is not null and p_role <> m.token_role
                                and p_role <> memberships.role)
                          then now() else memberships.updated_at end
      where memberships.org_id = p_org and memberships.user_id = p_user
      returning * into m;
  end if;
  return query select m.user_id, m.display_name, m.role, m.visibility, m.read_receipts,
                      m.receipts_since, m.active, m.created_at, m.updated_at;
end $$`;

/**
 * A UUIDv7 for a given instant: 48 bits of Unix milliseconds, then (RFC 9562 method 3) 12 bits of
 * the sub-millisecond fraction, then 62 random bits. Distinct microseconds give increasing ids.
 */
const UUID_V7_AT = `
create or replace function rm_uuid_v7_at(p_at timestamptz) returns uuid language sql volatile as $$
  select (lpad(to_hex(ms), 12, '0') || '7' || lpad(to_hex(frac), 3, '0')
          || substr(replace(gen_random_uuid()::text, '-', ''), 17, 16))::uuid
    from (select floor(e)::bigint as ms, floor((e - floor(e)) * 4096)::int as frac
            from (select extract(epoch from p_at) * 1000 as e) x) y
$$`;

/** Statuses as before; p_id is no longer used (the id is made under the thread lock). */
const SEND_MESSAGE_ORDERED = `
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
  v_receipts boolean;
  v_prev timestamptz;
  v_id uuid;
  v_now timestamptz;
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
  select t.last_message_at into v_prev from message_threads t where t.id = p_thread for no key update;
  if not found then
    return query select 'not-found'::text, null::uuid, null::integer, null::timestamptz;
    return;
  end if;
  -- Then both participant rows, in user_id order (the order the notification worker locks them
  -- in too), so a send and a worker batch never wait on each other in a cycle.
  perform 1 from thread_participants tp where tp.thread_id = p_thread order by tp.user_id for no key update;
  -- Time and id are taken under the lock, strictly after the previous message's: createdAt and
  -- the UUIDv7 order agree with seq even when senders race.
  v_now := greatest(clock_timestamp(), v_prev + interval '1 microsecond');
  v_id := rm_uuid_v7_at(v_now);
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
    values (v_id, v_org, p_thread, v_seq, p_sender, p_body, p_client_id, p_hash, v_withheld, v_now);

  -- The sender has read everything up to their own message: a read like POST …/read, with its
  -- message.read event (naming the newest message before theirs; none is hidden from them here),
  -- except when the message is withheld: an event at its very moment would betray it.
  -- (The read is not lost: the pointer moved, and receipts show it.)
  if v_me.last_read_seq < v_seq - 1 then
    insert into message_reads (org_id, thread_id, reader_id, from_seq, to_seq, read_at)
      values (v_org, p_thread, p_sender, v_me.last_read_seq, v_seq, v_now);
    select ms.read_receipts into v_receipts from memberships ms
      where ms.org_id = v_org and ms.user_id = p_sender;
    if v_receipts and not v_withheld then
      insert into outbox_events (id, org_id, type, thread_id, message_id, actor_id, seq, created_at)
        select rm_uuid_v7(), v_org, 'message.read', p_thread, m.id, p_sender, m.seq, v_now
          from messages m where m.thread_id = p_thread and m.seq = v_seq - 1;
    end if;
  end if;
  update thread_participants tp set
      last_read_seq = v_seq,
      last_read_at = v_now,
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
    values (rm_uuid_v7(), v_org, 'message.created', p_thread, v_id, p_sender, v_seq,
            case when p_first then '{"first":true}'::jsonb else '{}'::jsonb end, v_now,
            case when v_withheld then v_now end);
  return query select 'created'::text, v_id, v_seq, v_now;
end $$`;

/**
 * Statuses: moved | unchanged | not-found. `last_read_seq` and `last_read_message_id` name the
 * newest message the reader can see at or before their pointer (null when there is none).
 */
const MARK_READ_THROUGH_HIDDEN = `
create or replace function rm_mark_read(p_thread uuid, p_reader uuid, p_upto uuid)
returns table (status text, last_read_seq integer, last_read_at timestamptz, last_read_message_id uuid)
language plpgsql as $$
declare
  v_org uuid := nullif(current_setting('app.org_id', true), '')::uuid;
  v_me thread_participants%rowtype;
  v_upto integer;
  v_target integer;
  v_shown_seq integer;
  v_shown_id uuid;
  v_receipts boolean;
  v_now timestamptz;
begin
  -- Lock the reader's row first: the unread recount below then sees every send committed before.
  select * into v_me from thread_participants tp
    where tp.thread_id = p_thread and tp.user_id = p_reader for no key update;
  if not found then
    return query select 'not-found'::text, null::integer, null::timestamptz, null::uuid;
    return;
  end if;
  if p_upto is null then
    v_upto := coalesce(v_me.last_visible_seq, 0);
  else
    select m.seq into v_upto from messages m
      where m.id = p_upto and m.thread_id = p_thread
        and (m.sender_id = p_reader or (not m.withheld and not v_me.blocks_other));
    if not found then
      return query select 'not-found'::text, null::integer, null::timestamptz, null::uuid;
      return;
    end if;
  end if;
  -- Through the hidden messages that follow: up to the next one the reader can see, or the end.
  select coalesce(
      (select min(m.seq) - 1 from messages m
        where m.thread_id = p_thread and m.seq > v_upto
          and (m.sender_id = p_reader or (not m.withheld and not v_me.blocks_other))),
      (select t.last_seq from message_threads t where t.id = p_thread))
    into v_target;
  v_target := greatest(v_target, v_upto);
  -- The read's time is taken now, after the statements above saw the messages it passes (each
  -- committed, so created before this): a message is never seen before it was sent.
  v_now := clock_timestamp();

  if v_target <= v_me.last_read_seq then
    select m.seq, m.id into v_shown_seq, v_shown_id from messages m
      where m.thread_id = p_thread and m.seq <= v_me.last_read_seq
        and (m.sender_id = p_reader or (not m.withheld and not v_me.blocks_other))
      order by m.seq desc limit 1;
    return query select 'unchanged'::text, v_shown_seq, v_me.last_read_at, v_shown_id;
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
  if v_upto > 0 then
    select m.seq, m.id into v_shown_seq, v_shown_id from messages m
      where m.thread_id = p_thread and m.seq = v_upto;
  end if;
  select ms.read_receipts into v_receipts from memberships ms where ms.org_id = v_org and ms.user_id = p_reader;
  -- The event names what the reader saw; passing only hidden messages tells integrators nothing.
  if v_receipts and v_shown_seq > v_me.last_read_seq then
    insert into outbox_events (id, org_id, type, thread_id, message_id, actor_id, seq, created_at)
      values (rm_uuid_v7(), v_org, 'message.read', p_thread, v_shown_id, p_reader, v_shown_seq, v_now);
  end if;
  return query select 'moved'::text, v_shown_seq, v_now, v_shown_id;
end $$`;
