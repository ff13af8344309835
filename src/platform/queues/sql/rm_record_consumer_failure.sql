-- A consumer attempt failed: count it, keep the error, and say when it is due again (or dead).
-- The consumer row is written when missing, with its event key-share locked (as a foreign key
-- would: pruning cannot take the event meanwhile); an event already gone gets none.
create or replace function rm_record_consumer_failure(p_event uuid, p_consumer text, p_error text, p_retry_in interval, p_dead boolean)
returns void
language sql as $$
insert into event_consumers (event_id, org_id, consumer, next_attempt_at)
  select e.id, e.org_id, p_consumer, now() + p_retry_in from outbox_events e
   where e.id = p_event
     for key share
  on conflict do nothing;
update event_consumers set attempts = attempts + 1, last_error = left(p_error, 2000),
       next_attempt_at = now() + p_retry_in, dead_at = case when p_dead then now() end
 where event_id = p_event and consumer = p_consumer and done_at is null
$$;
