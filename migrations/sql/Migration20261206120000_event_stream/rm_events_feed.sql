-- The relay's fallback while Redis cannot take jobs (SECURITY DEFINER, owned by rm_relay: it sees
-- every org). The events cannot be published (their notification and webhook jobs would be lost),
-- but the members' event streams need PostgreSQL only: gives up to p_limit unpublished events
-- their 'events' consumer row (due at once, for the event pump) without publishing them. When
-- Redis is back, rm_relay_claim publishes them and finds that row already there. Returns how
-- many rows it added; hands out nothing else.
create or replace function rm_events_feed(p_limit integer)
returns integer
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_added integer;
begin
  with waiting as (
    select e.id, e.org_id from outbox_events e
     where e.published_at is null
       and not exists (select 1 from event_consumers c
                        where c.event_id = e.id and c.consumer = 'events')
     order by e.created_at
     limit p_limit
     for update skip locked
  )
  insert into event_consumers (event_id, org_id, consumer, next_attempt_at)
  select w.id, w.org_id, 'events', now() from waiting w
  on conflict do nothing;
  get diagnostics v_added = row_count;
  return v_added;
end $$;
