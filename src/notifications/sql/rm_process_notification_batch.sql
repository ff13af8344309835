-- A notifications job in one statement (issue 17): the events of one org, each as
-- rm_process_notifications decides it, in one implicit transaction and one round trip instead of
-- BEGIN, the tenant entry, the participants' lock, a call an event and COMMIT. Enters the org's
-- tenant (app.org_id; no user), then locks the participant rows of every thread the events touch,
-- ordered by (thread, user): the order a send locks them in, so a batch and a send never wait on
-- each other in a cycle. A job can start before the relay that dispatched it has committed (it adds
-- the jobs to Redis inside its transaction): such an event's consumer row is not visible yet, and
-- its work waits for the relay's commit on the event's lock. That wait comes first, before the
-- participant locks, so that sends on the batch's threads do not wait behind it (BENCHMARKS.md,
-- "Where a send's PostgreSQL time goes now"). p_traces[i] is the W3C trace context that event i's
-- work continues (its consumer span), or null. Returns each event's status, in the order given.
create or replace function rm_process_notification_batch(p_org uuid, p_events uuid[], p_traces text[])
returns table (event_id uuid, status text)
language plpgsql as $$
declare
  v_set text;
  i integer;
begin
  v_set := set_config('app.org_id', p_org::text, true);
  v_set := set_config('app.user_id', '', true);
  -- Key-share, as rm_process_notifications would take it: waits for the relay's FOR UPDATE only.
  perform 1 from outbox_events e
    where e.org_id = p_org and e.id = any(p_events)
      and not exists (select 1 from event_consumers c
                       where c.org_id = e.org_id and c.event_id = e.id and c.consumer = 'notifications')
    for key share of e;
  perform 1 from thread_participants tp
    where tp.thread_id in (select e.thread_id from outbox_events e where e.id = any(p_events))
    order by tp.thread_id, tp.user_id
    for no key update of tp;
  for i in 1 .. coalesce(array_length(p_events, 1), 0) loop
    v_set := set_config('rm.traceparent', coalesce(p_traces[i], ''), true);
    event_id := p_events[i];
    select r.status into status from rm_process_notifications(p_events[i]) r;
    return next;
  end loop;
end $$;
