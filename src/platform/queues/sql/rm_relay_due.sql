-- The reconciler's view (SECURITY DEFINER): consumer rows due and not done (their job was lost,
-- or failed without exhausting its attempts), of the consumers run as jobs (the event pump claims
-- its own rows: rm_events_claim). Pushes their next_attempt_at out by p_grace so a slow
-- job is not dispatched twice in a row, and counts dispatches (for fresh job ids).
create or replace function rm_relay_due(p_limit integer, p_grace interval)
returns table (event_id uuid, org_id uuid, consumer text, dispatches integer)
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  return query
  with due as (
    select c.org_id, c.event_id, c.consumer from event_consumers c
     where c.done_at is null and c.dead_at is null and c.next_attempt_at <= now()
       and c.consumer <> 'events'
     order by c.next_attempt_at
     limit p_limit
     for update skip locked
  )
  update event_consumers c set next_attempt_at = now() + p_grace, dispatches = c.dispatches + 1
    from due d
   where c.org_id = d.org_id and c.event_id = d.event_id and c.consumer = d.consumer
  returning c.event_id, c.org_id, c.consumer, c.dispatches;
end $$;
