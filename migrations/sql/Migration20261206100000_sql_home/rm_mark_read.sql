-- Moves the reader's pointer forward (never back). Statuses: moved | unchanged | not-found.
--
-- A read up to message X (by default the reader's latest visible one) passes the messages hidden
-- from the reader that follow X: the pointer moves to just before the next message the reader can
-- see, or to the thread's end (docs/blocking.md, "Receipts"). `last_read_seq` and
-- `last_read_message_id` name the newest message the reader can see at or before the pointer. The
-- range passed is recorded in message_reads (each message's exact first-seen time per reader), and a
-- message.read event names what the reader saw, when the reader emits receipts.
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
end $$;
