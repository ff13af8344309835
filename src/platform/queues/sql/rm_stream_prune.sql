-- Forgets what event streams no longer need (SECURITY DEFINER: pruning crosses orgs): stream
-- events older than p_age (resume works that far back) and expired stream tickets. Returns the
-- rows deleted.
create or replace function rm_stream_prune(p_age interval)
returns integer language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_events integer;
  v_tickets integer;
begin
  delete from stream_events s where s.created_at < now() - p_age;
  get diagnostics v_events = row_count;
  delete from stream_tickets t where t.expires_at < now() - interval '1 minute';
  get diagnostics v_tickets = row_count;
  return v_events + v_tickets;
end $$;
