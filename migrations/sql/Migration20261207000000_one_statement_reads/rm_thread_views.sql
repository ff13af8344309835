-- Threads as one participant (`me`) sees them, in the order given (issue 17: the one rendering of
-- a thread, for the list, the thread view, the start of a thread and the event streams). `view`
-- is the thread as the API answers it (SPEC §4 "Thread"): both participants, the last message me
-- may see (rm_message_view, with its receipt) and me's unread count. With it, what the callers
-- need of the thread: the list's sort key with microseconds (activity_key, for cursors), whether
-- me blocks the other, and the other participant (to render a page of messages). Threads me takes
-- no part in are left out. Runs as the caller: row-level security gives every join its org.
create or replace function rm_thread_views(
  p_me uuid, p_me_name text, p_me_role text, p_me_receipts boolean, p_me_since timestamptz,
  p_threads uuid[]
)
returns table (
  thread_id uuid, activity_key text, blocks_other boolean,
  other_id uuid, other_name text, other_role text, other_receipts boolean, other_since timestamptz,
  view json
)
language plpgsql stable as $$
begin
  return query
  select tp.thread_id,
         to_char(tp.activity_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
         tp.blocks_other,
         om.user_id, om.display_name, om.role, om.read_receipts, om.receipts_since,
         json_build_object(
           'id', tp.thread_id,
           'kind', t.kind,
           'participants', json_build_array(
             json_build_object('userId', p_me, 'displayName', p_me_name, 'role', p_me_role),
             json_build_object('userId', om.user_id, 'displayName', om.display_name, 'role', om.role)),
           'lastMessage', case when m.id is not null then rm_message_view(
             m.id, m.thread_id, m.seq, m.sender_id, m.body, m.client_message_id, m.created_at,
             m.deleted_at, seen.read_at,
             p_me, p_me_name, p_me_role, p_me_receipts, p_me_since,
             om.user_id, om.display_name, om.role, om.read_receipts, om.receipts_since) end,
           'lastMessageAt', rm_iso(tp.last_message_at),
           'unreadCount', tp.unread_count,
           'createdAt', rm_iso(t.created_at))
    from unnest(p_threads) with ordinality as u(id, n)
    join thread_participants tp on tp.thread_id = u.id and tp.user_id = p_me
    join message_threads t on t.id = tp.thread_id
    join memberships om on om.org_id = tp.org_id and om.user_id = tp.other_user_id
    left join messages m on m.thread_id = tp.thread_id and m.seq = tp.last_visible_seq
    -- The receipt: the range of the non-sender's read pointer that first passed the message.
    left join lateral (
      select mr.read_at from message_reads mr
       where mr.thread_id = tp.thread_id
         and mr.reader_id = case when m.sender_id = tp.user_id then tp.other_user_id else tp.user_id end
         and mr.to_seq >= m.seq and mr.from_seq < m.seq
       order by mr.to_seq limit 1
    ) seen on true
   order by u.n;
end $$;
