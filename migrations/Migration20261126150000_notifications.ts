import { Migration } from '@mikro-orm/migrations';
import { tenantPolicy } from './Migration20261126120000_foundation';

/**
 * Asynchronous work: per-(event, consumer) state, in-app notifications, and the relay's narrow
 * cross-org exceptions.
 *
 * PostgreSQL owns the state of every piece of asynchronous work; Redis only dispatches it. The
 * relay claims unpublished outbox events, records which consumers each needs (event_consumers),
 * adds one BullMQ job per (event, consumer) and marks the events published, all in one
 * transaction. Consumers mark their row done in the transaction that does the work, so a job run
 * twice does nothing twice; the reconciler re-dispatches rows that are due and not done.
 *
 * The relay, reconciler and pruning must see every org. They do so only through the SECURITY
 * DEFINER functions below, owned by the NOLOGIN role rm_relay, whose policies exist on the
 * outbox and event_consumers tables only. The functions hand out ids, org ids and event types:
 * never message text.
 */
export class Migration20261126150000_notifications extends Migration {
  override up(): void {
    this.addSql(`
      create table event_consumers (
        event_id uuid not null references outbox_events (id) on delete cascade,
        org_id uuid not null,
        consumer text not null check (consumer in ('notifications', 'webhooks')),
        created_at timestamptz not null default now(),
        next_attempt_at timestamptz not null,
        attempts integer not null default 0,
        dispatches integer not null default 1,
        last_error text,
        done_at timestamptz,
        dead_at timestamptz,
        primary key (event_id, consumer)
      )`);
    this.addSql(`
      create index event_consumers_due_idx on event_consumers (next_attempt_at)
        where done_at is null and dead_at is null`);

    this.addSql(`
      create table notifications (
        id uuid primary key default rm_uuid_v7(),
        org_id uuid not null,
        user_id uuid not null,
        type text not null check (type in ('thread.started', 'message.received')),
        thread_id uuid not null references message_threads (id),
        actor_id uuid not null,
        count integer not null default 1 check (count >= 1),
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        read_at timestamptz,
        constraint notifications_member_fkey foreign key (org_id, user_id) references memberships (org_id, user_id)
      )`);
    // One open (unread) coalescing notification per recipient, thread and sender: the upsert target.
    this.addSql(`
      create unique index notifications_open_key on notifications (org_id, user_id, thread_id, actor_id)
        where read_at is null and type = 'message.received'`);
    this.addSql(
      `create index notifications_inbox_idx on notifications (org_id, user_id, updated_at desc, id desc)`,
    );
    this.addSql(`
      create index notifications_unread_idx on notifications (org_id, user_id, thread_id) where read_at is null`);

    this.addSql(tenantPolicy('event_consumers'));
    this.addSql(tenantPolicy('notifications'));
    this.addSql(`grant select, insert, update on event_consumers, notifications to rm_app`);
    this.addSql(`grant update on outbox_events to rm_app`);

    // The relay's exception: policies for rm_relay on the outbox and its consumer state only.
    this.addSql(
      `create policy relay_access on outbox_events to rm_relay using (true) with check (true)`,
    );
    this.addSql(
      `create policy relay_access on event_consumers to rm_relay using (true) with check (true)`,
    );
    this.addSql(`grant select, update, delete on outbox_events to rm_relay`);
    this.addSql(`grant select, insert, update, delete on event_consumers to rm_relay`);
    // Whoever runs migrations must be able to hand functions to rm_relay.
    this.addSql(`
      do $$ begin
        if not (select rolsuper from pg_roles where rolname = current_user) then
          execute format('grant rm_relay to %I', current_user);
        end if;
      end $$`);

    this.addSql(AFTER_READ);
    this.addSql(PROCESS_NOTIFICATIONS);
    this.addSql(RELAY_CLAIM);
    this.addSql(RELAY_DUE);
    this.addSql(RELAY_PRUNE);
    this.addSql(RECORD_FAILURE);
    for (const fn of [
      'rm_relay_claim(integer)',
      'rm_relay_due(integer, interval)',
      'rm_relay_prune(interval)',
    ]) {
      this.addSql(`alter function ${fn} owner to rm_relay`);
      this.addSql(`revoke all on function ${fn} from public`);
      this.addSql(`grant execute on function ${fn} to rm_app`);
    }
    this.addSql(`grant execute on function rm_process_notifications(uuid) to rm_app`);
    this.addSql(
      `grant execute on function rm_record_consumer_failure(uuid, text, text, interval, boolean) to rm_app`,
    );
  }

  override down(): void {
    for (const fn of [
      'rm_relay_claim(integer)',
      'rm_relay_due(integer, interval)',
      'rm_relay_prune(interval)',
      'rm_process_notifications(uuid)',
      'rm_record_consumer_failure(uuid, text, text, interval, boolean)',
    ]) {
      this.addSql(`drop function if exists ${fn}`);
    }
    this.addSql(`create or replace function rm_after_read(p_thread uuid, p_user uuid) returns void
      language plpgsql as $$ begin null; end $$`);
    this.addSql(`drop policy if exists relay_access on outbox_events`);
    this.addSql(`drop table if exists notifications`);
    this.addSql(`drop table if exists event_consumers`);
  }
}

/** Reading (or replying in) a thread marks its notifications read. */
const AFTER_READ = `
create or replace function rm_after_read(p_thread uuid, p_user uuid) returns void language sql as $$
  update notifications set read_at = now()
   where org_id = nullif(current_setting('app.org_id', true), '')::uuid
     and user_id = p_user and thread_id = p_thread and read_at is null
$$`;

/**
 * The notifications consumer of one event, in the event's tenant transaction. Idempotent: the
 * consumer row is locked and marked done here, so a duplicate job finds it done. Statuses:
 * notified | skipped | duplicate | vanished.
 *
 * - thread.created → a thread.started notification for the recipient (not when the starter is
 *   blocked by them: 'silent').
 * - message.created → coalesced into the recipient's open message.received notification for that
 *   thread and sender (count grows), unless withheld, deleted, already read, or the recipient
 *   blocks the sender now. The first message of a new thread is covered by thread.started.
 * The recipient's participant row is locked first, which orders this with their reads.
 */
export const PROCESS_NOTIFICATIONS = `
create or replace function rm_process_notifications(p_event uuid)
returns table (status text) language plpgsql as $$
declare
  v_org uuid := nullif(current_setting('app.org_id', true), '')::uuid;
  v_done timestamptz;
  v_event outbox_events%rowtype;
  v_msg messages%rowtype;
  v_recipient uuid;
  v_part thread_participants%rowtype;
  v_active boolean;
  v_result text := 'skipped';
begin
  select e.* into v_event from outbox_events e where e.id = p_event;
  if not found then
    return query select 'vanished'::text;
    return;
  end if;
  insert into event_consumers (event_id, org_id, consumer, next_attempt_at)
    values (p_event, v_org, 'notifications', now() + interval '1 minute')
    on conflict do nothing;
  select c.done_at into v_done from event_consumers c
    where c.event_id = p_event and c.consumer = 'notifications' for no key update;
  if v_done is not null then
    return query select 'duplicate'::text;
    return;
  end if;

  if v_event.type = 'thread.created' and not coalesce(v_event.data ->> 'silent', '') = 'true' then
    v_recipient := (v_event.data ->> 'recipientId')::uuid;
    select * into v_part from thread_participants tp
      where tp.thread_id = v_event.thread_id and tp.user_id = v_recipient for no key update;
    select m.active into v_active from memberships m where m.org_id = v_org and m.user_id = v_recipient;
    if found and v_active and not v_part.blocks_other then
      insert into notifications (org_id, user_id, type, thread_id, actor_id, count, created_at, updated_at)
        values (v_org, v_recipient, 'thread.started', v_event.thread_id, v_event.actor_id, 1, v_event.created_at, v_event.created_at);
      v_result := 'notified';
    end if;
  elsif v_event.type = 'message.created' and not coalesce(v_event.data ->> 'first', '') = 'true' then
    select * into v_msg from messages m where m.id = v_event.message_id;
    if found and not v_msg.withheld and v_msg.deleted_at is null then
      select * into v_part from thread_participants tp
        where tp.thread_id = v_msg.thread_id and tp.other_user_id = v_msg.sender_id for no key update;
      select m.active into v_active from memberships m where m.org_id = v_org and m.user_id = v_part.user_id;
      if v_part.user_id is not null and v_active and not v_part.blocks_other and v_part.last_read_seq < v_msg.seq then
        insert into notifications (org_id, user_id, type, thread_id, actor_id, count, created_at, updated_at)
          values (v_org, v_part.user_id, 'message.received', v_msg.thread_id, v_msg.sender_id, 1, now(), now())
          on conflict (org_id, user_id, thread_id, actor_id) where read_at is null and type = 'message.received'
          do update set count = notifications.count + 1, updated_at = now();
        v_result := 'notified';
      end if;
    end if;
  end if;

  update event_consumers c set done_at = now(), attempts = c.attempts + 1, last_error = null
    where c.event_id = p_event and c.consumer = 'notifications';
  return query select v_result;
end $$`;

/**
 * Claims up to p_limit unpublished events (skip locked: several relays cooperate), records the
 * consumers each needs, and marks them published. Runs inside the relay's transaction: if adding
 * the jobs to Redis fails, the relay rolls back and the events stay unpublished.
 */
const RELAY_CLAIM = `
create or replace function rm_relay_claim(p_limit integer)
returns table (event_id uuid, org_id uuid, consumer text)
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  return query
  with claimed as (
    select e.id, e.org_id, e.type, e.data from outbox_events e
     where e.published_at is null
     order by e.created_at
     limit p_limit
     for update skip locked
  ), wanted as (
    select c.id, c.org_id, 'notifications'::text as consumer from claimed c
     where (c.type = 'thread.created' and not coalesce(c.data ->> 'silent', '') = 'true')
        or (c.type = 'message.created' and not coalesce(c.data ->> 'first', '') = 'true')
  ), recorded as (
    insert into event_consumers (event_id, org_id, consumer, next_attempt_at)
    select w.id, w.org_id, w.consumer, now() + interval '1 minute' from wanted w
    on conflict do nothing
  ), published as (
    update outbox_events e set published_at = now() from claimed c where e.id = c.id
  )
  -- One row per claimed event (consumer null when it needs none), so the caller knows how many
  -- it claimed.
  select c.id, c.org_id, w.consumer from claimed c left join wanted w on w.id = c.id;
end $$`;

/**
 * The reconciler's view: consumer rows due and not done (their job was lost, or failed without
 * exhausting its attempts). Pushes their next_attempt_at out by p_grace so a slow job is not
 * dispatched twice in a row, and counts dispatches (for fresh job ids).
 */
const RELAY_DUE = `
create or replace function rm_relay_due(p_limit integer, p_grace interval)
returns table (event_id uuid, org_id uuid, consumer text, dispatches integer)
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  return query
  with due as (
    select c.event_id, c.consumer from event_consumers c
     where c.done_at is null and c.dead_at is null and c.next_attempt_at <= now()
     order by c.next_attempt_at
     limit p_limit
     for update skip locked
  )
  update event_consumers c set next_attempt_at = now() + p_grace, dispatches = c.dispatches + 1
    from due d where c.event_id = d.event_id and c.consumer = d.consumer
  returning c.event_id, c.org_id, c.consumer, c.dispatches;
end $$`;

/** Deletes published events whose consumers are all done (or dead), once older than p_age. */
const RELAY_PRUNE = `
create or replace function rm_relay_prune(p_age interval)
returns integer language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_count integer;
begin
  delete from outbox_events e
   where e.published_at is not null and e.created_at < now() - p_age
     and not exists (select 1 from event_consumers c
                      where c.event_id = e.id and c.done_at is null and c.dead_at is null);
  get diagnostics v_count = row_count;
  return v_count;
end $$`;

/** A consumer attempt failed: count it, keep the error, and say when it is due again (or dead). */
const RECORD_FAILURE = `
create or replace function rm_record_consumer_failure(
  p_event uuid, p_consumer text, p_error text, p_retry_in interval, p_dead boolean
) returns void language sql as $$
  insert into event_consumers (event_id, org_id, consumer, next_attempt_at)
    values (p_event, nullif(current_setting('app.org_id', true), '')::uuid, p_consumer, now() + p_retry_in)
    on conflict do nothing;
  update event_consumers set attempts = attempts + 1, last_error = left(p_error, 2000),
         next_attempt_at = now() + p_retry_in, dead_at = case when p_dead then now() end
   where event_id = p_event and consumer = p_consumer and done_at is null
$$`;
