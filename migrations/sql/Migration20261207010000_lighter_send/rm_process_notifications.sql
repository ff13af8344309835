-- The notifications consumer of one event, in the event's tenant transaction. Idempotent: the
-- consumer row is locked and marked done here, so a duplicate job finds it done. Statuses:
-- notified | skipped | duplicate | vanished.
--
-- - thread.created → a thread.started notification for the recipient (not for a 'silent' start,
--   by someone the recipient blocks).
-- - message.created → coalesced into the recipient's open message.received notification for that
--   thread and sender (count grows), unless withheld, deleted or already read. The first message of
--   a new thread is covered by thread.started. Whether a message notifies is decided when it is sent
--   (withheld or not), not by the worker's timing; the inbox hides a blocked sender's notifications
--   while the block lasts.
-- The recipient's participant row is locked first, which orders this with their reads. A
-- notification created (or coalesced) writes a notification.created event for the recipient's
-- event streams.
-- Few statements an event (issue 17): the event with its consumer row (locked) in one, the
-- message with the recipient's participant row (locked) and membership in one.
create or replace function rm_process_notifications(p_event uuid)
returns table (status text)
language plpgsql as $$
declare
  v_org uuid := nullif(current_setting('app.org_id', true), '')::uuid;
  v_event record;
  v_msg record;
  v_recipient uuid;
  v_active boolean;
  v_result text := 'skipped';
  v_notification uuid;
begin
  -- The event and its consumer row, locked: a duplicate job finds it done. The relay wrote the
  -- row; it is written here only when missing.
  select e.type, e.thread_id, e.message_id, e.actor_id, e.data, e.created_at, c.done_at into v_event
    from event_consumers c
    join outbox_events e on e.org_id = c.org_id and e.id = c.event_id
   where c.event_id = p_event and c.consumer = 'notifications'
     for no key update of c;
  if not found then
    perform 1 from outbox_events e where e.id = p_event;
    if not found then
      return query select 'vanished'::text;
      return;
    end if;
    insert into event_consumers (event_id, org_id, consumer, next_attempt_at)
      values (p_event, v_org, 'notifications', now() + interval '1 minute')
      on conflict do nothing;
    select e.type, e.thread_id, e.message_id, e.actor_id, e.data, e.created_at, c.done_at into v_event
      from event_consumers c
      join outbox_events e on e.org_id = c.org_id and e.id = c.event_id
     where c.event_id = p_event and c.consumer = 'notifications'
       for no key update of c;
  end if;
  if v_event.done_at is not null then
    return query select 'duplicate'::text;
    return;
  end if;

  if v_event.type = 'thread.created' and not coalesce(v_event.data ->> 'silent', '') = 'true' then
    v_recipient := (v_event.data ->> 'recipientId')::uuid;
    perform 1 from thread_participants tp
      where tp.thread_id = v_event.thread_id and tp.user_id = v_recipient for no key update;
    select m.active into v_active from memberships m where m.org_id = v_org and m.user_id = v_recipient;
    if found and v_active then
      insert into notifications (org_id, user_id, type, thread_id, actor_id, count, created_at, updated_at)
        values (v_org, v_recipient, 'thread.started', v_event.thread_id, v_event.actor_id, 1, v_event.created_at, v_event.created_at)
        returning id into v_notification;
      v_result := 'notified';
    end if;
  elsif v_event.type = 'message.created' and not coalesce(v_event.data ->> 'first', '') = 'true' then
    -- The message with its recipient: their participant row (locked) and membership.
    select m.thread_id, m.sender_id, m.seq, m.withheld, m.deleted_at,
           tp.user_id, tp.last_read_seq, ms.active into v_msg
      from messages m
      join thread_participants tp
        on tp.org_id = m.org_id and tp.thread_id = m.thread_id and tp.other_user_id = m.sender_id
      join memberships ms on ms.org_id = tp.org_id and ms.user_id = tp.user_id
     where m.id = v_event.message_id
       for no key update of tp;
    if found and not v_msg.withheld and v_msg.deleted_at is null and v_msg.active
       and v_msg.last_read_seq < v_msg.seq then
      insert into notifications (org_id, user_id, type, thread_id, actor_id, count, created_at, updated_at)
        values (v_org, v_msg.user_id, 'message.received', v_msg.thread_id, v_msg.sender_id, 1, now(), now())
        on conflict (org_id, user_id, thread_id, actor_id) where read_at is null and type = 'message.received'
        do update set count = notifications.count + 1, updated_at = now()
        returning id into v_notification;
      v_result := 'notified';
    end if;
  end if;

  -- The recipient's event streams hear of it (a coalesced notification again, with its new count).
  -- The event streams are its only consumer (their row comes with it): it is written published,
  -- the relay has nothing to route.
  if v_notification is not null then
    insert into outbox_events (id, org_id, type, thread_id, actor_id, data, created_at, published_at)
      values (rm_uuid_v7(), v_org, 'notification.created', v_event.thread_id, v_event.actor_id,
              jsonb_build_object('notificationId', v_notification), now(), now());
  end if;
  update event_consumers c set done_at = now(), attempts = c.attempts + 1, last_error = null
    where c.event_id = p_event and c.consumer = 'notifications';
  return query select v_result;
end $$;
