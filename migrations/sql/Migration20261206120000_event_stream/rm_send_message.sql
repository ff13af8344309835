-- Sends a message. Statuses: created | repeat | key-conflict | in-progress | not-found |
-- blocked-by-you | recipient-inactive.
--
-- - The idempotency key: an advisory lock on (org, sender, key) tells a repeat still in flight
--   (in-progress, 409) from a finished one (repeat, or key-conflict when thread or body differ).
-- - The thread row lock orders concurrent senders (seq 1..n, no gap, no repeat) and serializes them
--   with block/unblock, so a message is withheld exactly when the recipient blocks the sender at
--   the moment of sending. Both participant rows are then locked in user_id order, the order the
--   notification worker locks them in, so a send and a worker batch never deadlock.
-- - createdAt and the UUIDv7 id are taken under the lock, strictly after the previous message's:
--   id and time order agree with seq even when senders race.
-- - The send reads everything before it for the sender (a read with its message.read event, except
--   for a withheld message: an event at its very moment would betray it).
-- - A withheld message produces no notification and no webhook: its event (marked withheld) goes
--   to the event streams only, which show it to the sender alone; the recipient's row is written
--   either way, so a withheld send costs what a normal one does.
create or replace function rm_send_message(
  p_thread uuid, p_sender uuid, p_body text, p_client_id text, p_hash bytea, p_first boolean
)
returns table (status text, message_id uuid, seq integer, created_at timestamptz)
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

  -- A withheld message produces no notification and no webhook (the relay gives its event to
  -- the event streams only, which show it to the sender alone). `senderRead`: the send moved the
  -- sender's read pointer past messages of the other, so their unread count changed.
  insert into outbox_events (id, org_id, type, thread_id, message_id, actor_id, seq, data, created_at)
    values (rm_uuid_v7(), v_org, 'message.created', p_thread, v_id, p_sender, v_seq,
            jsonb_strip_nulls(jsonb_build_object(
              'first', case when p_first then true end,
              'withheld', case when v_withheld then true end,
              'senderRead', case when v_me.unread_count > 0 then true end)),
            v_now);
  return query select 'created'::text, v_id, v_seq, v_now;
end $$;
