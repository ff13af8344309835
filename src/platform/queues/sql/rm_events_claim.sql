-- The event pump's claim (SECURITY DEFINER: it crosses orgs): up to p_limit events whose 'events'
-- consumer is due and not done, oldest first, leased for p_lease (a pump that dies leaves them due
-- again after it). Hands out ids and org ids only.
create or replace function rm_events_claim(p_limit integer, p_lease interval)
returns table (event_id uuid, org_id uuid)
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  return query
  with due as (
    select c.org_id, c.event_id from event_consumers c
     where c.consumer = 'events' and c.done_at is null and c.dead_at is null
       and c.next_attempt_at <= now()
     order by c.next_attempt_at, c.created_at
     limit p_limit
     for update skip locked
  )
  update event_consumers c set next_attempt_at = now() + p_lease, dispatches = c.dispatches + 1
    from due d where c.org_id = d.org_id and c.event_id = d.event_id and c.consumer = 'events'
  returning c.event_id, c.org_id;
end $$;
