-- A page of a thread's messages as the API answers it to `me` (SPEC §4 "Messages"), as JSON:
-- {"data": [...], "nextCursor": ...}, always in ascending seq order. After p_after_seq: the
-- oldest p_limit after it, and nextCursor the first of them (the cursor message itself is older
-- and visible). Otherwise the newest p_limit before p_before_seq (or from the end), and
-- nextCursor the first of them when older ones exist (one more is read to know), else null.
-- Me may see a message they sent, or the other's when it is not withheld and me does not block
-- them. The page is chosen from the (thread, seq) key first; the few read ranges of both
-- participants that overlap it are read once for the receipts (cheaper than one index probe per
-- message); each message is rendered by rm_message_view.
create or replace function rm_message_page(
  p_thread uuid,
  p_me uuid, p_me_name text, p_me_role text, p_me_receipts boolean, p_me_since timestamptz,
  p_other uuid, p_other_name text, p_other_role text, p_other_receipts boolean, p_other_since timestamptz,
  p_blocks boolean, p_before_seq integer, p_after_seq integer, p_limit integer
)
returns json
language plpgsql stable as $$
declare
  v_seqs integer[];
  v_more boolean := false;
begin
  if p_after_seq is not null then
    v_seqs := array(
      select m.seq from messages m
       where m.thread_id = p_thread and (m.sender_id = p_me or (not m.withheld and not p_blocks))
         and m.seq > p_after_seq
       order by m.seq asc limit p_limit);
  else
    v_seqs := array(
      select m.seq from messages m
       where m.thread_id = p_thread and (m.sender_id = p_me or (not m.withheld and not p_blocks))
         and m.seq < coalesce(p_before_seq, 2147483647)
       order by m.seq desc limit p_limit + 1);
    v_more := cardinality(v_seqs) > p_limit;
    if v_more then
      v_seqs := v_seqs[1:p_limit];
    end if;
  end if;
  return (
    with page as materialized (
      select m.id, m.thread_id, m.seq, m.sender_id, m.body, m.client_message_id, m.created_at, m.deleted_at
        from messages m
       where m.thread_id = p_thread and m.seq = any(v_seqs)
    ), reads as materialized (
      select mr.reader_id, mr.from_seq, mr.to_seq, mr.read_at
        from message_reads mr
       where mr.thread_id = p_thread and mr.reader_id in (p_me, p_other)
         and mr.to_seq >= (select min(seq) from page) and mr.from_seq < (select max(seq) from page)
    )
    select json_build_object(
             'data', coalesce(json_agg(rm_message_view(
                       p.id, p.thread_id, p.seq, p.sender_id, p.body, p.client_message_id,
                       p.created_at, p.deleted_at, seen.read_at,
                       p_me, p_me_name, p_me_role, p_me_receipts, p_me_since,
                       p_other, p_other_name, p_other_role, p_other_receipts, p_other_since)
                     order by p.seq), '[]'::json),
             'nextCursor', case when p_after_seq is not null or v_more
                                then (array_agg(p.id order by p.seq))[1] end)
      from page p
      left join lateral (
        select r.read_at from reads r
         where r.reader_id = case when p.sender_id = p_me then p_other else p_me end
           and r.to_seq >= p.seq and r.from_seq < p.seq
         limit 1
      ) seen on true
  );
end $$;
