-- Deletes published events whose consumers are all done (or dead), once older than p_age, with
-- their consumer rows (SECURITY DEFINER: pruning crosses orgs). The consumer rows have no foreign
-- key to their event (issue 17: its check ran on every consumer row written, three a send, and
-- locked the event), so they go here, in the same statement; a pending consumer row whose event is
-- gone (none is written so: its writers insert it with its event, or after locking it) is swept
-- once older than p_age, through the pending rows' index.
create or replace function rm_relay_prune(p_age interval)
returns integer
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_count integer;
begin
  with gone as (
    delete from outbox_events e
     where e.published_at is not null and e.created_at < now() - p_age
       and not exists (select 1 from event_consumers c
                        where c.org_id = e.org_id and c.event_id = e.id and c.done_at is null and c.dead_at is null)
    returning e.org_id, e.id
  ), consumers as (
    delete from event_consumers c using gone g
     where c.org_id = g.org_id and c.event_id = g.id
  )
  select count(*) into v_count from gone;
  delete from event_consumers c
   where c.done_at is null and c.dead_at is null and c.next_attempt_at < now() - p_age
     and not exists (select 1 from outbox_events e where e.org_id = c.org_id and e.id = c.event_id);
  return v_count;
end $$;
