-- The trigger of outbox_events (after insert, for each statement): every event is the event
-- streams' work at once, in the transaction that writes it. The event pump can start as soon as
-- that transaction commits, without waiting for the relay (which routes the other consumers and
-- needs Redis for them: the streams need PostgreSQL only). Runs as the writer, under its tenant.
create or replace function rm_outbox_stream_consumer()
returns trigger
language plpgsql as $$
begin
  insert into event_consumers (event_id, org_id, consumer, next_attempt_at)
  select i.id, i.org_id, 'events', now() from inserted i
  on conflict do nothing;
  return null;
end $$;
