-- Deletes published events whose consumers are all done (or dead), once older than p_age
-- (SECURITY DEFINER: pruning crosses orgs).
create or replace function rm_relay_prune(p_age interval)
returns integer
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_count integer;
begin
  delete from outbox_events e
   where e.published_at is not null and e.created_at < now() - p_age
     and not exists (select 1 from event_consumers c
                      where c.org_id = e.org_id and c.event_id = e.id and c.done_at is null and c.dead_at is null);
  get diagnostics v_count = row_count;
  return v_count;
end $$;
