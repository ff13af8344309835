-- Webhook deliveries that are due (next_attempt_at set and reached, whatever their status) and
-- not leased: leases them for p_lease (the job renews it when it starts the attempt) and hands
-- them out with the attempt number and a dispatch count for job ids (SECURITY DEFINER: the relay
-- crosses orgs).
create or replace function rm_relay_claim_deliveries(p_limit integer, p_lease interval)
returns table (delivery_id uuid, org_id uuid, attempt integer, dispatches integer)
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  return query
  with due as (
    select d.id from webhook_deliveries d
     where d.next_attempt_at <= now()
       and (d.lease_until is null or d.lease_until < now())
     order by d.next_attempt_at
     limit p_limit
     for update skip locked
  )
  update webhook_deliveries d set lease_until = now() + p_lease, dispatches = d.dispatches + 1
    from due where d.id = due.id
  returning d.id, d.org_id, d.attempts + 1, d.dispatches;
end $$;
