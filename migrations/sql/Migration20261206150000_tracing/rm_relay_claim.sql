-- The outbox relay (SECURITY DEFINER, owned by rm_relay: it sees every org). Claims up to p_limit
-- unpublished events (skip locked: several relays cooperate), records the consumers each needs in
-- event_consumers, and marks them published (the event streams' row is written with the event,
-- by rm_outbox_stream_consumer):
-- - notifications: a new thread (not a 'silent' one, started by someone the recipient blocks) and
--   a message that is neither a thread's first (covered by thread.started) nor withheld;
-- - webhooks: the four public types when the org has an enabled endpoint for the type, never for
--   a silent start, a withheld message or a read by a member whose receipts are off.
-- Runs inside the relay's transaction: if adding the jobs to Redis fails, the relay rolls back and
-- the events stay unpublished. Returns one row per claimed event and consumer that is dispatched
-- as a job (consumer null when there is none) and hands out ids, org ids, consumer names and the
-- W3C trace context of the request that wrote the event (null when it was not traced), never text.
create or replace function rm_relay_claim(p_limit integer)
returns table (event_id uuid, org_id uuid, consumer text, traceparent text)
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  return query
  with claimed as (
    select e.id, e.org_id, e.type, e.data, e.traceparent,
           coalesce(e.data ->> 'withheld', '') = 'true' as withheld,
           coalesce(e.data ->> 'silent', '') = 'true' as silent
      from outbox_events e
     where e.published_at is null
     order by e.created_at
     limit p_limit
     for update skip locked
  ), wanted as (
    select c.id, c.org_id, 'notifications'::text as consumer, now() + interval '1 minute' as due
      from claimed c
     where (c.type = 'thread.created' and not c.silent)
        or (c.type = 'message.created' and coalesce(c.data ->> 'first', '') <> 'true'
            and not c.withheld)
    union all
    select c.id, c.org_id, 'webhooks'::text, now() + interval '1 minute' from claimed c
     where exists (select 1 from webhook_routes r where r.org_id = c.org_id and r.event_type = c.type)
       and not c.silent and not c.withheld
       and coalesce(c.data ->> 'receipts', '') <> 'false'
  ), recorded as (
    insert into event_consumers (event_id, org_id, consumer, next_attempt_at)
    select w.id, w.org_id, w.consumer, w.due from wanted w
    on conflict do nothing
  ), published as (
    update outbox_events e set published_at = now() from claimed c where e.id = c.id
  )
  select c.id, c.org_id, w.consumer, c.traceparent from claimed c
    left join wanted w on w.id = c.id;
end $$;
