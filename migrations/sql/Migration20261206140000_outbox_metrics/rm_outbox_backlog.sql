-- The outbox's backlog for the metrics (SECURITY DEFINER, owned by rm_relay: it counts every org;
-- executable by the worker's role only). Reads, never writes, and hands out no id: one row per
-- stage, 'relay' (events not yet published) and each consumer (work neither done nor dead), with
-- how many are pending and the age in seconds of the oldest (0 when none). Both scans use the
-- partial indexes of pending rows, so a scrape costs little while the backlog is small.
create or replace function rm_outbox_backlog()
returns table (stage text, pending bigint, oldest_age_seconds double precision)
language plpgsql stable security definer set search_path = public, pg_temp as $$
begin
  return query
  select 'relay'::text, count(*),
         coalesce(extract(epoch from now() - min(e.created_at)), 0)::double precision
    from outbox_events e
   where e.published_at is null
  union all
  select s.consumer, count(c.event_id),
         coalesce(extract(epoch from now() - min(e.created_at)), 0)::double precision
    from (values ('notifications'::text), ('webhooks'), ('events')) s (consumer)
    left join event_consumers c
      on c.consumer = s.consumer and c.done_at is null and c.dead_at is null
    left join outbox_events e on e.id = c.event_id
   group by s.consumer;
end $$;
