create or replace function rm_relay_expedite() returns integer
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_consumers integer;
  v_deliveries integer;
begin
  update event_consumers set next_attempt_at = now()
   where done_at is null and dead_at is null and next_attempt_at > now();
  get diagnostics v_consumers = row_count;
  update webhook_deliveries set lease_until = null
   where next_attempt_at is not null and lease_until > now();
  get diagnostics v_deliveries = row_count;
  return v_consumers + v_deliveries;
end $$