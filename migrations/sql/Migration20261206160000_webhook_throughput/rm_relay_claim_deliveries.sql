-- Webhook deliveries that are due (next_attempt_at set and reached, whatever their status) and
-- not leased: leases them for p_lease (the job renews it when it starts the attempt) and hands
-- them out with their endpoint (the relay batches them by endpoint), the attempt number and a
-- dispatch count (an attempt starts once per dispatch) (SECURITY DEFINER: the relay crosses orgs).
--
-- Fair between endpoints: an endpoint has at most p_per_endpoint deliveries leased (dispatched and
-- not yet recorded) at once, and one while it is failing (failing_since set: one probe at a time,
-- the rest wait for its outcome), so a slow or failing receiver holds few of the workers' delivery
-- slots. Each endpoint with work pending is found by a skip scan of the partial index of
-- deliveries with an attempt to come (one probe per endpoint, however deep its backlog), and
-- offers its oldest due deliveries up to its free slots; of those, the oldest p_limit are leased.
create or replace function rm_relay_claim_deliveries(p_limit integer, p_lease interval, p_per_endpoint integer)
returns table (delivery_id uuid, org_id uuid, endpoint_id uuid, attempt integer, dispatches integer)
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  return query
  with recursive endpoints (id) as (
    (select w.endpoint_id from webhook_deliveries w
      where w.next_attempt_at is not null order by w.endpoint_id limit 1)
    union all
    select (select w.endpoint_id from webhook_deliveries w
             where w.next_attempt_at is not null and w.endpoint_id > p.id
             order by w.endpoint_id limit 1)
      from endpoints p where p.id is not null
  ),
  offered as (
    select c.id, c.next_attempt_at
      from endpoints p
      join webhook_endpoints e on e.id = p.id
      cross join lateral (
        select case when e.failing_since is null then p_per_endpoint else 1 end
               - (select count(*) from webhook_deliveries l
                   where l.endpoint_id = p.id and l.lease_until is not null
                     and l.lease_until >= now())::integer as free
      ) s
      cross join lateral (
        select w.id, w.next_attempt_at from webhook_deliveries w
         where w.endpoint_id = p.id and w.next_attempt_at <= now()
           and (w.lease_until is null or w.lease_until < now())
         order by w.next_attempt_at
         limit greatest(s.free, 0)
      ) c
     order by c.next_attempt_at
     limit p_limit
  ),
  due as (
    select d.id from webhook_deliveries d
     where d.id in (select o.id from offered o)
       and d.next_attempt_at <= now()
       and (d.lease_until is null or d.lease_until < now())
     for update skip locked
  )
  update webhook_deliveries d set lease_until = now() + p_lease, dispatches = d.dispatches + 1
    from due where d.id = due.id
  returning d.id, d.org_id, d.endpoint_id, d.attempts + 1, d.dispatches;
end $$;
