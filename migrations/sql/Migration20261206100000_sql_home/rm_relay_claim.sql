-- The outbox relay (SECURITY DEFINER, owned by rm_relay: it sees every org). Claims up to p_limit
-- unpublished events (skip locked: several relays cooperate), records the consumers each needs in
-- event_consumers (notifications; webhooks when the org has an enabled endpoint for the type; a
-- 'silent' thread start has neither), and marks them published. Runs inside the relay's
-- transaction: if adding the jobs to Redis fails, the relay rolls back and the events stay
-- unpublished. Returns one row per claimed event (consumer null when it needs none) and hands out
-- ids, org ids and consumer names, never text.
create or replace function rm_relay_claim(p_limit integer)
returns table (event_id uuid, org_id uuid, consumer text)
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  return query
  with claimed as (
    select e.id, e.org_id, e.type, e.data from outbox_events e
     where e.published_at is null
     order by e.created_at
     limit p_limit
     for update skip locked
  ), wanted as (
    select c.id, c.org_id, 'notifications'::text as consumer from claimed c
     where (c.type = 'thread.created' and coalesce(c.data ->> 'silent', '') <> 'true')
        or (c.type = 'message.created' and coalesce(c.data ->> 'first', '') <> 'true')
    union all
    select c.id, c.org_id, 'webhooks'::text from claimed c
     where exists (select 1 from webhook_routes r where r.org_id = c.org_id and r.event_type = c.type)
       and not (c.type = 'thread.created' and coalesce(c.data ->> 'silent', '') = 'true')
  ), recorded as (
    insert into event_consumers (event_id, org_id, consumer, next_attempt_at)
    select w.id, w.org_id, w.consumer, now() + interval '1 minute' from wanted w
    on conflict do nothing
  ), published as (
    update outbox_events e set published_at = now() from claimed c where e.id = c.id
  )
  select c.id, c.org_id, w.consumer from claimed c left join wanted w on w.id = c.id;
end $$;
