-- Threads as one participant sees them, as JSON, in the order given (issue 17: the one rendering
-- of a thread row, for the list, one thread and the thread view). Each row: the viewer's state
-- (unread count, read and visible pointers, whether they block the other, activityKey: the
-- list's sort key with microseconds, for cursors), the other participant's display and receipt
-- settings, and the last message the viewer may see with its receipt (the range of the
-- non-sender's read pointer that first passed it; the receipt rules are applied by the service).
-- Threads the viewer takes no part in are left out. Runs as the caller: row-level security
-- gives every join its org.
create or replace function rm_thread_rows(p_user uuid, p_threads uuid[])
returns json
language plpgsql stable as $$
begin
  return (
    select coalesce(json_agg(json_build_object(
             'id', tp.thread_id,
             'kind', t.kind,
             'createdAt', t.created_at,
             'lastMessageAt', tp.last_message_at,
             'unreadCount', tp.unread_count,
             'activityKey', to_char(tp.activity_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
             'blocksOther', tp.blocks_other,
             'lastReadSeq', tp.last_read_seq,
             'lastVisibleSeq', tp.last_visible_seq,
             'otherId', om.user_id,
             'otherName', om.display_name,
             'otherRole', om.role,
             'otherReceipts', om.read_receipts,
             'otherReceiptsSince', om.receipts_since,
             'lastMessage', case when m.id is not null then json_build_object(
               'id', m.id,
               'threadId', m.thread_id,
               'seq', m.seq,
               'senderId', m.sender_id,
               'body', m.body,
               'clientMessageId', m.client_message_id,
               'createdAt', m.created_at,
               'deletedAt', m.deleted_at,
               'seenAt', (select mr.read_at from message_reads mr
                           where mr.thread_id = tp.thread_id
                             and mr.reader_id = case when m.sender_id = tp.user_id then tp.other_user_id
                                                     else tp.user_id end
                             and mr.to_seq >= m.seq and mr.from_seq < m.seq
                           order by mr.to_seq limit 1)) end
           ) order by u.n), '[]'::json)
      from unnest(p_threads) with ordinality as u(thread_id, n)
      join thread_participants tp on tp.thread_id = u.thread_id and tp.user_id = p_user
      join message_threads t on t.id = tp.thread_id
      join memberships om on om.org_id = tp.org_id and om.user_id = tp.other_user_id
      left join messages m on m.thread_id = tp.thread_id and m.seq = tp.last_visible_seq
  );
end $$;
