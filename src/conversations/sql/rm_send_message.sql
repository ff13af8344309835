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
-- - Few statements (issue 17, "lighter send SQL"): one reads and locks both participant rows with
--   their memberships (the recipient's active, the sender's read receipts), one writes both rows,
--   the notifications' read is inline (a LANGUAGE sql function called from here is planned again
--   in every transaction), and the outbox rows (the sender's message.read, message.created) are
--   one insert, so its trigger runs once.
create or replace function rm_send_message(
  p_thread uuid, p_sender uuid, p_body text, p_client_id text, p_hash bytea, p_first boolean
)
returns table (status text, message_id uuid, seq integer, created_at timestamptz)
language plpgsql as $$
declare
  v_org uuid := nullif(current_setting('app.org_id', true), '')::uuid;
  v_existing record;
  v_row record;
  v_me record;
  v_other record;
  v_party boolean := false;
  v_seq integer;
  v_withheld boolean;
  v_read boolean;
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
  -- in too), so a send and a worker batch never wait on each other in a cycle; with each its
  -- membership (the recipient's active, the sender's read receipts), in the same statement.
  for v_row in
    select tp.user_id, tp.other_user_id, tp.blocks_other, tp.last_read_seq, tp.unread_count,
           ms.active, ms.read_receipts
      from thread_participants tp
      join memberships ms on ms.org_id = tp.org_id and ms.user_id = tp.user_id
     where tp.thread_id = p_thread
     order by tp.user_id
     for no key update of tp
  loop
    if v_row.user_id = p_sender then
      v_me := v_row;
      v_party := true;
    else
      v_other := v_row;
    end if;
  end loop;
  if not v_party then
    return query select 'not-found'::text, null::uuid, null::integer, null::timestamptz;
    return;
  end if;
  if v_me.blocks_other then
    return query select 'blocked-by-you'::text, null::uuid, null::integer, null::timestamptz;
    return;
  end if;
  if not v_other.active then
    return query select 'recipient-inactive'::text, null::uuid, null::integer, null::timestamptz;
    return;
  end if;
  v_withheld := v_other.blocks_other;
  -- Time and id are taken under the lock, strictly after the previous message's: createdAt and
  -- the UUIDv7 order agree with seq even when senders race.
  v_now := greatest(clock_timestamp(), v_prev + interval '1 microsecond');
  v_id := rm_uuid_v7_at(v_now);

  update message_threads t set last_seq = t.last_seq + 1, last_message_at = v_now
    where t.id = p_thread returning t.last_seq into v_seq;
  insert into messages (id, org_id, thread_id, seq, sender_id, body, client_message_id, request_hash, withheld, created_at)
    values (v_id, v_org, p_thread, v_seq, p_sender, p_body, p_client_id, p_hash, v_withheld, v_now);

  -- The sender has read everything up to their own message: a read like POST …/read (a range in
  -- message_reads when they had something unread, their notifications of the thread read), with
  -- its message.read event below.
  v_read := v_me.last_read_seq < v_seq - 1;
  if v_read then
    insert into message_reads (org_id, thread_id, reader_id, from_seq, to_seq, read_at)
      values (v_org, p_thread, p_sender, v_me.last_read_seq, v_seq, v_now);
  end if;
  -- rm_after_read, inline.
  update notifications n set read_at = now()
   where n.org_id = v_org and n.user_id = p_sender and n.thread_id = p_thread and n.read_at is null;
  -- Both participant rows in one statement. The sender's: read up to their message, listed. The
  -- recipient's is written either way, so a withheld send costs what a normal one does.
  update thread_participants tp set
      last_read_seq = case when tp.user_id = p_sender then v_seq else tp.last_read_seq end,
      last_read_at = case when tp.user_id = p_sender then v_now else tp.last_read_at end,
      unread_count = case when tp.user_id = p_sender then 0
                          else tp.unread_count + case when v_withheld then 0 else 1 end end,
      last_visible_seq = case when tp.user_id = p_sender or not v_withheld then v_seq else tp.last_visible_seq end,
      last_message_at = case when tp.user_id = p_sender or not v_withheld then v_now else tp.last_message_at end,
      activity_at = case when tp.user_id = p_sender or not v_withheld then v_now else tp.activity_at end,
      listed = tp.listed or tp.user_id = p_sender or not v_withheld
    where tp.thread_id = p_thread and tp.user_id in (p_sender, v_me.other_user_id);

  -- One insert, so the outbox trigger runs once. The sender's read has its message.read event
  -- (naming the newest message before theirs; none is hidden from them here) when their receipts
  -- are on, except when the message is withheld: an event at its very moment would betray it.
  -- (The read is not lost: the pointer moved, and receipts show it.)
  -- A withheld message produces no notification and no webhook (the relay gives its event to
  -- the event streams only, which show it to the sender alone). `senderRead`: the send moved the
  -- sender's read pointer past messages of the other, so their unread count changed.
  insert into outbox_events (id, org_id, type, thread_id, message_id, actor_id, seq, data, created_at)
    select rm_uuid_v7(), v_org, 'message.read', p_thread, m.id, p_sender, m.seq, '{}'::jsonb, v_now
      from messages m
     where v_read and v_me.read_receipts and not v_withheld
       and m.thread_id = p_thread and m.seq = v_seq - 1
    union all
    select rm_uuid_v7(), v_org, 'message.created', p_thread, v_id, p_sender, v_seq,
           jsonb_strip_nulls(jsonb_build_object(
             'first', case when p_first then true end,
             'withheld', case when v_withheld then true end,
             'senderRead', case when v_me.unread_count > 0 then true end)),
           v_now;
  return query select 'created'::text, v_id, v_seq, v_now;
end $$;
