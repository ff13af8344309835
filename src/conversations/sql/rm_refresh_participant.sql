-- Recomputes what one participant sees of a thread (last visible message, list position, unread
-- count) from the messages; used when blocking changes what they may see. Index-backed: it walks
-- the thread's messages by seq.
create or replace function rm_refresh_participant(p_thread uuid, p_user uuid)
returns void
language plpgsql as $$
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
end $$;
