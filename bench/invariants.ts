import { withOwner } from './db';

/**
 * The invariants the service relies on, recomputed from the messages: each query returns the
 * number of rows that break one. Used after seeding (the smoke test asserts none).
 */
const CHECKS: Record<string, string> = {
  'thread last_seq / last_message_at': `
    select count(*) from message_threads t
      left join lateral (select max(seq) as s, count(*) as n, max(created_at) as at
                           from messages m where m.thread_id = t.id) m on true
     where t.last_seq <> coalesce(m.s, 0) or t.last_seq <> m.n
        or t.last_message_at is distinct from m.at`,
  'seq order = created_at order': `
    select count(*) from (
      select created_at < lag(created_at) over (partition by thread_id order by seq) as bad
        from messages) x where bad`,
  'UUIDv7 ids carry created_at': `
    select count(*) from messages
     where substr(id::text, 15, 1) <> '7'
        or ('x' || lpad(replace(substr(id::text, 1, 13), '-', ''), 16, '0'))::bit(64)::bigint
           <> floor(extract(epoch from created_at) * 1000)::bigint`,
  'two participants per thread, mirrored': `
    select count(*) from message_threads t
     where (select count(*) from thread_participants p
             where p.thread_id = t.id
               and ((p.user_id = t.user_low and p.other_user_id = t.user_high)
                 or (p.user_id = t.user_high and p.other_user_id = t.user_low))) <> 2`,
  'blocks_other mirrors user_blocks': `
    select count(*) from thread_participants p
     where p.blocks_other <> exists (select 1 from user_blocks b
                                      where b.org_id = p.org_id and b.blocker_id = p.user_id
                                        and b.blocked_id = p.other_user_id)`,
  'participant state (read pointer, unread, last visible, activity)': `
    select count(*) from thread_participants p
      join message_threads t on t.id = p.thread_id
      left join lateral (
        select max(m.seq) filter (where m.sender_id = p.user_id
                                    or (not m.withheld and not p.blocks_other)) as visible,
               max(m.created_at) filter (where m.sender_id = p.user_id
                                    or (not m.withheld and not p.blocks_other)) as visible_at,
               count(*) filter (where m.seq > p.last_read_seq and m.sender_id <> p.user_id
                                  and not m.withheld and m.deleted_at is null) as unread
          from messages m where m.thread_id = p.thread_id) v on true
     where p.last_read_seq > t.last_seq or p.last_read_seq < 0
        or p.unread_count <> case when p.blocks_other then 0 else v.unread end
        or p.last_visible_seq is distinct from v.visible
        or p.last_message_at is distinct from v.visible_at
        or p.activity_at <> coalesce(v.visible_at, t.created_at)
        or not p.listed`,
  'read ranges contiguous from 0 to the pointer': `
    select count(*) from thread_participants p
      left join lateral (
        select count(*) as n,
               count(*) filter (where r.from_seq <> coalesce(r.prev, 0) or r.from_seq >= r.to_seq) as bad,
               max(r.to_seq) as top
          from (select from_seq, to_seq, lag(to_seq) over (order by to_seq) as prev
                  from message_reads mr
                 where mr.thread_id = p.thread_id and mr.reader_id = p.user_id) r) x on true
     where x.bad > 0 or coalesce(x.top, 0) <> p.last_read_seq`,
  'withheld only from a blocked sender': `
    select count(*) from messages m
      join message_threads t on t.id = m.thread_id
     where m.withheld and not exists (
       select 1 from user_blocks b
        where b.org_id = m.org_id and b.blocked_id = m.sender_id
          and b.blocker_id = case when m.sender_id = t.user_low then t.user_high else t.user_low end
          and b.created_at < m.created_at)`,
};

export async function checkInvariants(ownerUrl: string): Promise<Record<string, number>> {
  return withOwner(ownerUrl, async (c) => {
    const broken: Record<string, number> = {};
    for (const [name, sql] of Object.entries(CHECKS)) {
      const { rows } = await c.query<{ count: string }>(sql);
      const n = Number(rows[0].count);
      if (n) broken[name] = n;
    }
    return broken;
  });
}
