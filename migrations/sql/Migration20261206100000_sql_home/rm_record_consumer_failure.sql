-- A consumer attempt failed: count it, keep the error, and say when it is due again (or dead).
create or replace function rm_record_consumer_failure(p_event uuid, p_consumer text, p_error text, p_retry_in interval, p_dead boolean)
returns void
language sql as $$
insert into event_consumers (event_id, org_id, consumer, next_attempt_at)
  values (p_event, nullif(current_setting('app.org_id', true), '')::uuid, p_consumer, now() + p_retry_in)
  on conflict do nothing;
update event_consumers set attempts = attempts + 1, last_error = left(p_error, 2000),
       next_attempt_at = now() + p_retry_in, dead_at = case when p_dead then now() end
 where event_id = p_event and consumer = p_consumer and done_at is null
$$;
