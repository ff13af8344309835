-- A page of a thread's messages that the viewer may see, as JSON (issue 17): oldest first after
-- p_after_seq, else newest first before p_before_seq (or from the end). The viewer may see a
-- message they sent, or the other's when it is not withheld and the viewer does not block them.
-- Each message carries its receipt: the range of the non-sender's read pointer that first passed
-- it (the receipt rules are applied by the service). The page is chosen from the (thread, seq)
-- key first, then rendered with the few read ranges of both participants that overlap it, read
-- once (cheaper than one index probe per message).
create or replace function rm_message_page(
  p_thread uuid, p_user uuid, p_other uuid, p_blocks boolean,
  p_before_seq integer, p_after_seq integer, p_limit integer
)
returns json
language plpgsql stable as $$
declare
  v_seqs integer[];
begin
  if p_after_seq is not null then
    v_seqs := array(
      select m.seq from messages m
       where m.thread_id = p_thread and (m.sender_id = p_user or (not m.withheld and not p_blocks))
         and m.seq > p_after_seq
       order by m.seq asc limit p_limit);
  else
    v_seqs := array(
      select m.seq from messages m
       where m.thread_id = p_thread and (m.sender_id = p_user or (not m.withheld and not p_blocks))
         and m.seq < coalesce(p_before_seq, 2147483647)
       order by m.seq desc limit p_limit);
  end if;
  return (
    with page as materialized (
      select u.n, m.id, m.thread_id, m.seq, m.sender_id, m.body, m.client_message_id, m.created_at, m.deleted_at
        from unnest(v_seqs) with ordinality as u(seq, n)
        join messages m on m.thread_id = p_thread and m.seq = u.seq
    ), reads as materialized (
      select mr.reader_id, mr.from_seq, mr.to_seq, mr.read_at
        from message_reads mr
       where mr.thread_id = p_thread and mr.reader_id in (p_user, p_other)
         and mr.to_seq >= (select min(seq) from page) and mr.from_seq < (select max(seq) from page)
    )
    select coalesce(json_agg(json_build_object(
             'id', p.id,
             'threadId', p.thread_id,
             'seq', p.seq,
             'senderId', p.sender_id,
             'body', p.body,
             'clientMessageId', p.client_message_id,
             'createdAt', p.created_at,
             'deletedAt', p.deleted_at,
             'seenAt', (select r.read_at from reads r
                         where r.reader_id = case when p.sender_id = p_user then p_other else p_user end
                           and r.to_seq >= p.seq and r.from_seq < p.seq
                         limit 1)
           ) order by p.n), '[]'::json)
      from page p
  );
end $$;
